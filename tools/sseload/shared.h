#pragma once
// What sseload's threads share: the run's phase, each channel's publishing
// progress, and each worker's counters. Every field has one writer; readers
// take relaxed snapshots (a status line tolerates a counter being one turn old).
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "histogram.h"
#include "options.h"

namespace ssepush::sseload {

enum class phase : int {
    connect,  // opening connections (publishers idle)
    warmup,
    measure,  // publishing, churn and slow readers active
    drain,    // publishing stopped; waiting for the last deliveries
    final,    // workers settle their books against final_seq
    stop,
};

// One worker's numbers. Written only by its worker thread.
struct alignas(64) worker_stats {
    std::atomic<std::uint64_t> open{0};        // live subscriptions
    std::atomic<std::uint64_t> connecting{0};  // being opened
    std::atomic<std::uint64_t> opened_total{0};
    std::atomic<std::uint64_t> failed{0};      // connect errors, bad status, bad stream
    std::atomic<std::uint64_t> dropped{0};     // closed by the server while live
    std::atomic<std::uint64_t> reconnects{0};  // churn and after drops
    std::atomic<std::uint64_t> slow{0};        // subscribers that stopped reading
    std::atomic<std::uint64_t> delivered{0};   // payload events received
    std::atomic<std::uint64_t> lost{0};
    std::atomic<std::uint64_t> duplicated{0};
    std::atomic<std::uint64_t> out_of_order{0};
    std::atomic<std::uint64_t> other_events{0};  // events without a payload (system messages)
    std::atomic<std::uint64_t> on_heartbeat{0};
    std::atomic<std::uint64_t> hb_sent{0};
    std::atomic<std::uint64_t> hb_ok{0};
    std::atomic<std::uint64_t> hb_failed{0};
    std::atomic<std::uint64_t> bytes{0};
    std::atomic<std::uint64_t> behind{0};  // drain: live subscribers still missing messages
    std::atomic<std::uint64_t> behind_epoch{0};
    std::atomic<bool> settled{false};  // phase::final books closed
    std::string error;                 // set before the worker exits on a setup error

    // Latency samples of the current status interval: the worker merges into it
    // every few milliseconds, the collector takes it out.
    std::mutex m;
    histogram latency_interval;
    // Whole-run histograms: the worker's own, read after it has joined.
    histogram latency_total;
    histogram connect_total;
};

struct shared_state {
    explicit shared_state(const options& o)
        : opt(o),
          sent_seq(new std::atomic<std::uint32_t>[o.channels]),
          final_seq(new std::atomic<std::uint32_t>[o.channels]) {
        for (std::uint32_t c = 0; c < o.channels; ++c) {
            channel_names.push_back(o.channel_prefix + std::to_string(c));
            sent_seq[c].store(0, std::memory_order_relaxed);
            final_seq[c].store(0, std::memory_order_relaxed);
        }
    }
    const options& opt;
    std::vector<std::string> channel_names;
    // Highest sequence whose publish request has begun, per channel (seq 1 is first).
    std::unique_ptr<std::atomic<std::uint32_t>[]> sent_seq;
    // Set once publishing is over: the last sequence of each channel.
    std::unique_ptr<std::atomic<std::uint32_t>[]> final_seq;
    std::atomic<phase> now{phase::connect};
    std::atomic<std::uint64_t> drain_epoch{0};  // bump: workers recount `behind`
    std::atomic<std::uint64_t> published{0};
    std::atomic<std::uint64_t> publish_errors{0};
    std::atomic<std::uint64_t> first_publish_ns{0};
    std::atomic<std::uint64_t> last_publish_ns{0};
    std::atomic<std::uint64_t> last_delivery_ns{0};  // max over workers, updated coarsely
    std::string publish_error;  // first publish failure, written once under publish_error_m
    std::mutex publish_error_m;
    std::vector<std::unique_ptr<worker_stats>> workers;

    [[nodiscard]] std::uint64_t total(std::atomic<std::uint64_t> worker_stats::*f) const {
        std::uint64_t t = 0;
        for (const auto& w : workers)
            t += ((*w).*f).load(std::memory_order_relaxed);
        return t;
    }
};

// The channels subscriber number `i` joins: k consecutive channels starting at
// (i*k) mod C, so every channel gets the same number of subscribers.
inline std::uint32_t channel_of(const options& o, std::uint32_t i, std::uint32_t j) {
    return std::uint32_t((std::uint64_t(i) * o.channels_per_sub + j) % o.channels);
}

// Whether subscriber number i is one of the slow share: evenly spread.
inline bool is_slow(const options& o, std::uint32_t i) {
    if (o.scenario != scenario::slow || o.slow_share <= 0) return false;
    return std::uint64_t(double(i + 1) * o.slow_share) > std::uint64_t(double(i) * o.slow_share);
}

}  // namespace ssepush::sseload
