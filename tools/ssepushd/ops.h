#pragma once
// Operations endpoints:
//   GET /health   200 {"status":"ok",...} while serving
//   GET /metrics  Prometheus text format: connections, streams, subscriptions,
//                 channels, frames and bytes sent, drops, slow-consumer and
//                 write-stall disconnects, requests, publishes, heartbeats,
//                 expiries, and each shard's loop lag (the time a task posted
//                 to the shard waits before it runs, measured per scrape).
#include "ssepush/engine/server.h"
#include "ssepush/events/server_events.h"

namespace ssepushd {

void install_ops(ssepush::engine::server& srv, ssepush::events::server_events& ev);

}  // namespace ssepushd
