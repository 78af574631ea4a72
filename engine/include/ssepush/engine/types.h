#pragma once
// Small value types shared by the engine's public headers.
#include <netinet/in.h>

#include <cstdint>
#include <string>

namespace ssepush::engine {

class shard;

// Shards are numbered 0..n-1; at most k_max_shards, so a set of shards fits a
// 64-bit mask and a shard index fits the low bits of an event id.
inline constexpr unsigned k_max_shards = 64;
using shard_mask = std::uint64_t;

// Names one connection for its whole life, across shards:
// shard (8 bits) | generation (24 bits) | slot (32 bits). A slot is reused
// only with a new generation, so a stale id never reaches a newer connection.
struct conn_id {
    std::uint64_t value = 0;

    [[nodiscard]] unsigned shard() const noexcept { return unsigned(value >> 56); }
    [[nodiscard]] std::uint32_t generation() const noexcept {
        return std::uint32_t(value >> 32) & 0xffffffu;
    }
    [[nodiscard]] std::uint32_t slot() const noexcept { return std::uint32_t(value); }
    [[nodiscard]] bool valid() const noexcept { return value != 0; }

    static conn_id make(unsigned shard, std::uint32_t gen, std::uint32_t slot) noexcept {
        return conn_id{(std::uint64_t(shard) << 56) | (std::uint64_t(gen & 0xffffffu) << 32) |
                       slot};
    }
    friend bool operator==(conn_id, conn_id) = default;
};

// Why a connection ended (passed to stream hooks, counted in stats).
enum class close_reason : std::uint8_t {
    peer_closed,     // EOF or reset from the client
    io_error,        // a send or recv failed
    bad_request,     // the parser rejected the input (4xx/5xx sent first)
    header_timeout,  // request head/body not complete by the deadline (slowloris)
    idle_timeout,    // keep-alive connection idle too long
    write_stall,     // queued data made no progress for write_stall_timeout
    slow_consumer,   // out-queue above its byte limit under the disconnect policy
    local_close,     // the application closed it (stream end, Connection: close)
    server_stop,     // graceful stop
};

[[nodiscard]] const char* to_string(close_reason r) noexcept;

// The client's address as the kernel saw it (IPv4 or IPv6).
struct peer_address {
    sockaddr_in6 storage{};  // also holds a sockaddr_in (family AF_INET)
    bool known = false;

    [[nodiscard]] int family() const noexcept { return storage.sin6_family; }
    [[nodiscard]] std::uint16_t port() const noexcept;
    // "127.0.0.1" / "::1"; empty when unknown.
    [[nodiscard]] std::string ip() const;
    [[nodiscard]] bool same_ip(const peer_address& other) const noexcept;
};

}  // namespace ssepush::engine
