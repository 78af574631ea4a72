#pragma once
// Everything a server can be told, with the defaults a demanding production
// deployment wants. Validated by `server`'s constructor, which throws
// std::invalid_argument naming the bad field.
#include <cstdint>
#include <string>

#include "ssepush/proto/http_request.h"

namespace ssepush::engine {

// What happens when a stream's out-queue would exceed `max_queue_bytes`.
enum class slow_consumer_policy : std::uint8_t {
    disconnect,   // close the stream (the client reconnects; others are untouched)
    drop_oldest,  // drop the oldest unsent frames, send a gap marker in their place
};

struct server_options {
    // Listening address (IPv4 or IPv6 literal) and port; 0 picks a free port.
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;
    // Shards (threads, rings). 0: one per online CPU. At most k_max_shards.
    unsigned shards = 0;
    bool pin_threads = true;  // pin shard i to CPU i % cpus

    // Connections per shard. Each is an io_uring direct descriptor, so the limit is
    // the ring's registered file table (up to RLIMIT_NOFILE per ring), not the
    // process fd table.
    unsigned max_connections_per_shard = 20000;
    unsigned listen_backlog = 4096;

    // io_uring sizing per shard.
    unsigned sq_entries = 4096;
    unsigned cq_entries = 32768;
    // Provided-buffer ring shared by all connections of a shard: idle connections
    // own no read buffer.
    unsigned recv_buffers = 1024;  // power of two
    unsigned recv_buffer_size = 2048;

    proto::parser_limits limits;

    // Deadlines, milliseconds.
    std::uint32_t header_timeout_ms = 10'000;       // a request's head+body must arrive within this
    std::uint32_t keepalive_timeout_ms = 60'000;    // idle keep-alive connection
    std::uint32_t write_stall_timeout_ms = 30'000;  // queued bytes with no send progress
    std::uint32_t drain_timeout_ms = 5'000;         // graceful stop: time to flush streams

    // Out-queue of each connection.
    std::uint32_t max_queue_bytes = 1024 * 1024;
    slow_consumer_policy slow_consumer = slow_consumer_policy::disconnect;

    // Kernel send buffer per connection (SO_SNDBUF), 0 = the kernel's autotuning.
    // Bounding it bounds the kernel memory a stalled client can pin, and makes
    // the out-queue (and so the slow-consumer policy) take over sooner.
    std::uint32_t socket_send_buffer = 0;

    // The shards' clock, in milliseconds, read once per loop turn: null means
    // CLOCK_MONOTONIC_COARSE. Tests inject a manual clock here to drive every
    // deadline deterministically (then wake the shards, e.g. with run_on, to
    // make them see the new time).
    std::uint64_t (*clock)(void* ctx) noexcept = nullptr;
    void* clock_ctx = nullptr;

    // Timer wheel resolution.
    std::uint32_t timer_tick_ms = 8;

    // Sent as "Server:" when non-empty.
    std::string server_name = "ssepush";
};

}  // namespace ssepush::engine
