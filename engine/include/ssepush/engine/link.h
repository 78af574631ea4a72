#pragma once
// An outbound TCP connection driven by one shard's ring: how a shard talks to
// a backend (a Redis server, an upstream) without a thread of its own. The
// engine knows nothing of what the bytes mean.
//
//   // on shard `sh`'s thread (a task, a handler, a shard-start hook):
//   engine::link* l = sh.open_link(opts, my_handler);   // connects now
//   l->send("PING\r\n");                                 // queued, sent this turn
//   ...                                                  // my_handler.on_link_data(...)
//   l->close();                                          // no more callbacks
//
// Connection: a non-blocking socket (a plain file descriptor: a shard has a
// handful of links, not thousands) connected with IORING_OP_CONNECT, bounded
// by `connect_timeout_ms` (a timer on the shard's wheel; TCP_NODELAY). Once
// up, one recv is always armed (into the link's own buffer) and at most one
// send is in flight; bytes queued in the meantime (send() calls of the same
// loop turn included) are appended and go out together when it completes.
// Short sends continue where they stopped.
//
// Loss and reconnection: a failed connect, a reset, EOF or a send error takes
// the link down: on_link_down() is called once (with ETIMEDOUT for a connect
// that timed out, ECONNRESET for EOF from the peer, otherwise the socket's
// errno), queued output is discarded, the socket is closed,
// and a new connect is tried after a delay drawn uniformly from [d/2, d]
// ("equal jitter"), where d starts at `backoff_min_ms` and doubles after each
// failure up to `backoff_max_ms`; a connection that came up resets d. So many
// nodes that lost the same backend do not come back in lock-step.
//
// Lifetime: links belong to their shard. close() stops it for good (any
// in-flight operation completes into storage the shard keeps until then); the
// handler is never called after close() returns. When the server stops, the
// shard closes its remaining links itself (calling no handler) and does not
// wait for them: a link never delays a graceful stop (server::on_shard_stop
// lets an owner close its links first).
//
// Re-entrancy: a handler may call send(), reset() or close() on its link (or
// any other) from inside on_link_up(), on_link_data() and on_link_down(); the
// link re-checks its state after every callback. The link object stays valid
// while a callback runs even if it closes the link.
//
// Threading: every method, and every callback, on the owning shard's thread.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ssepush::engine {

class link;

struct link_options {
    // Numeric IPv4 or IPv6 address (no name lookup on a shard thread), and port.
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::uint32_t connect_timeout_ms = 3000;
    std::uint32_t backoff_min_ms = 100;
    std::uint32_t backoff_max_ms = 5000;
    // send() refuses (returns false) once this many bytes wait to be sent; the
    // owner decides what that means (for Redis: the link is too slow, drop it).
    std::size_t max_queued_bytes = 64u << 20;
    // Receive buffer of the link (one recv in flight).
    std::size_t recv_buffer_size = 64u << 10;
};

class link_handler {
public:
    // Connected (again): anything the link needs at its start (AUTH, SELECT,
    // SUBSCRIBE, re-registration) is sent from here.
    virtual void on_link_up(link& l) = 0;
    // Bytes arrived, in order. The view is valid during the call only.
    virtual void on_link_data(link& l, std::string_view bytes) = 0;
    // Lost, or a connect attempt failed (`error`: a positive errno). Called once
    // per loss; a reconnect is already scheduled. Queued output is gone.
    virtual void on_link_down(link& l, int error) = 0;

protected:
    ~link_handler() = default;
};

// Counters of one link (read on its shard; copied out for monitoring).
struct link_stats {
    std::uint64_t connects = 0;  // times it came up
    std::uint64_t failures = 0;  // failed connect attempts and losses
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
};

class link {
public:
    enum class state : std::uint8_t { connecting, up, waiting, closed };

    // Queues bytes; they go out with the current loop turn. False if the link
    // is not up or the queue would exceed max_queued_bytes (nothing queued).
    // queued_bytes() counts what is queued plus what the send in flight has
    // not yet sent.
    bool send(std::string_view bytes);
    // Closes now: queued output is dropped, no reconnect, no more callbacks.
    // The pointer must not be used afterwards (the shard frees the link once
    // nothing is in flight).
    void close() noexcept;
    // Drops the connection as if it had been lost (on_link_down is called and
    // a reconnect scheduled): for a protocol error the owner detected. Also
    // abandons a connect in progress; does nothing while waiting or closed.
    // `error` <= 0 is reported as ECONNRESET.
    void reset(int error) noexcept;

    [[nodiscard]] state current() const noexcept { return state_; }
    [[nodiscard]] bool up() const noexcept { return state_ == state::up; }
    [[nodiscard]] std::size_t queued_bytes() const noexcept;
    [[nodiscard]] const link_stats& stats() const noexcept { return stats_; }
    [[nodiscard]] const link_options& options() const noexcept { return opts_; }

    link(const link&) = delete;
    link& operator=(const link&) = delete;

private:
    friend class shard;
    struct impl;  // socket, buffers, timer, generation: engine/src/link.cc

    link(class shard& sh, link_options o, link_handler& h, std::uint32_t slot, std::uint32_t gen);
    ~link();

    class shard& shard_;
    link_options opts_;
    link_handler* handler_;  // null once closed
    std::uint32_t slot_;
    state state_ = state::connecting;
    link_stats stats_;
    std::unique_ptr<impl> impl_;
};

}  // namespace ssepush::engine
