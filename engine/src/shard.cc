// The shard's thread and loop: setup, the phases of one turn, cross-shard
// messages and wake-ups, accept, and graceful stop. Connection I/O is in
// conn.cc.
#include "ssepush/engine/shard.h"

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include "check.h"
#include "conn.h"
#include "mesh.h"
#include "router.h"
#include "ssepush/engine/clock.h"
#include "ssepush/engine/server.h"
#include "uring.h"

namespace ssepush::engine {

namespace {
thread_local shard* t_current = nullptr;

// Messages drained per inbound ring per turn, so I/O is never starved.
constexpr std::size_t k_inbox_batch = 4096;
// How long the loop may sleep when no timer is due (it wakes earlier for I/O).
constexpr std::uint64_t k_max_sleep_ms = 1000;
constexpr std::uint64_t k_accept_retry_ms = 100;
}  // namespace

void detail::run_task(shard& s, shard_message& m) noexcept {
    auto* t = static_cast<task*>(m.a);
    try {
        t->run(s);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ssepush: task on shard %u threw: %s\n", s.index(), e.what());
    } catch (...) {
        std::fprintf(stderr, "ssepush: task on shard %u threw\n", s.index());
    }
    delete t;
}

shard* shard::current() noexcept {
    return t_current;
}

shard::shard(server& owner, unsigned index, const server_options& opts, int listen_fd,
             const detail::router& routes, detail::shard_mesh& mesh)
    : server_(&owner),
      index_(index),
      opts_(opts),
      listen_fd_(listen_fd),
      routes_(routes),
      mesh_(mesh),
      timers_(opts.clock ? opts.clock(opts.clock_ctx) : steady_clock_ms::now(), opts.timer_tick_ms),
      backlog_(mesh.shards) {
    update_clock();
}

shard::~shard() {
    if (thread_.joinable()) thread_.join();
    free_links();  // normally done by teardown()
    if (gap_marker_) gap_marker_->unref();
}

void shard::update_clock() noexcept {
    now_ms_ = opts_.clock ? opts_.clock(opts_.clock_ctx) : steady_clock_ms::now();
}

void shard::thread_main() noexcept {
    t_current = this;
    if (opts_.pin_threads) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        if (cpus > 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(int(index_ % unsigned(cpus)), &set);
            (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
        }
    }
    char name[16];
    std::snprintf(name, sizeof name, "ssepush-%u", index_);
    (void)pthread_setname_np(pthread_self(), name);
    try {
        setup();
    } catch (const std::exception& e) {
        start_error_ = e.what();
        started_.store(-1);
        started_.notify_all();
        return;
    }
    // Components that live on every shard (links to a backend) start here,
    // before the first loop turn; start() returns once every shard ran them.
    for (const auto& fn : server_->start_hooks_) {
        try {
            fn(*this);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "ssepush: on_shard_start hook on shard %u threw: %s\n", index_,
                         e.what());
        } catch (...) {
            std::fprintf(stderr, "ssepush: on_shard_start hook on shard %u threw\n", index_);
        }
    }
    started_.store(1);
    started_.notify_all();
    loop();
    teardown();
    t_current = nullptr;
}

void shard::setup() {
    detail::uring_config cfg;
    cfg.sq_entries = opts_.sq_entries;
    cfg.cq_entries = opts_.cq_entries;
    cfg.files = opts_.max_connections_per_shard;
    ring_ = std::make_unique<detail::uring>(cfg);
    bufs_ =
        std::make_unique<detail::buf_ring>(*ring_, 0, opts_.recv_buffers, opts_.recv_buffer_size);
    conns_ = std::make_unique<detail::conn_slab>();
    gap_marker_ = frame::copy_of(": gap\n\n");
    event_fd_ = mesh_.inboxes[index_].event_fd;
    sockaddr_storage ss{};
    socklen_t sl = sizeof ss;
    if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &sl) == 0)
        listen_family_ = ss.ss_family;
    mesh_.inboxes[index_].ring_fd = ring_->fd();
    update_clock();
    arm_eventfd_read();
    arm_accept();
    (void)ring_->submit();
}

void shard::teardown() noexcept {
    // Anything still queued for us after the loop: run it, so tasks free what
    // they own (no connection is alive any more).
    drain_inbox();
    conns_.reset();
    bufs_.reset();
    ring_.reset();
    // The ring's exit cancelled whatever links had in flight: free them now
    // (their sockets are closed already, or here).
    free_links();
}

void shard::arm_accept() noexcept {
    if (accept_armed_ || stopping_) return;
    io_uring_sqe* sqe = ring_->sqe();
    io_uring_prep_multishot_accept_direct(sqe, listen_fd_, nullptr, nullptr, 0);
    sqe->user_data = detail::pack(detail::op::accept, 0, 0);
    accept_armed_ = true;
}

void shard::arm_eventfd_read() noexcept {
    io_uring_sqe* sqe = ring_->sqe();
    io_uring_prep_read(sqe, event_fd_, &event_fd_buf_, sizeof event_fd_buf_, 0);
    sqe->user_data = detail::pack(detail::op::eventfd_read, 0, 0);
}

void shard::loop() {
    for (;;) {
        update_clock();
        if (!stopping_ && mesh_.inboxes[index_].stop.load(std::memory_order_acquire)) begin_stop();
        drain_inbox();
        reap_completions();
        timers_.advance(now_ms_);
        if (stopping_ && !stop_deadline_passed_ && now_ms_ >= stop_deadline_ms_) {
            // Drain time is over: whoever has not finished is closed now.
            stop_deadline_passed_ = true;
            conns_->for_each_live(
                [&](detail::conn& c) { schedule_close(c, close_reason::server_stop); });
        }
        process_closes();
        flush_dirty();
        flush_links();
        process_closes();
        reap_links();
        flush_outbox();
        if (stopping_ && conns_->live() == 0 && !accept_armed_) break;
        wait_for_work();
    }
}

bool shard::inbox_empty() const noexcept {
    for (unsigned s = 0; s < mesh_.shards; ++s)
        if (s != index_ && !mesh_.ring(s, index_).empty()) return false;
    return mesh_.inboxes[index_].foreign.empty();
}

void shard::drain_inbox() noexcept {
    auto run = [this](shard_message& m) noexcept { m.fn(*this, m); };
    std::size_t n = 0;
    for (unsigned s = 0; s < mesh_.shards; ++s) {
        if (s == index_) continue;
        n += mesh_.ring(s, index_).consume(run, k_inbox_batch);
    }
    detail::shard_inbox& in = mesh_.inboxes[index_];
    for (std::size_t i = 0; i < k_inbox_batch; ++i) {
        mpsc_node* node = in.foreign.pop();
        if (!node) break;
        auto* fm = static_cast<detail::foreign_message*>(node);
        fm->m.fn(*this, fm->m);
        delete fm;
        ++n;
    }
    // Messages this shard posted to itself run here too, in order.
    if (!backlog_[index_].empty()) {
        std::deque<shard_message> local;
        local.swap(backlog_[index_]);
        for (shard_message& m : local)
            m.fn(*this, m);
        n += local.size();
    }
    if (n) stats_.cross_shard_messages.add(n);
}

void shard::post(unsigned target, const shard_message& m) noexcept {
    SSEPUSH_ASSERT(target < mesh_.shards);
    auto& bl = backlog_[target];
    if (target == index_) {
        bl.push_back(m);
        return;
    }
    if (!bl.empty() || !mesh_.ring(index_, target).try_push(m)) bl.push_back(m);
    wake_targets_ |= shard_mask(1) << target;
}

void shard::flush_outbox() noexcept {
    if (!wake_targets_) return;
    shard_mask pending = 0;
    for (unsigned t = 0; t < mesh_.shards; ++t) {
        if (!(wake_targets_ & (shard_mask(1) << t))) continue;
        auto& bl = backlog_[t];
        auto& ring = mesh_.ring(index_, t);
        while (!bl.empty() && ring.try_push(bl.front()))
            bl.pop_front();
        if (!bl.empty()) pending |= shard_mask(1) << t;  // retry next turn
        // An RMW, not a load: see the wake-up protocol in mesh.h.
        detail::shard_inbox& in = mesh_.inboxes[t];
        if (in.sleeping.exchange(false, std::memory_order_acq_rel)) {
            io_uring_sqe* sqe = ring_->sqe();
            io_uring_prep_msg_ring(sqe, in.ring_fd, 0, detail::pack(detail::op::wake, 0, index_),
                                   0);
            sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
            sqe->user_data = detail::pack(detail::op::wake, 0, t);
        }
    }
    wake_targets_ = pending;
}

void shard::wake_from_any_thread() noexcept {
    detail::shard_inbox& in = mesh_.inboxes[index_];
    if (in.sleeping.exchange(false, std::memory_order_acq_rel)) {
        std::uint64_t one = 1;
        ssize_t r = ::write(in.event_fd, &one, sizeof one);
        (void)r;  // an eventfd write cannot fail short of overflow, which still wakes
    }
}

void shard::request_stop_from_any_thread() noexcept {
    mesh_.inboxes[index_].stop.store(true, std::memory_order_release);
    // Wake it whether or not it is asleep: it checks the flag each turn.
    std::uint64_t one = 1;
    ssize_t r = ::write(mesh_.inboxes[index_].event_fd, &one, sizeof one);
    (void)r;
}

void shard::wait_for_work() noexcept {
    io_uring* r = ring_->raw();
    if (!dirty_.empty() || !closing_.empty() || wake_targets_ || io_uring_cq_ready(r) ||
        !backlog_[index_].empty()) {
        (void)ring_->submit_and_get_events();
        return;
    }
    detail::shard_inbox& in = mesh_.inboxes[index_];
    (void)in.sleeping.exchange(true, std::memory_order_acq_rel);
    if (!inbox_empty() || (!stopping_ && in.stop.load(std::memory_order_relaxed))) {
        in.sleeping.store(false, std::memory_order_relaxed);
        (void)ring_->submit_and_get_events();
        return;
    }
    std::uint64_t hint = timers_.next_expiry_hint(now_ms_);
    std::uint64_t wait = hint <= now_ms_ ? 0 : hint - now_ms_;
    if (wait > k_max_sleep_ms) wait = k_max_sleep_ms;
    if (stopping_ && wait > 50) wait = 50;
    if (wait == 0) wait = 1;
    (void)ring_->submit_and_wait(1, wait);
    in.sleeping.store(false, std::memory_order_relaxed);
}

void shard::reap_completions() noexcept {
    io_uring* r = ring_->raw();
    // Completions can post more completions (e.g. an inline send); loop until
    // the queue is empty, but bounded so timers and flushes keep their turn.
    for (int round = 0; round < 4; ++round) {
        unsigned head;
        unsigned n = 0;
        io_uring_cqe* cqe;
        io_uring_for_each_cqe(r, head, cqe) {
            dispatch(*cqe);
            ++n;
        }
        if (n == 0) break;
        io_uring_cq_advance(r, n);
        bufs_->commit();
        rearm_starved_recvs();
    }
}

void shard::dispatch(const io_uring_cqe& cqe) noexcept {
    const std::uint64_t ud = cqe.user_data;
    const detail::op o = detail::op_of(ud);
    if (o == detail::op::accept) return on_accept(cqe);
    if (o == detail::op::eventfd_read) {
        arm_eventfd_read();
        return;
    }
    if (o == detail::op::wake || o == detail::op::cancel || o == detail::op::none) {
        if (o == detail::op::wake && cqe.res < 0 && cqe.res != -ECANCELED)
            std::fprintf(stderr, "ssepush: shard %u: MSG_RING failed: %s\n", index_,
                         std::strerror(-cqe.res));
        return;
    }
    if (o == detail::op::link_connect || o == detail::op::link_recv || o == detail::op::link_send)
        return on_link_cqe(cqe);
    if (o == detail::op::close && detail::slot_of(ud) == UINT32_MAX) return;  // refused accept
    detail::conn* c = conns_->at(detail::slot_of(ud));
    SSEPUSH_ASSERT(c && c->state != detail::conn_state::free && c->gen == detail::gen_of(ud));
    switch (o) {
        case detail::op::recv:
            return on_recv(*c, cqe);
        case detail::op::send:
            return on_send(*c, cqe);
        case detail::op::peername:
            return on_peername(*c, cqe);
        case detail::op::shutdown:
        case detail::op::close:
            return on_close_op(*c, cqe);
        default:
            SSEPUSH_ASSERT(false);
    }
}

void shard::on_accept(const io_uring_cqe& cqe) noexcept {
    const bool more = cqe.flags & IORING_CQE_F_MORE;
    if (!more) accept_armed_ = false;
    if (cqe.res >= 0) {
        if (stopping_) {
            io_uring_sqe* sqe = ring_->sqe();
            io_uring_prep_close_direct(sqe, unsigned(cqe.res));
            sqe->user_data = detail::pack(detail::op::close, 0, UINT32_MAX);
        } else {
            stats_.accepted.add();
            conn_open(cqe.res);
        }
    } else if (cqe.res != -ECANCELED) {
        stats_.accept_errors.add();
        if (cqe.res == -ENFILE || cqe.res == -EMFILE || cqe.res == -ENOMEM) {
            // Table full: try again a little later rather than spin.
            if (!timer_wheel::armed(accept_retry_timer_)) {
                accept_retry_timer_.set_callback([](timer_node&) noexcept {
                    if (shard* s = shard::current()) s->arm_accept();
                });
                timers_.arm(accept_retry_timer_, now_ms_ + k_accept_retry_ms);
            }
            return;
        }
    }
    if (!more && !stopping_) arm_accept();
}

void shard::begin_stop() noexcept {
    stopping_ = true;
    stop_deadline_ms_ = now_ms_ + opts_.drain_timeout_ms;
    // Owners close their links (and whatever else) cleanly first; then every
    // link left is closed without a callback. The stop never waits for links.
    for (const auto& fn : server_->stop_hooks_) {
        try {
            fn(*this);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "ssepush: on_shard_stop hook on shard %u threw: %s\n", index_,
                         e.what());
        } catch (...) {
            std::fprintf(stderr, "ssepush: on_shard_stop hook on shard %u threw\n", index_);
        }
    }
    close_links();
    timers_.cancel(accept_retry_timer_);
    if (accept_armed_) {
        io_uring_sqe* sqe = ring_->sqe();
        io_uring_prep_cancel64(sqe, detail::pack(detail::op::accept, 0, 0), 0);
        sqe->user_data = detail::pack(detail::op::cancel, 0, 0);
    }
    conns_->for_each_live([&](detail::conn& c) {
        c.keep_alive = false;
        switch (c.state) {
            case detail::conn_state::reading:
                if (!c.request_seen && c.q.empty() && !c.send_inflight)
                    schedule_close(c, close_reason::server_stop);
                break;
            case detail::conn_state::streaming:
                end_stream(stream_ref(&c, c.gen));
                break;
            default:
                break;
        }
    });
}

}  // namespace ssepush::engine
