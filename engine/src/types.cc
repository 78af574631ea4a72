#include <arpa/inet.h>

#include <cstring>

#include "ssepush/engine/stats.h"
#include "ssepush/engine/types.h"

namespace ssepush::engine {

const char* to_string(close_reason r) noexcept {
    switch (r) {
        case close_reason::peer_closed:
            return "peer_closed";
        case close_reason::io_error:
            return "io_error";
        case close_reason::bad_request:
            return "bad_request";
        case close_reason::header_timeout:
            return "header_timeout";
        case close_reason::idle_timeout:
            return "idle_timeout";
        case close_reason::write_stall:
            return "write_stall";
        case close_reason::slow_consumer:
            return "slow_consumer";
        case close_reason::local_close:
            return "local_close";
        case close_reason::server_stop:
            return "server_stop";
    }
    return "unknown";
}

std::uint16_t peer_address::port() const noexcept {
    if (!known) return 0;
    if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
    return ntohs(storage.sin6_port);
}

std::string peer_address::ip() const {
    if (!known) return {};
    char buf[INET6_ADDRSTRLEN] = {};
    if (family() == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf,
                  sizeof buf);
    } else {
        inet_ntop(AF_INET6, &storage.sin6_addr, buf, sizeof buf);
    }
    return buf;
}

bool peer_address::same_ip(const peer_address& o) const noexcept {
    if (!known || !o.known || family() != o.family()) return false;
    if (family() == AF_INET) {
        return reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr ==
               reinterpret_cast<const sockaddr_in*>(&o.storage)->sin_addr.s_addr;
    }
    return std::memcmp(&storage.sin6_addr, &o.storage.sin6_addr, sizeof(in6_addr)) == 0;
}

stats_snapshot& stats_snapshot::operator+=(const stats_snapshot& o) noexcept {
    accepted += o.accepted;
    closed += o.closed;
    open_connections += o.open_connections;
    open_streams += o.open_streams;
    requests += o.requests;
    bad_requests += o.bad_requests;
    frames_queued += o.frames_queued;
    bytes_sent += o.bytes_sent;
    sends += o.sends;
    queued_bytes += o.queued_bytes;
    frames_dropped += o.frames_dropped;
    slow_consumer_closes += o.slow_consumer_closes;
    write_stall_closes += o.write_stall_closes;
    header_timeouts += o.header_timeouts;
    idle_timeouts += o.idle_timeouts;
    recv_no_buffers += o.recv_no_buffers;
    accept_errors += o.accept_errors;
    cross_shard_messages += o.cross_shard_messages;
    return *this;
}

stats_snapshot shard_stats::snapshot() const noexcept {
    stats_snapshot s;
    s.accepted = accepted.get();
    s.closed = closed.get();
    s.open_connections = open_connections.get();
    s.open_streams = open_streams.get();
    s.requests = requests.get();
    s.bad_requests = bad_requests.get();
    s.frames_queued = frames_queued.get();
    s.bytes_sent = bytes_sent.get();
    s.sends = sends.get();
    s.queued_bytes = queued_bytes.get();
    s.frames_dropped = frames_dropped.get();
    s.slow_consumer_closes = slow_consumer_closes.get();
    s.write_stall_closes = write_stall_closes.get();
    s.header_timeouts = header_timeouts.get();
    s.idle_timeouts = idle_timeouts.get();
    s.recv_no_buffers = recv_no_buffers.get();
    s.accept_errors = accept_errors.get();
    s.cross_shard_messages = cross_shard_messages.get();
    return s;
}

}  // namespace ssepush::engine
