#include "ops.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "ssepush/engine/shard.h"

namespace ssepushd {

namespace eng = ssepush::engine;
namespace ev_ns = ssepush::events;

namespace {

using precise = std::chrono::steady_clock;

struct scrape {
    scrape(eng::server& s, ev_ns::server_events& e, eng::conn_id c, unsigned o)
        : srv(s), ev(e), conn(c), origin(o), lag(s.shard_count(), 0.0), left(s.shard_count()) {}
    eng::server& srv;
    ev_ns::server_events& ev;
    eng::conn_id conn;
    unsigned origin;
    precise::time_point started = precise::now();
    std::vector<double> lag;  // seconds, per shard
    std::atomic<unsigned> left;
    const ev_ns::redis_provider* redis = nullptr;
};

void metric(std::string& out, const char* name, const char* type, const char* help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, const char* name, double v, int shard = -1) {
    char buf[160];
    if (shard >= 0) {
        std::snprintf(buf, sizeof buf, "%s{shard=\"%d\"} %.17g\n", name, shard, v);
    } else {
        std::snprintf(buf, sizeof buf, "%s %.17g\n", name, v);
    }
    out += buf;
}

std::string render(scrape& s) {
    std::string out;
    out.reserve(8192);
    const unsigned n = s.srv.shard_count();
    std::vector<eng::stats_snapshot> per(n);
    for (unsigned i = 0; i < n; ++i)
        per[i] = s.srv.shard_at(i).stats().snapshot();

    struct engine_metric {
        const char* name;
        const char* type;
        const char* help;
        std::uint64_t eng::stats_snapshot::*field;
    };
    static const engine_metric k_engine[] = {
        {"ssepush_connections", "gauge", "Open TCP connections.",
         &eng::stats_snapshot::open_connections},
        {"ssepush_streams", "gauge", "Open event streams.", &eng::stats_snapshot::open_streams},
        {"ssepush_connections_accepted_total", "counter", "Connections accepted.",
         &eng::stats_snapshot::accepted},
        {"ssepush_connections_closed_total", "counter", "Connections closed.",
         &eng::stats_snapshot::closed},
        {"ssepush_requests_total", "counter", "HTTP requests parsed.",
         &eng::stats_snapshot::requests},
        {"ssepush_bad_requests_total", "counter", "Requests refused by the parser (4xx/5xx).",
         &eng::stats_snapshot::bad_requests},
        {"ssepush_frames_queued_total", "counter", "Frames queued to connections.",
         &eng::stats_snapshot::frames_queued},
        {"ssepush_sent_bytes_total", "counter", "Bytes written to sockets.",
         &eng::stats_snapshot::bytes_sent},
        {"ssepush_queued_bytes", "gauge", "Bytes waiting in out-queues.",
         &eng::stats_snapshot::queued_bytes},
        {"ssepush_frames_dropped_total", "counter",
         "Frames dropped by the drop-oldest slow-consumer policy.",
         &eng::stats_snapshot::frames_dropped},
        {"ssepush_slow_consumer_disconnects_total", "counter",
         "Streams closed because their out-queue overflowed.",
         &eng::stats_snapshot::slow_consumer_closes},
        {"ssepush_write_stall_disconnects_total", "counter",
         "Streams closed because queued bytes did not move.",
         &eng::stats_snapshot::write_stall_closes},
        {"ssepush_header_timeouts_total", "counter", "Requests cut at the header deadline.",
         &eng::stats_snapshot::header_timeouts},
        {"ssepush_idle_timeouts_total", "counter", "Keep-alive connections closed when idle.",
         &eng::stats_snapshot::idle_timeouts},
    };
    for (const auto& m : k_engine) {
        metric(out, m.name, m.type, m.help);
        for (unsigned i = 0; i < n; ++i)
            sample(out, m.name, double(per[i].*m.field), int(i));
    }
    metric(out, "ssepush_loop_lag_seconds", "gauge",
           "How long a task posted to the shard waited before it ran (this scrape).");
    for (unsigned i = 0; i < n; ++i)
        sample(out, "ssepush_loop_lag_seconds", s.lag[i], int(i));

    const ev_ns::server_events::counters c = s.ev.stats();
    struct events_metric {
        const char* name;
        const char* type;
        const char* help;
        std::uint64_t ev_ns::server_events::counters::*field;
    };
    static const events_metric k_events[] = {
        {"ssepush_subscriptions", "gauge", "Server Events subscriptions.",
         &ev_ns::server_events::counters::subscriptions},
        {"ssepush_channels", "gauge", "Channels with at least one subscriber.",
         &ev_ns::server_events::counters::channels},
        {"ssepush_subscriptions_connected_total", "counter", "Subscriptions registered.",
         &ev_ns::server_events::counters::connects},
        {"ssepush_subscriptions_removed_total", "counter",
         "Subscriptions removed (unregister, disconnect, expiry).",
         &ev_ns::server_events::counters::unregisters},
        {"ssepush_subscriptions_expired_total", "counter",
         "Subscriptions removed by the idle timeout.", &ev_ns::server_events::counters::expired},
        {"ssepush_heartbeats_total", "counter", "Heartbeats served.",
         &ev_ns::server_events::counters::heartbeats},
        {"ssepush_publishes_total", "counter", "Notifications accepted (API and publish API).",
         &ev_ns::server_events::counters::publishes},
    };
    for (const auto& m : k_events) {
        metric(out, m.name, m.type, m.help);
        sample(out, m.name, double(c.*m.field));
    }
    if (s.redis) {
        const ev_ns::redis_status r = s.redis->status();
        struct redis_metric {
            const char* name;
            const char* type;
            const char* help;
            double v;
        };
        const redis_metric k_redis[] = {
            {"ssepush_redis_subscribed", "gauge",
             "1 while the pub/sub link to Redis is up and subscribed to the topic.",
             r.subscribed ? 1.0 : 0.0},
            {"ssepush_redis_command_links_up", "gauge", "Command links to Redis that are up.",
             double(r.command_links_up)},
            {"ssepush_redis_command_links", "gauge", "Command links to Redis (one per shard).",
             double(r.command_links)},
            {"ssepush_redis_connects_total", "counter", "Links to Redis that came up.",
             double(r.connects)},
            {"ssepush_redis_failures_total", "counter",
             "Failed connects to Redis and lost links (each retried with backoff).",
             double(r.failures)},
            {"ssepush_redis_published_total", "counter", "Notifications published to Redis.",
             double(r.published)},
            {"ssepush_redis_received_total", "counter", "Topic messages received from Redis.",
             double(r.received)},
            {"ssepush_redis_local_only_total", "counter",
             "Notifications delivered on this node only, while Redis was away.",
             double(r.local_only)},
            {"ssepush_redis_skipped_writes_total", "counter",
             "Subscription writes not sent while Redis was away (redone when it returns).",
             double(r.skipped_writes)},
            {"ssepush_redis_swept_total", "counter",
             "Stale subscriptions of gone nodes removed from Redis.", double(r.swept)},
        };
        for (const auto& m : k_redis) {
            metric(out, m.name, m.type, m.help);
            sample(out, m.name, m.v);
        }
    }
    return out;
}

}  // namespace

void install_ops(eng::server& srv, ev_ns::server_events& ev, const ev_ns::redis_provider* redis) {
    const auto get = eng::method_set::of({ssepush::proto::method::get});
    srv.route(get, "/health", [&srv, redis](eng::exchange& ex) {
        auto st = srv.stats();
        std::string body = "{\"status\":\"ok\",\"shards\":" + std::to_string(srv.shard_count()) +
                           ",\"connections\":" + std::to_string(st.open_connections);
        if (redis) {
            // Still "ok" without Redis: this node serves its own subscribers.
            const ev_ns::redis_status r = redis->status();
            const bool up = r.subscribed && r.command_links_up == r.command_links;
            body += std::string(",\"redis\":\"") + (up ? "up" : "down") + "\"";
        }
        ex.respond(200, "application/json", body + "}\n");
    });
    srv.route(get, "/metrics", [&srv, &ev, redis](eng::exchange& ex) {
        // Scatter a probe to every shard, answer when the last one has run.
        ex.defer();
        const unsigned n = srv.shard_count();
        auto s = std::make_shared<scrape>(srv, ev, ex.connection(), ex.owner().index());
        s->redis = redis;
        for (unsigned i = 0; i < n; ++i) {
            srv.run_on(i, [s, i](eng::shard&) {
                s->lag[i] = std::chrono::duration<double>(precise::now() - s->started).count();
                if (s->left.fetch_sub(1) != 1) return;
                s->srv.run_on(s->origin, [s](eng::shard& home) {
                    home.respond(s->conn, 200, "text/plain; version=0.0.4; charset=utf-8",
                                 render(*s));
                });
            });
        }
    });
}

}  // namespace ssepushd
