#pragma once
// The embedded demo ssepushd serves with --demo: a page with a live event
// stream, a publish form, a tick every second, and /stats. It uses only the
// engine's public API (the ServiceStack endpoints arrive with ssepush::events).
#include "ssepush/engine/server.h"

namespace ssepushd {

struct demo_options {
    unsigned tick_ms = 1000;  // 0: no ticks
};

// Registers the demo routes on `srv` (before srv.start()).
void install_demo(ssepush::engine::server& srv, const demo_options& opts);
// Starts the per-shard tick timers (after srv.start()).
void start_demo(ssepush::engine::server& srv, const demo_options& opts);
// Cancels them; returns once every shard has (before srv.stop()).
void stop_demo(ssepush::engine::server& srv);

}  // namespace ssepushd
