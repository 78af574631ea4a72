#pragma once
// A shard: one thread, pinned to one core, with its own io_uring ring,
// listening socket, connections, provided-buffer ring, timer wheel and
// out-queues. Everything a connection touches lives on its shard, so the hot
// paths take no locks and share no cache lines with other cores.
//
// Loop phases, each turn:
//   inbox (cross-shard and foreign messages) -> completions (accept, recv ->
//   parse -> handlers, send progress) -> timers -> deferred closes -> flush
//   (one send per connection with queued frames) -> outbox (cross-shard rings,
//   wake-ups) -> submit and wait.
//
// The public methods below may be called only on this shard's own thread:
// from a route handler, a stream hook, a timer callback, or a task sent with
// `run_on()`. Other threads reach a shard through `server::run_on()`.
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ssepush/engine/frame.h"
#include "ssepush/engine/http.h"
#include "ssepush/engine/link.h"
#include "ssepush/engine/message.h"
#include "ssepush/engine/mpsc_queue.h"
#include "ssepush/engine/options.h"
#include "ssepush/engine/spsc_ring.h"
#include "ssepush/engine/stats.h"
#include "ssepush/engine/timer_wheel.h"
#include "ssepush/engine/types.h"

struct io_uring_cqe;

namespace ssepush::engine {

class server;
class uring;
class buf_ring;

namespace detail {
struct conn;
class conn_slab;
struct send_ctx;
class router;
struct shard_mesh;
struct foreign_message;
}  // namespace detail

class shard {
public:
    [[nodiscard]] unsigned index() const noexcept { return index_; }
    [[nodiscard]] server& owner() const noexcept { return *server_; }
    [[nodiscard]] const server_options& options() const noexcept { return opts_; }

    // The shard whose thread is calling, or nullptr on any other thread.
    [[nodiscard]] static shard* current() noexcept;

    // Milliseconds on the shard's monotonic clock, read once per loop turn.
    [[nodiscard]] std::uint64_t now_ms() const noexcept { return now_ms_; }
    [[nodiscard]] timer_wheel& timers() noexcept { return timers_; }

    // Next SSE event id of this shard: strictly increasing, and names the shard
    // in its low bits (see docs/architecture.md, "Event ids").
    [[nodiscard]] std::uint64_t next_event_id() noexcept {
        return (++event_seq_ << k_event_id_shard_bits) | index_;
    }
    static constexpr unsigned k_event_id_shard_bits = 6;

    // Appends a frame to a stream's out-queue (takes its own reference). The
    // bytes go out with the next flush of this loop turn, coalesced with
    // anything else queued for that stream. Returns false if the stream is gone
    // or closing. Never blocks and never slows other streams: an over-full
    // queue is handled by the slow-consumer policy.
    bool send(stream_ref s, frame* f) noexcept;
    // Fan-out: the same frame to many streams, one reference taken for all.
    std::size_t send(const stream_ref* streams, std::size_t n, frame* f) noexcept;

    // Prepares the sends for every stream with queued frames now, instead of at
    // the end of this loop turn; the kernel sees them at the next submit.
    void flush() noexcept { flush_dirty(); }

    // Ends a stream gracefully: queued frames are flushed, then the stream's
    // terminator (last chunk) is sent and the connection closed.
    void end_stream(stream_ref s) noexcept;
    // Closes now, dropping queued frames.
    void close(stream_ref s, close_reason why) noexcept;
    // The stream with this id if it is alive on this shard.
    [[nodiscard]] stream_ref find(conn_id id) const noexcept;

    // Answers a request that was `defer()`red on this shard. False if the
    // connection is gone or was not waiting for an answer.
    bool respond(conn_id id, const response& r);
    bool respond(conn_id id, std::uint16_t status, std::string_view content_type,
                 std::string_view body, std::string_view extra_headers = {}) {
        return respond(id, response{status, content_type, body, extra_headers, {}});
    }

    // Runs f(shard&) on shard `target` (possibly this one, then at the start of
    // the next loop turn). Order is FIFO per (sender, target).
    template <class Fn>
    void run_on(unsigned target, Fn&& fn);
    // Posts a raw message (no allocation) to `target`.
    void post(unsigned target, const shard_message& m) noexcept;

    // Opens an outbound TCP link (see link.h) owned by this shard and starts
    // connecting at once; `h` is called on this thread and must outlive the
    // link (until close(), or until the server stops). The pointer stays
    // valid until close() is called on it (it is freed at the end of that loop
    // turn, or once nothing is in flight) or until the shard ends. Throws
    // std::invalid_argument naming the bad field: a host that is not a numeric
    // IPv4/IPv6 address, port 0, connect_timeout_ms 0, backoff_max_ms below
    // backoff_min_ms, recv_buffer_size 0 or over 1 GiB. On a shard that is
    // stopping, the link is returned closed: it never connects or calls back
    // (links closed while the shard stops stay valid until it ends).
    link* open_link(link_options o, link_handler& h);

    [[nodiscard]] const shard_stats& stats() const noexcept { return stats_; }

    // Bytes queued on a stream (0 if gone); for tests and diagnostics.
    [[nodiscard]] std::size_t queued_bytes(stream_ref s) const noexcept;

    ~shard();
    shard(const shard&) = delete;
    shard& operator=(const shard&) = delete;

private:
    friend class server;
    friend class exchange;
    friend class stream_ref;
    friend class link;
    friend struct link::impl;

    shard(server& owner, unsigned index, const server_options& opts, int listen_fd,
          const detail::router& routes, detail::shard_mesh& mesh);

    // --- thread and loop (shard.cc) ---
    void thread_main() noexcept;
    void setup();
    void loop();
    void teardown() noexcept;
    void drain_inbox() noexcept;
    void reap_completions() noexcept;
    void dispatch(const io_uring_cqe& cqe) noexcept;
    void flush_outbox() noexcept;
    void wait_for_work() noexcept;
    void begin_stop() noexcept;
    void update_clock() noexcept;
    void arm_accept() noexcept;
    void arm_eventfd_read() noexcept;
    void on_accept(const io_uring_cqe& cqe) noexcept;
    void request_stop_from_any_thread() noexcept;
    void wake_from_any_thread() noexcept;
    void deliver_remote(shard_message& m) noexcept;
    [[nodiscard]] bool inbox_empty() const noexcept;

    // --- outbound links (link.cc) ---
    void on_link_cqe(const io_uring_cqe& cqe) noexcept;
    void flush_links() noexcept;  // starts the sends links queued this turn
    void reap_links() noexcept;   // frees closed links with nothing in flight
    void close_links() noexcept;  // at stop: closes every link, no handler called
    void free_links() noexcept;   // at teardown, once the ring is gone

    // --- connections (conn.cc) ---
    void conn_open(int file_slot) noexcept;
    void arm_recv(detail::conn& c) noexcept;
    void on_recv(detail::conn& c, const io_uring_cqe& cqe) noexcept;
    void on_peername(detail::conn& c, const io_uring_cqe& cqe) noexcept;
    void on_send(detail::conn& c, const io_uring_cqe& cqe) noexcept;
    void on_close_op(detail::conn& c, const io_uring_cqe& cqe) noexcept;
    void process_input(detail::conn& c, const char* data, std::size_t len) noexcept;
    void drain_rx(detail::conn& c) noexcept;
    bool parse_and_dispatch(detail::conn& c, std::string_view& buf, bool from_rx) noexcept;
    void run_handler(detail::conn& c, const proto::request& req) noexcept;
    void send_error(detail::conn& c, std::uint16_t status, std::string_view reason) noexcept;
    void respond_on(detail::conn& c, const proto::request* req, bool keep_alive, const response& r);
    stream_ref open_stream_on(detail::conn& c, const proto::request& req, const stream_options& o);
    void after_response(detail::conn& c) noexcept;
    bool enqueue(detail::conn& c, frame* f) noexcept;
    void apply_slow_consumer_policy(detail::conn& c, std::size_t incoming) noexcept;
    void mark_dirty(detail::conn& c) noexcept;
    void flush_dirty() noexcept;
    void start_send(detail::conn& c) noexcept;
    void schedule_close(detail::conn& c, close_reason why) noexcept;
    void process_closes() noexcept;
    void finish_close(detail::conn& c) noexcept;
    void maybe_free(detail::conn& c) noexcept;
    void on_conn_timer(detail::conn& c) noexcept;
    static void conn_timer_cb(timer_node& t) noexcept;
    void set_deadline(detail::conn& c, std::uint8_t kind, std::uint32_t ms) noexcept;
    void rearm_starved_recvs() noexcept;
    void append_common_headers(std::string& out) const;
    [[nodiscard]] std::string_view http_date() noexcept;

    server* server_;
    unsigned index_;
    server_options opts_;
    int listen_fd_;
    int listen_family_ = 0;
    const detail::router& routes_;
    detail::shard_mesh& mesh_;

    std::unique_ptr<uring> ring_;
    std::unique_ptr<buf_ring> bufs_;
    std::unique_ptr<detail::conn_slab> conns_;
    timer_node accept_retry_timer_;  // declared before timers_: outlives the wheel
    timer_wheel timers_;
    shard_stats stats_;

    std::uint64_t now_ms_ = 0;
    std::uint64_t event_seq_ = 0;
    std::int64_t date_second_ = -1;
    char date_buf_[32];

    std::vector<detail::conn*> dirty_;    // connections with frames to flush, in order
    std::vector<detail::conn*> closing_;  // closes to run after this phase
    std::vector<detail::conn*> starved_;  // recv stopped for lack of buffers
    std::vector<std::unique_ptr<detail::send_ctx[]>> send_ctx_chunks_;
    std::vector<detail::send_ctx*> send_ctx_free_;
    std::vector<link*> links_;  // by slot (null: free); owned, see reap_links()
    std::uint32_t link_gen_seed_ = 0;
    bool links_dirty_ = false;                        // a link has bytes to send
    bool links_reap_ = false;                         // a closed link may be freed
    std::vector<std::deque<shard_message>> backlog_;  // per target, when its ring was full
    shard_mask wake_targets_ = 0;

    int event_fd_ = -1;
    std::uint64_t event_fd_buf_ = 0;
    bool accept_armed_ = false;
    bool stopping_ = false;
    bool stop_deadline_passed_ = false;
    std::uint64_t stop_deadline_ms_ = 0;
    std::thread thread_;
    std::atomic<bool> stop_requested_{false};
    std::atomic<int> started_{0};  // 0 starting, 1 running, -1 failed
    std::string start_error_;

    frame* gap_marker_ = nullptr;
    proto::request req_;  // parse scratch, reused: a request is large (its header array)
};

}  // namespace ssepush::engine

template <class Fn>
void ssepush::engine::shard::run_on(unsigned target, Fn&& fn) {
    post(target, detail::make_task_message(std::forward<Fn>(fn)));
}
