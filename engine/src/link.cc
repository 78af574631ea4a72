// Outbound links: a plain non-blocking socket per link, driven by the shard's
// ring (CONNECT, one RECV into the link's buffer, at most one SEND), with the
// shard's timer wheel for the connect timeout and the reconnect back-off.
//
// Every operation in flight carries (op, generation, slot) in its user_data.
// The generation is bumped whenever the connection is dropped, so a completion
// of an older connection (or of a closed link) only releases what it held: the
// send buffer it was reading, the receive buffer it was writing. The link's
// storage stays with the shard until no operation is in flight any more.
#include "ssepush/engine/link.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <stdexcept>

#include "check.h"
#include "ssepush/engine/shard.h"
#include "ssepush/engine/timer_wheel.h"
#include "uring.h"

namespace ssepush::engine {

namespace {
constexpr std::uint32_t k_gen_mask = 0xffffffu;
// One SEND never asks for more than this; the rest goes after it completes.
constexpr std::size_t k_max_send = 1u << 30;
// A drained send buffer bigger than this is released rather than kept.
constexpr std::size_t k_keep_send_capacity = 1u << 20;

std::uint64_t splitmix64(std::uint64_t& s) noexcept {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
}  // namespace

struct link::impl {
    explicit impl(link& l) : self(l) {}

    link& self;
    sockaddr_storage addr{};
    socklen_t addr_len = 0;
    int fd = -1;
    std::uint32_t gen = 0;  // of the current connection (attempt)
    std::uint32_t send_gen = 0;
    bool connect_inflight = false;
    bool connect_polling = false;  // the connect went on as a POLLOUT
    bool recv_inflight = false;
    bool send_inflight = false;
    bool dirty = false;  // pending bytes and no send started yet
    int deferred_error = 0;
    std::uint64_t backoff_ms = 0;
    std::uint64_t rng = 0;
    std::string sending;  // what the SEND in flight reads (kept until it completes)
    std::size_t send_off = 0;
    std::string pending;  // queued behind it
    std::unique_ptr<char[]> rbuf;
    timer_node timer{&impl::on_timer};  // connect timeout, or reconnect, or deferred failure

    [[nodiscard]] bool busy() const noexcept {
        return connect_inflight || recv_inflight || send_inflight;
    }
    [[nodiscard]] detail::uring& ring() noexcept { return *self.shard_.ring_; }
    [[nodiscard]] std::uint64_t ud(detail::op o) const noexcept {
        return detail::pack(o, gen, self.slot_);
    }

    static void on_timer(timer_node& n) noexcept { timer_owner(n, &impl::timer).fired(); }

    void start_connect() noexcept {
        self.state_ = state::connecting;
        fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            // Report it from the timer phase, never from inside open_link().
            deferred_error = errno;
            self.shard_.timers().arm(timer, self.shard_.now_ms());
            return;
        }
        int one = 1;
        (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        io_uring_sqe* sqe = ring().sqe();
        io_uring_prep_connect(sqe, fd, reinterpret_cast<const sockaddr*>(&addr), addr_len);
        sqe->user_data = ud(detail::op::link_connect);
        connect_inflight = true;
        connect_polling = false;
        self.shard_.timers().arm(timer, self.shard_.now_ms() + self.opts_.connect_timeout_ms);
    }

    void fired() noexcept {
        if (self.state_ == state::waiting) return start_connect();
        if (self.state_ != state::connecting) return;
        int err = deferred_error ? deferred_error : ETIMEDOUT;
        deferred_error = 0;
        go_down(err);
    }

    void cancel_op(detail::op o) noexcept {
        io_uring_sqe* sqe = ring().sqe();
        io_uring_prep_cancel64(sqe, ud(o), 0);
        sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
        sqe->user_data = detail::pack(detail::op::cancel, 0, 0);
    }

    // Ends the current connection (or attempt): what is in flight is cancelled
    // and will complete as stale; queued output is dropped.
    void drop_connection() noexcept {
        self.shard_.timers().cancel(timer);
        deferred_error = 0;
        if (connect_inflight) cancel_op(detail::op::link_connect);
        if (recv_inflight) cancel_op(detail::op::link_recv);
        if (send_inflight && send_gen == gen) cancel_op(detail::op::link_send);
        if (fd >= 0) {
            // The ring holds its own reference to the socket while an operation
            // is in flight: shut it down so the peer sees the end now. An
            // operation prepared this turn but not yet submitted names the fd
            // only by number: submit it first, so it takes its reference to
            // this socket before the number is freed (and maybe reused by the
            // next socket() of another link in the same turn).
            if (self.state_ == state::up) (void)::shutdown(fd, SHUT_RDWR);
            (void)ring().submit();
            ::close(fd);
            fd = -1;
        }
        gen = (gen + 1) & k_gen_mask;
        pending.clear();
        dirty = false;
    }

    void go_down(int err) noexcept {
        SSEPUSH_ASSERT(self.state_ == state::up || self.state_ == state::connecting);
        drop_connection();
        ++self.stats_.failures;
        self.state_ = state::waiting;
        const std::uint64_t d = backoff_ms;
        const std::uint64_t delay = d / 2 + splitmix64(rng) % (d - d / 2 + 1);
        backoff_ms = std::min<std::uint64_t>(d * 2, self.opts_.backoff_max_ms);
        self.shard_.timers().arm(timer, self.shard_.now_ms() + delay);
        self.handler_->on_link_down(self, err);  // last: it may close or send
    }

    void came_up() noexcept {
        self.shard_.timers().cancel(timer);
        self.state_ = state::up;
        ++self.stats_.connects;
        backoff_ms = self.opts_.backoff_min_ms;
        if (!recv_inflight) arm_recv();   // else the stale recv's completion arms it
        self.handler_->on_link_up(self);  // last: it may close, reset or send
    }

    void arm_recv() noexcept {
        io_uring_sqe* sqe = ring().sqe();
        const std::size_t n = std::min(self.opts_.recv_buffer_size, k_max_send);
        io_uring_prep_recv(sqe, fd, rbuf.get(), n, 0);
        sqe->user_data = ud(detail::op::link_recv);
        recv_inflight = true;
    }

    void start_send() noexcept {
        io_uring_sqe* sqe = ring().sqe();
        const std::size_t n = std::min(sending.size() - send_off, k_max_send);
        io_uring_prep_send(sqe, fd, sending.data() + send_off, n, MSG_NOSIGNAL);
        sqe->user_data = ud(detail::op::link_send);
        send_inflight = true;
        send_gen = gen;
    }

    // Starts a send of everything pending if none is in flight.
    void flush() noexcept {
        dirty = false;
        if (self.state_ != state::up || send_inflight || pending.empty()) return;
        if (sending.capacity() > k_keep_send_capacity && pending.size() <= k_keep_send_capacity)
            std::string().swap(sending);
        sending.swap(pending);
        pending.clear();
        send_off = 0;
        start_send();
    }

    void mark_dirty() noexcept {
        if (dirty) return;
        dirty = true;
        self.shard_.links_dirty_ = true;
    }

    void on_connect(std::uint32_t g, int res) noexcept {
        connect_inflight = false;
        if (g != gen || self.state_ != state::connecting) return;  // stale: its fd is closed
        if (res == -EINPROGRESS || res == -EALREADY) {
            // Older kernels hand back the non-blocking connect: wait for POLLOUT.
            io_uring_sqe* sqe = ring().sqe();
            io_uring_prep_poll_add(sqe, fd, POLLOUT);
            sqe->user_data = ud(detail::op::link_connect);
            connect_inflight = true;
            connect_polling = true;
            return;
        }
        if (connect_polling && res >= 0) {
            int soerr = 0;
            socklen_t len = sizeof soerr;
            if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) soerr = errno;
            res = -soerr;
        }
        connect_polling = false;
        if (res < 0) return go_down(-res);
        came_up();
    }

    void on_recv(std::uint32_t g, int res) noexcept {
        recv_inflight = false;
        if (g != gen || self.state_ != state::up) {
            // Stale: the buffer is free again; a newer connection may wait for it.
            if (self.state_ == state::up) arm_recv();
            return;
        }
        if (res > 0) {
            self.stats_.bytes_received += std::uint64_t(res);
            self.handler_->on_link_data(self, std::string_view(rbuf.get(), std::size_t(res)));
            // The handler may have closed or reset the link (and a new
            // connection may even be pending); re-arm only the same one.
            if (self.state_ == state::up && gen == g && !recv_inflight) arm_recv();
            return;
        }
        if (res == -EINTR || res == -EAGAIN) return arm_recv();
        go_down(res == 0 ? ECONNRESET : -res);
    }

    void on_send(std::uint32_t g, int res) noexcept {
        send_inflight = false;
        if (g != gen || self.state_ != state::up) {
            // Stale: the kernel is done with `sending`; newer bytes may wait.
            if (self.state_ == state::closed) std::string().swap(sending);
            sending.clear();
            send_off = 0;
            if (self.state_ == state::up && !pending.empty()) mark_dirty();
            return;
        }
        if (res == -EINTR || res == -EAGAIN) return start_send();
        if (res <= 0) return go_down(res == 0 ? EPIPE : -res);
        self.stats_.bytes_sent += std::uint64_t(res);
        send_off += std::size_t(res);
        if (send_off < sending.size()) return start_send();  // short send: the rest
        sending.clear();
        send_off = 0;
        if (!pending.empty()) flush();
    }
};

link::link(class shard& sh, link_options o, link_handler& h, std::uint32_t slot, std::uint32_t gen)
    : shard_(sh),
      opts_(std::move(o)),
      handler_(&h),
      slot_(slot),
      impl_(std::make_unique<impl>(*this)) {
    impl_->gen = gen & k_gen_mask;
    impl_->backoff_ms = opts_.backoff_min_ms;
    impl_->rng = std::random_device{}() ^ (std::uint64_t(std::random_device{}()) << 32) ^
                 reinterpret_cast<std::uintptr_t>(this);
    impl_->rbuf = std::make_unique<char[]>(opts_.recv_buffer_size);
}

link::~link() {
    shard_.timers().cancel(impl_->timer);
    if (impl_->fd >= 0) ::close(impl_->fd);
}

bool link::send(std::string_view bytes) {
    if (state_ != state::up) return false;
    if (bytes.size() > opts_.max_queued_bytes - std::min(queued_bytes(), opts_.max_queued_bytes))
        return false;
    if (bytes.empty()) return true;
    impl_->pending.append(bytes);
    impl_->mark_dirty();
    return true;
}

void link::close() noexcept {
    if (state_ == state::closed) return;
    impl_->drop_connection();
    state_ = state::closed;
    handler_ = nullptr;
    std::string().swap(impl_->pending);
    if (!impl_->send_inflight) std::string().swap(impl_->sending);
    shard_.links_reap_ = true;
}

void link::reset(int error) noexcept {
    if (state_ != state::up && state_ != state::connecting) return;
    impl_->go_down(error > 0 ? error : ECONNRESET);
}

std::size_t link::queued_bytes() const noexcept {
    const impl& m = *impl_;
    std::size_t n = m.pending.size();
    if (m.send_inflight && m.send_gen == m.gen) n += m.sending.size() - m.send_off;
    return n;
}

// --- the shard's side -------------------------------------------------------

link* shard::open_link(link_options o, link_handler& h) {
    auto bad = [](const std::string& what) { throw std::invalid_argument("link_options." + what); };
    sockaddr_storage ss{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, o.host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(o.port);
        len = sizeof *v4;
    } else if (inet_pton(AF_INET6, o.host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(o.port);
        len = sizeof *v6;
    } else {
        bad("host: not an IPv4/IPv6 literal: '" + o.host + "'");
    }
    if (o.port == 0) bad("port: must be > 0");
    if (o.connect_timeout_ms == 0) bad("connect_timeout_ms: must be > 0");
    if (o.backoff_max_ms < o.backoff_min_ms)
        bad("backoff_max_ms: must be >= backoff_min_ms (" + std::to_string(o.backoff_min_ms) +
            "), got " + std::to_string(o.backoff_max_ms));
    if (o.recv_buffer_size == 0 || o.recv_buffer_size > k_max_send)
        bad("recv_buffer_size: in [1, 1 GiB]");

    std::uint32_t slot = 0;
    while (slot < links_.size() && links_[slot])
        ++slot;
    if (slot == links_.size()) links_.push_back(nullptr);
    // A fresh generation per link, so no completion can ever match a slot's
    // next tenant even in principle.
    link_gen_seed_ = (link_gen_seed_ + 0x10000u) & k_gen_mask;
    auto* l = new link(*this, std::move(o), h, slot, link_gen_seed_);
    links_[slot] = l;
    l->impl_->addr = ss;
    l->impl_->addr_len = len;
    if (stopping_) {
        // The shard is on its way out: the link never connects or calls back.
        l->close();
        return l;
    }
    l->impl_->start_connect();
    return l;
}

void shard::on_link_cqe(const io_uring_cqe& cqe) noexcept {
    const std::uint64_t ud = cqe.user_data;
    const std::uint32_t slot = detail::slot_of(ud);
    link* l = slot < links_.size() ? links_[slot] : nullptr;
    SSEPUSH_ASSERT(l);  // storage is kept until nothing is in flight
    link::impl& m = *l->impl_;
    const std::uint32_t g = detail::gen_of(ud);
    switch (detail::op_of(ud)) {
        case detail::op::link_connect:
            m.on_connect(g, cqe.res);
            break;
        case detail::op::link_recv:
            m.on_recv(g, cqe.res);
            break;
        case detail::op::link_send:
            m.on_send(g, cqe.res);
            break;
        default:
            SSEPUSH_ASSERT(false);
    }
    // `l` is still here: links are freed only by reap_links(), between phases.
    if (l->state_ == link::state::closed && !m.busy()) links_reap_ = true;
}

void shard::flush_links() noexcept {
    if (!links_dirty_) return;
    links_dirty_ = false;
    for (link* l : links_)
        if (l && l->impl_->dirty) l->impl_->flush();
}

void shard::reap_links() noexcept {
    // While stopping, closed links stay until teardown: an owner that closed
    // one in its stop hook (or got one opened closed) never holds a dangling
    // pointer before the shard ends.
    if (!links_reap_ || stopping_) return;
    links_reap_ = false;
    for (link*& l : links_) {
        if (l && l->state_ == link::state::closed && !l->impl_->busy()) {
            delete l;
            l = nullptr;
        }
    }
    while (!links_.empty() && !links_.back())
        links_.pop_back();
}

void shard::close_links() noexcept {
    for (link* l : links_)
        if (l) l->close();
}

void shard::free_links() noexcept {
    // After the ring is gone: nothing is in flight any more.
    for (link*& l : links_) {
        delete l;
        l = nullptr;
    }
    links_.clear();
}

}  // namespace ssepush::engine
