#pragma once
// The Redis provider: many ssepush nodes (and ServiceStack servers using
// RedisServerEvents on the same Redis) act as one Server Events server
// (PROTOCOL.md 7, docs/scale-out.md).
//
//   engine::server srv(engine_opts);
//   auto redis = events::make_redis_provider(srv,
//   events::parse_redis_url("redis://10.0.0.5:6379")); events::server_events ev(srv, opts,
//   std::move(redis)); srv.start();
//
// What it does, in ServiceStack's own keys and messages:
//  - every notification is PUBLISHed on `sse:topic` as `notify.*` and
//    delivered by every node (this one included) when it comes back from
//    Redis, so each subscriber gets it exactly once;
//  - each held subscription is stored (`sse:id:{id}` as ServiceStack's
//    SubscriptionInfo JSON, the `sse:ids` score in .NET ticks, the channel,
//    user id, user name and session sets) when it registers or changes, and
//    deleted when it goes; its score is refreshed by every heartbeat served;
//  - a heartbeat, unregister or update for a subscription held elsewhere is
//    checked against `sse:id:{id}` and published as `pulse.id.X`,
//    `unregister.id.X`, `subscribe.id.X` / `unsubscribe.id.X`; the node that
//    holds it acts at once;
//  - anonymous user numbers come from `INCRBY sse:seq:anonUser` (a block per
//    shard at a time, fetched ahead), sequences from `sse:seq:{name}`;
//  - subscriptions whose `sse:ids` score is older than the idle timeout (their
//    node died: a live one is refreshed by every heartbeat) are removed from
//    Redis and `unregister.id.X` published, when shard 0's link comes up and
//    every half idle timeout after (ServiceStack does it when it starts).
//
// I/O: hiredis only parses replies (redisReader) and formats commands
// (redisFormatCommandArgv); the bytes travel on engine links, driven by the
// shards' io_uring loops. Each shard has one pipelined command connection;
// shard 0 also has the one pub/sub connection (SUBSCRIBE sse:topic).
//
// Redis going away: each link retries with backoff and jitter. Meanwhile the
// node keeps serving its own subscribers: notifications are delivered locally
// (other nodes miss them), state writes are skipped. When a command link comes
// back it stores every subscription its shard holds again; the pub/sub link
// subscribes again. Nothing is queued while Redis is away, so memory stays
// bounded; a link whose unsent output passes `max_queued_bytes` is dropped and
// re-established.
//
// Construct before srv.start() (it hooks each shard's start and stop).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ssepush/engine/server.h"
#include "ssepush/events/provider.h"

namespace ssepush::events {

struct redis_options {
    // A numeric IPv4/IPv6 address ("localhost" is accepted and means 127.0.0.1).
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string password;  // AUTH when not empty
    unsigned db = 0;       // SELECT when not 0
    // Prefix of every key and of the topic channel: ServiceStack's default.
    std::string prefix = "sse:";
    std::uint32_t connect_timeout_ms = 3000;
    std::uint32_t backoff_min_ms = 100;
    std::uint32_t backoff_max_ms = 5000;
    std::size_t max_queued_bytes = 64u << 20;  // unsent output per link
    // How long a synchronous query from a thread that is not a shard waits.
    std::uint32_t query_timeout_ms = 5000;
    // Anonymous numbers fetched per shard per INCRBY.
    unsigned sequence_block = 64;
};

// "redis://[:password@]host[:port][/db]" (the password URL-encoded; an IPv6
// host in brackets). Throws std::invalid_argument saying what is wrong
// ("redis URL: ..."; the URL is not repeated, it may hold a password).
[[nodiscard]] redis_options parse_redis_url(std::string_view url);
// The same URL with the password masked, for logs and --check-config.
[[nodiscard]] std::string redis_url(const redis_options& o);

// The links' state, for /metrics (any thread; relaxed reads).
struct redis_status {
    bool subscribed = false;  // the pub/sub link is up and subscribed to the topic
    unsigned command_links = 0;
    unsigned command_links_up = 0;
    std::uint64_t connects = 0;        // links that came up (every link, every time)
    std::uint64_t failures = 0;        // failed connects and lost links
    std::uint64_t published = 0;       // notifications sent to Redis
    std::uint64_t received = 0;        // topic messages received
    std::uint64_t local_only = 0;      // notifications delivered here only (Redis away)
    std::uint64_t skipped_writes = 0;  // state writes not sent (Redis away; redone on return)
    std::uint64_t swept = 0;           // stale subscriptions of gone nodes removed from Redis
};

class redis_provider : public provider {
public:
    [[nodiscard]] virtual redis_status status() const noexcept = 0;
};

std::unique_ptr<redis_provider> make_redis_provider(engine::server& srv, redis_options o);

}  // namespace ssepush::events
