#pragma once
// An engine server with ServiceStack Server Events on an ephemeral loopback
// port, for integration tests; optionally on a manual clock.
#include <future>
#include <memory>

#include "ssepush/engine/clock.h"
#include "ssepush/engine/server.h"
#include "ssepush/events/server_events.h"

namespace ssepush::testing {

class events_server {
public:
    explicit events_server(events::options eo = {}, engine::server_options o = default_options(),
                           bool manual_time = false)
        : srv_(with_clock(o, manual_time ? &clock_ : nullptr)), ev_(srv_, std::move(eo)) {}
    ~events_server() { srv_.stop(); }

    static engine::server_options default_options() {
        engine::server_options o;
        o.shards = 2;
        o.pin_threads = false;
        return o;
    }

    void start() { srv_.start(); }
    std::uint16_t port() const { return srv_.port(); }
    engine::server& srv() { return srv_; }
    events::server_events& ev() { return ev_; }

    // Runs fn on shard i and waits for it.
    template <class Fn>
    void on_shard(unsigned i, Fn fn) {
        std::promise<void> p;
        srv_.run_on(i, [&](engine::shard& s) {
            fn(s);
            p.set_value();
        });
        p.get_future().wait();
    }
    // Every shard has run two full loop turns: what was posted before is done.
    void settle() {
        for (int round = 0; round < 2; ++round)
            for (unsigned i = 0; i < srv_.shard_count(); ++i)
                on_shard(i, [](engine::shard&) {});
    }
    void advance(std::uint64_t ms) {
        clock_.advance(ms);
        settle();
    }

private:
    static engine::server_options with_clock(engine::server_options o, engine::manual_clock* c) {
        if (c) {
            o.clock = [](void* ctx) noexcept {
                return static_cast<engine::manual_clock*>(ctx)->now();
            };
            o.clock_ctx = c;
        }
        return o;
    }

    engine::manual_clock clock_{1'000'000};
    engine::server srv_;
    events::server_events ev_;
};

}  // namespace ssepush::testing
