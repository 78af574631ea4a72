#pragma once
// Per-shard counters. Written only by the owning shard (relaxed load+store, no
// read-modify-write on the hot path), readable from any thread.
#include <atomic>
#include <cstdint>

namespace ssepush::engine {

struct stats_snapshot {
    std::uint64_t accepted = 0;
    std::uint64_t closed = 0;
    std::uint64_t open_connections = 0;
    std::uint64_t open_streams = 0;
    std::uint64_t requests = 0;
    std::uint64_t bad_requests = 0;
    std::uint64_t frames_queued = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t sends = 0;
    std::uint64_t queued_bytes = 0;
    std::uint64_t frames_dropped = 0;
    std::uint64_t slow_consumer_closes = 0;
    std::uint64_t write_stall_closes = 0;
    std::uint64_t header_timeouts = 0;
    std::uint64_t idle_timeouts = 0;
    std::uint64_t recv_no_buffers = 0;
    std::uint64_t accept_errors = 0;
    std::uint64_t cross_shard_messages = 0;

    stats_snapshot& operator+=(const stats_snapshot& o) noexcept;
};

class shard_stats {
public:
    struct counter {
        std::atomic<std::uint64_t> v{0};
        void add(std::uint64_t n = 1) noexcept {
            v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
        }
        void sub(std::uint64_t n = 1) noexcept {
            v.store(v.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
        }
        [[nodiscard]] std::uint64_t get() const noexcept {
            return v.load(std::memory_order_relaxed);
        }
    };

    counter accepted, closed, open_connections, open_streams, requests, bad_requests, frames_queued,
        bytes_sent, sends, queued_bytes, frames_dropped, slow_consumer_closes, write_stall_closes,
        header_timeouts, idle_timeouts, recv_no_buffers, accept_errors, cross_shard_messages;

    [[nodiscard]] stats_snapshot snapshot() const noexcept;
};

}  // namespace ssepush::engine
