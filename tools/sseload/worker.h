#pragma once
// A subscriber worker: one thread, one io_uring ring, and its share of the
// connections as direct descriptors (so they do not count against the
// process's descriptor limit). It opens them at its share of the connect
// rate, reads each response as an SSE stream, checks every payload's sequence,
// records delivery latency, and, for ServiceStack servers, sends each
// subscription's heartbeats over a small pool of keep-alive connections from
// the same source address (servers check that a heartbeat comes from the
// subscriber's address).
#include <cstdint>

#include "shared.h"

namespace ssepush::sseload {

struct worker_plan {
    std::uint32_t index = 0;      // worker number
    std::uint32_t first = 0;      // first global connection number
    std::uint32_t count = 0;      // connections this worker holds
    std::uint32_t source_ip = 0;  // host byte order
    double connect_rate = 0;      // this worker's share, per second
    endpoint target;              // the server its streams go to
};

// Runs until shared.now == phase::stop. Errors that stop the worker are left
// in stats.error.
void run_worker(shared_state& shared, const worker_plan& plan, worker_stats& stats);

}  // namespace ssepush::sseload
