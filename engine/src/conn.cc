// Connection I/O on a shard: accept -> recv -> parse -> handler -> out-queue
// -> send, the deadlines, the slow-consumer policy, and the close sequence.
//
// Life of a connection:
//   conn_open: allocate a slot, ask for the peer address (uring_cmd
//     getsockopt SO_PEERNAME on the direct descriptor), arm multishot recv
//     into the shard's provided buffers, arm the header deadline.
//   on_recv: parse in place from the provided buffer; only a request that
//     spans receives is copied into a per-connection buffer. Complete requests
//     run their handler at once; pipelined ones follow in order.
//   answers and frames are queued (frame references) and flushed once per
//     loop turn with one send/sendmsg per connection.
//   schedule_close: marks the connection; process_closes (end of the phase)
//     runs the stream hook, then SHUTDOWN + CLOSE (hard-linked). The slot is
//     reused only when every completion the kernel owes it has arrived.
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <string>

#include "check.h"
#include "conn.h"
#include "router.h"
#include "ssepush/engine/server.h"
#include "ssepush/engine/shard.h"
#include "ssepush/proto/http_response.h"
#include "uring.h"

namespace ssepush::engine {

namespace {

// IORING_OP_URING_CMD on a socket: SOCKET_URING_OP_GETSOCKOPT (Linux 6.7).
// liburing 2.3's headers predate the named fields, so they are set by layout:
// cmd_op overlays `off`, level/optname overlay `addr`, optlen overlays
// `file_index`, optval overlays `addr3`.
constexpr std::uint32_t k_socket_uring_op_getsockopt = 2;
constexpr std::uint32_t k_socket_uring_op_setsockopt = 3;

void prep_sockopt(io_uring_sqe* sqe, std::uint32_t cmd, int file, int level, int optname,
                  const void* optval, std::uint32_t optlen) noexcept {
    std::memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_URING_CMD;
    sqe->fd = file;
    sqe->flags = IOSQE_FIXED_FILE;
    sqe->off = cmd;
    sqe->addr = std::uint64_t(std::uint32_t(level)) | (std::uint64_t(std::uint32_t(optname)) << 32);
    sqe->file_index = optlen;
    sqe->addr3 = reinterpret_cast<std::uint64_t>(optval);
}

detail::conn* conn_of(timer_node& t) noexcept {
    return &timer_owner(t, &detail::conn::timer);
}

// True if the request head at the start of `buf` carries "Expect: 100-continue".
// Only looked at once per request, when its head is complete and its body is not.
bool expects_continue(std::string_view buf) noexcept {
    std::size_t end = buf.find("\r\n\r\n");
    std::string_view head = buf.substr(0, end == std::string_view::npos ? buf.size() : end);
    auto lower = [](char ch) { return ch >= 'A' && ch <= 'Z' ? char(ch + 32) : ch; };
    static constexpr std::string_view k_name = "\nexpect:";
    for (std::size_t i = 0; i + k_name.size() <= head.size(); ++i) {
        std::size_t k = 0;
        while (k < k_name.size() && lower(head[i + k]) == k_name[k])
            ++k;
        if (k < k_name.size()) continue;
        std::size_t v = i + k;
        while (v < head.size() && (head[v] == ' ' || head[v] == '\t'))
            ++v;
        static constexpr std::string_view k_value = "100-continue";
        std::size_t m = 0;
        while (m < k_value.size() && v + m < head.size() && lower(head[v + m]) == k_value[m])
            ++m;
        return m == k_value.size();
    }
    return false;
}

// Scratch for building response heads; one per thread, reused.
std::string& scratch() {
    thread_local std::string s;
    s.clear();
    return s;
}

}  // namespace

// --- open ---------------------------------------------------------------

void shard::conn_open(int file_slot) noexcept {
    detail::conn* cp;
    try {
        cp = conns_->allocate();
    } catch (...) {
        io_uring_sqe* sqe = ring_->sqe();
        io_uring_prep_close_direct(sqe, unsigned(file_slot));
        sqe->user_data = detail::pack(detail::op::close, 0, UINT32_MAX);
        return;
    }
    detail::conn& c = *cp;
    if (c.gen == 0) c.gen = 1;
    c.file = file_slot;
    c.state = detail::conn_state::reading;
    c.ops = 0;
    c.parser.reset();
    c.rx = nullptr;
    c.rx_len = c.rx_cap = 0;
    c.rx_need = 0;
    c.hooks = nullptr;
    c.user = nullptr;
    c.gap_marker = nullptr;
    c.peer = peer_address{};
    c.timer_kind = detail::deadline::none;
    c.why = close_reason::local_close;
    c.recv_armed = c.send_inflight = c.dirty = false;
    c.keep_alive = true;
    c.close_after_flush = c.stream_chunked = c.request_seen = false;
    c.close_submitted = c.stream_open = false;
    c.send_ctx_ptr = nullptr;
    c.shard = std::uint16_t(index_);
    c.http10 = false;
    c.q.set_chunked(false);
    c.timer.set_callback(&shard::conn_timer_cb);
    stats_.open_connections.add();

    if (ring_->has_peername()) {
        std::uint32_t len = listen_family_ == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
        io_uring_sqe* sqe = ring_->sqe();
        prep_sockopt(sqe, k_socket_uring_op_getsockopt, c.file, SOL_SOCKET, SO_PEERNAME,
                     &c.peer.storage, len);
        sqe->user_data = detail::pack(detail::op::peername, c.gen, c.slot);
        ++c.ops;
        if (opts_.socket_send_buffer) {
            // The value is read during submission; a shard member outlives it.
            sqe = ring_->sqe();
            prep_sockopt(sqe, k_socket_uring_op_setsockopt, c.file, SOL_SOCKET, SO_SNDBUF,
                         &opts_.socket_send_buffer, sizeof(int));
            sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
            sqe->user_data = detail::pack(detail::op::none, 0, 0);
        }
    }
    arm_recv(c);
    set_deadline(c, std::uint8_t(detail::deadline::header), opts_.header_timeout_ms);
}

void shard::on_peername(detail::conn& c, const io_uring_cqe& cqe) noexcept {
    --c.ops;
    c.peer.known = cqe.res > 0;
    maybe_free(c);
}

// --- read ---------------------------------------------------------------

void shard::arm_recv(detail::conn& c) noexcept {
    io_uring_sqe* sqe = ring_->sqe();
    io_uring_prep_recv_multishot(sqe, c.file, nullptr, 0, 0);
    sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
    sqe->buf_group = bufs_->group();
    sqe->user_data = detail::pack(detail::op::recv, c.gen, c.slot);
    c.recv_armed = true;
    ++c.ops;
}

void shard::rearm_starved_recvs() noexcept {
    if (starved_.empty()) return;
    std::vector<detail::conn*> again;
    again.swap(starved_);
    for (detail::conn* c : again) {
        if (c->state == detail::conn_state::closing) {
            maybe_free(*c);
        } else if (!c->recv_armed) {
            arm_recv(*c);
        }
    }
}

void shard::on_recv(detail::conn& c, const io_uring_cqe& cqe) noexcept {
    const bool more = cqe.flags & IORING_CQE_F_MORE;
    if (!more) {
        c.recv_armed = false;
        --c.ops;
    }
    if (cqe.res > 0) {
        SSEPUSH_ASSERT(cqe.flags & IORING_CQE_F_BUFFER);
        auto bid = std::uint16_t(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
        if (c.state != detail::conn_state::closing)
            process_input(c, bufs_->buffer(bid), std::size_t(cqe.res));
        bufs_->recycle(bid);
        if (!more && c.state != detail::conn_state::closing) starved_.push_back(&c);
    } else if (cqe.res == 0) {
        schedule_close(c, close_reason::peer_closed);
    } else if (cqe.res == -ENOBUFS) {
        // Every provided buffer is busy: re-arm once this batch has given some back.
        stats_.recv_no_buffers.add();
        if (!more) starved_.push_back(&c);
    } else {
        schedule_close(c,
                       cqe.res == -ECONNRESET ? close_reason::peer_closed : close_reason::io_error);
    }
    if (c.state == detail::conn_state::closing) maybe_free(c);
}

void shard::process_input(detail::conn& c, const char* data, std::size_t len) noexcept {
    if (c.close_after_flush) return;  // answering an error or ending: input is moot
    if (c.state == detail::conn_state::streaming) return;  // a stream takes no input
    if (c.state == detail::conn_state::reading && !c.request_seen) {
        c.request_seen = true;
        if (c.timer_kind != detail::deadline::header)
            set_deadline(c, std::uint8_t(detail::deadline::header), opts_.header_timeout_ms);
    }
    std::string_view buf;
    if (c.rx_len == 0 && c.state == detail::conn_state::reading) {
        buf = std::string_view(data, len);
        parse_and_dispatch(c, buf, false);
        if (buf.empty() || c.state == detail::conn_state::closing || c.close_after_flush ||
            c.state == detail::conn_state::streaming)
            return;
        data = buf.data();
        len = buf.size();
    }
    // Keep the bytes: a request spanning receives, or input held while a
    // deferred answer is pending.
    const std::size_t cap_limit = std::size_t(opts_.limits.max_header_bytes) +
                                  opts_.limits.max_body_bytes + opts_.recv_buffer_size;
    if (c.rx_len + len > cap_limit) {
        send_error(c, 431, "request too large");
        return;
    }
    if (c.rx_len + len > c.rx_cap) {
        std::size_t ncap = c.rx_cap ? c.rx_cap : 512;
        while (ncap < c.rx_len + len)
            ncap *= 2;
        if (ncap > cap_limit) ncap = cap_limit;
        auto* n = static_cast<char*>(std::realloc(c.rx, ncap));
        if (!n) {
            schedule_close(c, close_reason::io_error);
            return;
        }
        c.rx = n;
        c.rx_cap = std::uint32_t(ncap);
    }
    std::memcpy(c.rx + c.rx_len, data, len);
    c.rx_len += std::uint32_t(len);
    if (c.state == detail::conn_state::reading) drain_rx(c);
}

void shard::drain_rx(detail::conn& c) noexcept {
    std::string_view buf(c.rx, c.rx_len);
    parse_and_dispatch(c, buf, true);
    // Keep only what was not consumed: also while a request in it waits for a
    // deferred answer (handling), since respond() drains the rest after it.
    if (buf.empty() || c.close_after_flush || c.state == detail::conn_state::closing ||
        c.state == detail::conn_state::streaming) {
        std::free(c.rx);
        c.rx = nullptr;
        c.rx_len = c.rx_cap = 0;
    } else if (buf.data() != c.rx) {
        std::memmove(c.rx, buf.data(), buf.size());
        c.rx_len = std::uint32_t(buf.size());
    }
}

bool shard::parse_and_dispatch(detail::conn& c, std::string_view& buf, bool) noexcept {
    while (!buf.empty() && c.state == detail::conn_state::reading && !c.close_after_flush) {
        if (!c.request_seen) {
            c.request_seen = true;
            set_deadline(c, std::uint8_t(detail::deadline::header), opts_.header_timeout_ms);
        }
        if (buf.size() < c.rx_need) return false;  // the body is still arriving
        proto::parse_result r = c.parser.parse(buf, opts_.limits, req_);
        if (r.status == proto::parse_status::incomplete) {
            if (r.consumed && !c.rx_need) {
                // Head complete, body pending: wait for all of it before parsing
                // again, and tell a client that asked (curl does for bodies over
                // 1 KiB) to go on sending it.
                c.rx_need = std::uint32_t(r.consumed);
                if (expects_continue(buf)) {
                    static frame* cont =
                        frame::make_static("HTTP/1.1 100 Continue\r\n\r\n", frame::k_raw);
                    (void)enqueue(c, cont);
                }
            }
            return false;
        }
        c.rx_need = 0;
        if (r.status == proto::parse_status::error) {
            stats_.bad_requests.add();
            send_error(c, r.http_status, r.reason);
            buf = {};
            return false;
        }
        c.parser.reset();
        c.request_seen = false;
        stats_.requests.add();
        run_handler(c, req_);
        buf.remove_prefix(r.consumed);
    }
    return true;
}

// --- handlers and answers ------------------------------------------------

void shard::run_handler(detail::conn& c, const proto::request& req) noexcept {
    c.keep_alive = req.keep_alive && !stopping_;
    c.http10 = req.version_minor == 0;
    exchange ex(*this, c, req);
    const detail::router::match m = routes_.find(req.verb, req.path);
    const handler* h = m.h;
    if (!h && !m.method_not_allowed) h = routes_.fallback();
    try {
        if (h) {
            (*h)(ex);
        } else if (m.method_not_allowed) {
            std::string allow = "Allow: ";
            bool first = true;
            for (unsigned i = 0; i <= unsigned(proto::method::patch); ++i) {
                if (!m.allowed.has(proto::method(i))) continue;
                if (!first) allow += ", ";
                allow += proto::method_name(proto::method(i));
                first = false;
            }
            allow += "\r\n";
            ex.respond(405, "text/plain", "method not allowed\n", allow);
        } else {
            ex.respond(404, "text/plain", "not found\n");
        }
    } catch (const std::exception& e) {
        if (!ex.answered()) {
            try {
                ex.respond(500, "text/plain", "internal error\n");
            } catch (...) {
                schedule_close(c, close_reason::io_error);
            }
        }
    } catch (...) {
        if (!ex.answered()) schedule_close(c, close_reason::io_error);
    }
    if (!ex.answered() && c.state == detail::conn_state::reading) {
        try {
            ex.respond(500, "text/plain", "handler did not answer\n");
        } catch (...) {
            schedule_close(c, close_reason::io_error);
        }
    }
}

std::string_view shard::http_date() noexcept {
    std::int64_t sec = std::int64_t(std::time(nullptr));
    if (sec != date_second_) {
        date_second_ = sec;
        proto::format_http_date(sec, date_buf_);
    }
    return std::string_view(date_buf_, 29);
}

void shard::respond_on(detail::conn& c, const proto::request* req, bool keep_alive,
                       const response& r) {
    const std::uint16_t status = r.status;
    const std::string_view body = r.body;
    const bool head_only = req && req->verb == proto::method::head;
    proto::response_head h;
    h.status = status;
    h.reason = r.reason;
    h.content_type = r.content_type;
    h.content_length = std::int64_t(body.size());
    h.close = !keep_alive;
    h.keep_alive_1_0 = keep_alive && c.http10;
    h.date = http_date();
    std::string& out = scratch();
    if (!opts_.server_name.empty()) {
        out.append("Server: ").append(opts_.server_name).append("\r\n");
    }
    out.append(r.extra_headers);
    std::string head;
    h.extra_raw = out;
    proto::append_response_head(head, h);
    const std::size_t body_len = head_only ? 0 : body.size();
    frame* f = frame::allocate(head.size() + body_len, frame::k_raw);
    std::memcpy(f->data(), head.data(), head.size());
    if (body_len) std::memcpy(f->data() + head.size(), body.data(), body_len);
    f->seal();
    c.keep_alive = keep_alive;
    (void)enqueue(c, f);
    after_response(c);
}

void shard::after_response(detail::conn& c) noexcept {
    if (c.state == detail::conn_state::closing) return;
    c.state = detail::conn_state::reading;
    if (!c.keep_alive) {
        c.close_after_flush = true;
        c.why = close_reason::local_close;
        if (c.q.empty() && !c.send_inflight) schedule_close(c, close_reason::local_close);
        return;
    }
    set_deadline(c, std::uint8_t(detail::deadline::idle), opts_.keepalive_timeout_ms);
}

void shard::send_error(detail::conn& c, std::uint16_t status, std::string_view reason) noexcept {
    try {
        std::string body(reason);
        body.push_back('\n');
        respond_on(c, nullptr, false, response{status, "text/plain", body, {}, {}});
    } catch (...) {
        schedule_close(c, close_reason::bad_request);
        return;
    }
    c.why = close_reason::bad_request;
}

stream_ref shard::open_stream_on(detail::conn& c, const proto::request& req,
                                 const stream_options& o) {
    if (req.verb == proto::method::head) {
        respond_on(c, &req, c.keep_alive,
                   response{o.status, o.content_type, {}, o.extra_headers, {}});
        return {};
    }
    const bool chunked = req.version_minor >= 1;
    proto::response_head h;
    h.status = o.status;
    h.content_type = o.content_type;
    h.content_length = -1;
    h.chunked = chunked;
    h.close = !chunked;  // HTTP/1.0: the body ends when the connection does
    h.date = http_date();
    std::string& extra = scratch();
    if (!opts_.server_name.empty())
        extra.append("Server: ").append(opts_.server_name).append("\r\n");
    extra.append(o.extra_headers);
    h.extra_raw = extra;
    std::string head;
    proto::append_response_head(head, h);
    c.state = detail::conn_state::streaming;
    c.stream_chunked = chunked;
    c.stream_open = true;
    c.q.set_chunked(chunked);
    c.hooks = o.hooks;
    c.user = o.user;
    c.gap_marker = o.gap_marker;
    set_deadline(c, std::uint8_t(detail::deadline::none), 0);
    stats_.open_streams.add();
    (void)enqueue(c, frame::copy_of(head, frame::k_raw));
    return stream_ref(&c, c.gen);
}

bool shard::respond(conn_id id, const response& r) {
    if (id.shard() != index_) return false;
    detail::conn* c = conns_->at(id.slot());
    if (!c || c->gen != id.generation() || c->state != detail::conn_state::handling) return false;
    respond_on(*c, nullptr, c->keep_alive, r);
    // Requests that arrived while the answer was pending run from the next turn,
    // not from here: the caller may be a handler whose request views live in
    // the same parse scratch.
    if (c->state == detail::conn_state::reading && c->rx_len > 0 && !c->close_after_flush) {
        shard_message m;
        m.fn = [](shard& s, shard_message& msg) noexcept {
            auto* cc = static_cast<detail::conn*>(msg.a);
            if (cc->gen == std::uint32_t(msg.u) && cc->state == detail::conn_state::reading &&
                cc->rx_len > 0 && !cc->close_after_flush)
                s.drain_rx(*cc);
        };
        m.a = c;
        m.u = c->gen;
        post(index_, m);
    }
    return true;
}

// --- write ---------------------------------------------------------------

bool shard::enqueue(detail::conn& c, frame* f) noexcept {
    if (c.state == detail::conn_state::closing || (c.close_after_flush && c.stream_open)) {
        f->unref();
        return false;
    }
    const std::size_t size = c.q.wire_size(f);
    if (c.q.bytes() + size > opts_.max_queue_bytes && !c.q.empty()) {
        if (opts_.slow_consumer == slow_consumer_policy::disconnect || !c.stream_open) {
            stats_.slow_consumer_closes.add();
            f->unref();
            schedule_close(c, close_reason::slow_consumer);
            return false;
        }
        // Drop oldest, down to half the limit so this does not run per frame.
        frame* marker = c.gap_marker ? c.gap_marker : gap_marker_;
        const std::size_t before = c.q.bytes();
        const std::size_t target =
            opts_.max_queue_bytes / 2 > size ? opts_.max_queue_bytes / 2 - size : 0;
        std::uint32_t dropped = c.q.drop_oldest(target, marker);
        stats_.frames_dropped.add(dropped);
        stats_.queued_bytes.sub(before - c.q.bytes());
        if (c.q.bytes() + size > opts_.max_queue_bytes) {
            // All that is left is in flight: this frame goes too.
            stats_.frames_dropped.add();
            f->unref();
            return false;
        }
    }
    const bool was_empty = c.q.empty();
    if (!c.q.push(f)) {
        schedule_close(c, close_reason::io_error);
        return false;
    }
    stats_.frames_queued.add();
    stats_.queued_bytes.add(size);
    if (was_empty && c.stream_open) {
        // The stall clock starts when bytes start waiting. The timer is armed
        // only if it is not already: it stays armed across drains and re-checks
        // when it fires (on_conn_timer), so a fan-out does no timer work per
        // recipient, only this store into the connection's hot line.
        c.stall_since = std::uint32_t(now_ms_);
        if (c.timer_kind != detail::deadline::write_stall)
            set_deadline(c, std::uint8_t(detail::deadline::write_stall),
                         opts_.write_stall_timeout_ms);
    }
    mark_dirty(c);
    return true;
}

bool shard::send(stream_ref s, frame* f) noexcept {
    if (!s.alive()) return false;
    f->ref();
    return enqueue(*s.c_, f);
}

std::size_t shard::send(const stream_ref* streams, std::size_t n, frame* f) noexcept {
    f->ref_n(std::uint32_t(n));
    std::size_t ok = 0;
    // Streams are scattered over the slab: fetch a few ahead so the cache
    // misses of several streams overlap instead of adding up.
    constexpr std::size_t k_ahead = 8;
    for (std::size_t i = 0; i < n; ++i) {
        if (i + k_ahead < n) __builtin_prefetch(streams[i + k_ahead].c_, 1);
        const stream_ref& s = streams[i];
        if (s.alive()) {
            ok += enqueue(*s.c_, f);
        } else {
            f->unref();
        }
    }
    return ok;
}

void shard::mark_dirty(detail::conn& c) noexcept {
    if (c.dirty) return;
    c.dirty = true;
    dirty_.push_back(&c);
}

void shard::flush_dirty() noexcept {
    constexpr std::size_t k_ahead = 4;
    const std::size_t n = dirty_.size();
    for (std::size_t i = 0; i < n; ++i) {
        if (i + k_ahead < n) __builtin_prefetch(dirty_[i + k_ahead], 1);
        detail::conn* c = dirty_[i];
        c->dirty = false;
        if (c->state == detail::conn_state::closing) {
            maybe_free(*c);
            continue;
        }
        if (!c->send_inflight && !c->q.empty()) start_send(*c);
    }
    dirty_.clear();
}

void shard::start_send(detail::conn& c) noexcept {
    iovec iov[detail::k_max_iov];
    const std::uint32_t n = c.q.prepare(iov, detail::k_max_iov);
    io_uring_sqe* sqe = ring_->sqe();
    if (n == 1) {
        io_uring_prep_send(sqe, c.file, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
    } else {
        if (send_ctx_free_.empty()) {
            constexpr std::size_t k_batch = 64;
            send_ctx_chunks_.push_back(std::make_unique<detail::send_ctx[]>(k_batch));
            for (std::size_t i = 0; i < k_batch; ++i)
                send_ctx_free_.push_back(&send_ctx_chunks_.back()[i]);
        }
        detail::send_ctx* ctx = send_ctx_free_.back();
        send_ctx_free_.pop_back();
        std::memcpy(ctx->iov, iov, sizeof(iovec) * n);
        ctx->mh = msghdr{};
        ctx->mh.msg_iov = ctx->iov;
        ctx->mh.msg_iovlen = n;
        c.send_ctx_ptr = ctx;
        io_uring_prep_sendmsg(sqe, c.file, &ctx->mh, MSG_NOSIGNAL);
    }
    sqe->flags |= IOSQE_FIXED_FILE;
    sqe->user_data = detail::pack(detail::op::send, c.gen, c.slot);
    c.send_inflight = true;
    ++c.ops;
}

void shard::on_send(detail::conn& c, const io_uring_cqe& cqe) noexcept {
    --c.ops;
    c.send_inflight = false;
    if (c.send_ctx_ptr) {
        send_ctx_free_.push_back(c.send_ctx_ptr);
        c.send_ctx_ptr = nullptr;
    }
    const std::size_t sent = cqe.res > 0 ? std::size_t(cqe.res) : 0;
    c.q.complete(sent);
    if (sent) {
        stats_.bytes_sent.add(sent);
        stats_.queued_bytes.sub(sent);
    }
    stats_.sends.add();
    if (c.state == detail::conn_state::closing) {
        maybe_free(c);
        return;
    }
    if (cqe.res < 0) {
        schedule_close(c, cqe.res == -EPIPE || cqe.res == -ECONNRESET ? close_reason::peer_closed
                                                                      : close_reason::io_error);
        return;
    }
    if (sent) c.stall_since = std::uint32_t(now_ms_);
    if (!c.q.empty()) {
        mark_dirty(c);
        return;
    }
    if (c.close_after_flush) schedule_close(c, c.why);
}

std::size_t shard::queued_bytes(stream_ref s) const noexcept {
    return s.alive() ? s.c_->q.bytes() : 0;
}

// --- deadlines -----------------------------------------------------------

void shard::set_deadline(detail::conn& c, std::uint8_t kind, std::uint32_t ms) noexcept {
    c.timer_kind = detail::deadline(kind);
    if (c.timer_kind == detail::deadline::none) {
        timers_.cancel(c.timer);
    } else {
        timers_.arm(c.timer, now_ms_ + ms);
    }
}

void shard::conn_timer_cb(timer_node& t) noexcept {
    shard* s = shard::current();
    SSEPUSH_ASSERT(s);
    s->on_conn_timer(*conn_of(t));
}

void shard::on_conn_timer(detail::conn& c) noexcept {
    const detail::deadline kind = c.timer_kind;
    c.timer_kind = detail::deadline::none;
    if (c.state == detail::conn_state::closing) return;
    switch (kind) {
        case detail::deadline::header:
            stats_.header_timeouts.add();
            if (c.request_seen || c.rx_len) {
                send_error(c, 408, "request timeout");
                c.why = close_reason::header_timeout;
            } else {
                schedule_close(c, close_reason::header_timeout);
            }
            break;
        case detail::deadline::idle:
            stats_.idle_timeouts.add();
            schedule_close(c, close_reason::idle_timeout);
            break;
        case detail::deadline::write_stall:
            if (c.q.empty()) break;  // drained since: the timer just lapses
            if (const std::uint32_t waited = std::uint32_t(now_ms_) - c.stall_since;
                waited < opts_.write_stall_timeout_ms) {
                // Bytes moved (or started waiting) since it was armed: check again
                // a full period after that.
                c.timer_kind = detail::deadline::write_stall;
                timers_.arm(c.timer, now_ms_ + (opts_.write_stall_timeout_ms - waited));
                break;
            }
            stats_.write_stall_closes.add();
            schedule_close(c, close_reason::write_stall);
            break;
        case detail::deadline::drain:
            schedule_close(c, close_reason::server_stop);
            break;
        case detail::deadline::none:
            break;
    }
}

// --- close ---------------------------------------------------------------

void shard::end_stream(stream_ref s) noexcept {
    if (!s.alive()) return;
    detail::conn& c = *s.c_;
    if (c.close_after_flush) return;
    if (c.stream_chunked) {
        static frame* last_chunk = frame::make_static(proto::k_last_chunk, frame::k_raw);
        (void)enqueue(c, last_chunk);
    }
    c.close_after_flush = true;
    c.why = stopping_ ? close_reason::server_stop : close_reason::local_close;
    if (c.q.empty() && !c.send_inflight) schedule_close(c, c.why);
}

void shard::close(stream_ref s, close_reason why) noexcept {
    if (s.alive()) schedule_close(*s.c_, why);
}

stream_ref shard::find(conn_id id) const noexcept {
    if (id.shard() != index_) return {};
    detail::conn* c = conns_->at(id.slot());
    if (!c || c->gen != id.generation() || c->state == detail::conn_state::free ||
        c->state == detail::conn_state::closing)
        return {};
    return stream_ref(c, c->gen);
}

void shard::schedule_close(detail::conn& c, close_reason why) noexcept {
    if (c.state == detail::conn_state::closing || c.state == detail::conn_state::free) return;
    c.state = detail::conn_state::closing;
    c.why = why;
    closing_.push_back(&c);
}

void shard::process_closes() noexcept {
    // Hooks may close more connections: index, don't iterate.
    for (std::size_t i = 0; i < closing_.size(); ++i)
        finish_close(*closing_[i]);
    closing_.clear();
}

void shard::finish_close(detail::conn& c) noexcept {
    set_deadline(c, std::uint8_t(detail::deadline::none), 0);
    if (c.stream_open) {
        c.stream_open = false;
        stats_.open_streams.sub();
        if (c.hooks && c.hooks->on_close) {
            const stream_hooks* h = std::exchange(c.hooks, nullptr);
            // The stream is already closing: alive() is false inside the hook.
            h->on_close(c.user, stream_ref(&c, c.gen), c.why);
        }
    }
    c.hooks = nullptr;
    std::free(c.rx);
    c.rx = nullptr;
    c.rx_len = c.rx_cap = 0;
    if (!c.send_inflight) {
        stats_.queued_bytes.sub(c.q.bytes());
        c.q.clear();
    }
    stats_.closed.add();
    stats_.open_connections.sub();
    io_uring_sqe* sqe = ring_->sqe();
    io_uring_prep_shutdown(sqe, c.file, SHUT_RDWR);
    sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK;
    sqe->user_data = detail::pack(detail::op::shutdown, c.gen, c.slot);
    sqe = ring_->sqe();
    io_uring_prep_close_direct(sqe, unsigned(c.file));
    sqe->user_data = detail::pack(detail::op::close, c.gen, c.slot);
    c.ops += 2;
    c.close_submitted = true;
}

void shard::on_close_op(detail::conn& c, const io_uring_cqe&) noexcept {
    --c.ops;
    maybe_free(c);
}

void shard::maybe_free(detail::conn& c) noexcept {
    if (c.state != detail::conn_state::closing || !c.close_submitted || c.ops || c.dirty) return;
    if (c.q.size()) {
        stats_.queued_bytes.sub(c.q.bytes());
        c.q.clear();
    }
    c.close_submitted = false;
    conns_->release(&c);
}

// --- exchange / stream_ref -------------------------------------------------

const peer_address& exchange::peer() const noexcept {
    return conn_->peer;
}

conn_id exchange::connection() const noexcept {
    return conn_id::make(shard_->index(), conn_->gen, conn_->slot);
}

void exchange::respond(const response& r) {
    SSEPUSH_ASSERT(!answered_);
    answered_ = true;
    shard_->respond_on(*conn_, req_, conn_->keep_alive, r);
}

stream_ref exchange::open_stream(const stream_options& opts) {
    SSEPUSH_ASSERT(!answered_);
    answered_ = true;
    return shard_->open_stream_on(*conn_, *req_, opts);
}

void exchange::defer() noexcept {
    SSEPUSH_ASSERT(!answered_);
    answered_ = true;
    conn_->state = detail::conn_state::handling;
    shard_->set_deadline(*conn_, std::uint8_t(detail::deadline::none), 0);
}

bool stream_ref::alive() const noexcept {
    return c_ && c_->gen == gen_ && c_->state == detail::conn_state::streaming &&
           !c_->close_after_flush;
}

conn_id stream_ref::id() const noexcept {
    return c_ ? conn_id::make(c_->shard, gen_, c_->slot) : conn_id{};
}

}  // namespace ssepush::engine
