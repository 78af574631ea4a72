#pragma once
// Operations endpoints:
//   GET /health   200 {"status":"ok",...} while serving
//   GET /metrics  Prometheus text format: connections, streams, subscriptions,
//                 channels, frames and bytes sent, drops, slow-consumer and
//                 write-stall disconnects, requests, publishes, heartbeats,
//                 expiries, each shard's loop lag (the time a task posted
//                 to the shard waits before it runs, measured per scrape),
//                 and with Redis the state of its links.
#include "ssepush/engine/server.h"
#include "ssepush/events/redis_provider.h"
#include "ssepush/events/server_events.h"

namespace ssepushd {

// `redis`: the Redis provider when there is one (its link state is reported).
void install_ops(ssepush::engine::server& srv, ssepush::events::server_events& ev,
                 const ssepush::events::redis_provider* redis = nullptr);

}  // namespace ssepushd
