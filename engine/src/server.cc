#include "ssepush/engine/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "check.h"
#include "conn.h"
#include "mesh.h"
#include "router.h"
#include "uring.h"

namespace ssepush::engine {

namespace {

void check_options(const server_options& o) {
    auto bad = [](const std::string& what) {
        throw std::invalid_argument("server_options." + what);
    };
    if (o.shards > k_max_shards)
        bad("shards: at most " + std::to_string(k_max_shards) + ", got " +
            std::to_string(o.shards));
    if (o.recv_buffers == 0 || (o.recv_buffers & (o.recv_buffers - 1)) || o.recv_buffers > 32768)
        bad("recv_buffers: a power of two in [1, 32768], got " + std::to_string(o.recv_buffers));
    if (o.recv_buffer_size < 256 || o.recv_buffer_size > (1u << 20))
        bad("recv_buffer_size: between 256 and 1 MiB");
    if (o.max_connections_per_shard == 0) bad("max_connections_per_shard: must be > 0");
    if (o.max_queue_bytes < 1024) bad("max_queue_bytes: at least 1024");
    if (o.timer_tick_ms == 0 || o.timer_tick_ms > 1000) bad("timer_tick_ms: in [1, 1000]");
    if (o.header_timeout_ms == 0 || o.keepalive_timeout_ms == 0 || o.write_stall_timeout_ms == 0)
        bad("timeouts must be > 0 ms");
    if (o.limits.max_headers == 0 || o.limits.max_headers > proto::k_max_headers)
        bad("limits.max_headers: in [1, " + std::to_string(proto::k_max_headers) + "]");
}

int make_listener(const std::string& address, std::uint16_t port, unsigned backlog) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof *v4;
    } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof *v6;
    } else {
        throw std::invalid_argument("server_options.address: not an IPv4/IPv6 literal: '" +
                                    address + "'");
    }
    int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::system_error(errno, std::system_category(), "socket");
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
        int e = errno;
        ::close(fd);
        throw std::system_error(e, std::system_category(), "setsockopt(SO_REUSEPORT)");
    }
    // Accepted sockets inherit TCP_NODELAY: a frame goes out when it is queued.
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
        int e = errno;
        ::close(fd);
        throw std::system_error(e, std::system_category(),
                                "bind " + address + ":" + std::to_string(port));
    }
    if (::listen(fd, int(backlog)) < 0) {
        int e = errno;
        ::close(fd);
        throw std::system_error(e, std::system_category(), "listen");
    }
    return fd;
}

std::uint16_t bound_port(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0)
        throw std::system_error(errno, std::system_category(), "getsockname");
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

}  // namespace

server::server(server_options opts) : opts_(std::move(opts)) {
    check_options(opts_);
    if (opts_.shards == 0) {
        unsigned n = std::thread::hardware_concurrency();
        opts_.shards = n == 0 ? 1 : (n > k_max_shards ? k_max_shards : n);
    }
    // A peer that vanishes must not kill the process on a plain write.
    ::signal(SIGPIPE, SIG_IGN);
    routes_ = std::make_unique<detail::router>();
    mesh_ = std::make_unique<detail::shard_mesh>(opts_.shards);
    try {
        std::uint16_t port = opts_.port;
        for (unsigned i = 0; i < opts_.shards; ++i) {
            listen_fds_.push_back(make_listener(opts_.address, port, opts_.listen_backlog));
            if (i == 0) port = port_ = bound_port(listen_fds_[0]);
            int efd = ::eventfd(0, EFD_CLOEXEC);
            if (efd < 0) throw std::system_error(errno, std::system_category(), "eventfd");
            mesh_->inboxes[i].event_fd = efd;
        }
    } catch (...) {
        for (int fd : listen_fds_)
            ::close(fd);
        for (auto& in : mesh_->inboxes)
            if (in.event_fd >= 0) ::close(in.event_fd);
        throw;
    }
}

server::~server() {
    stop();
    shards_.clear();
    for (int fd : listen_fds_)
        ::close(fd);
    for (auto& in : mesh_->inboxes)
        if (in.event_fd >= 0) ::close(in.event_fd);
}

void server::route(method_set methods, std::string path, handler h) {
    if (started_) throw std::logic_error("server::route after start()");
    routes_->add_exact(methods, std::move(path), std::move(h));
}

void server::route_prefix(method_set methods, std::string prefix, handler h) {
    if (started_) throw std::logic_error("server::route_prefix after start()");
    routes_->add_prefix(methods, std::move(prefix), std::move(h));
}

void server::fallback(handler h) {
    if (started_) throw std::logic_error("server::fallback after start()");
    routes_->set_fallback(std::move(h));
}

void server::on_shard_start(std::function<void(shard&)> fn) {
    if (started_) throw std::logic_error("server::on_shard_start after start()");
    start_hooks_.push_back(std::move(fn));
}

void server::on_shard_stop(std::function<void(shard&)> fn) {
    if (started_) throw std::logic_error("server::on_shard_stop after start()");
    stop_hooks_.push_back(std::move(fn));
}

void server::start() {
    if (started_) throw std::logic_error("server::start called twice");
    started_ = true;
    for (unsigned i = 0; i < opts_.shards; ++i)
        shards_.push_back(
            std::unique_ptr<shard>(new shard(*this, i, opts_, listen_fds_[i], *routes_, *mesh_)));
    for (auto& s : shards_)
        s->thread_ = std::thread([sp = s.get()] { sp->thread_main(); });
    std::string errors;
    for (auto& s : shards_) {
        s->started_.wait(0);
        if (s->started_.load() < 0)
            errors += "shard " + std::to_string(s->index()) + ": " + s->start_error_ + "; ";
    }
    if (!errors.empty()) {
        stop();
        throw std::runtime_error("server::start failed: " + errors);
    }
}

void server::request_stop() noexcept {
    stop_requested_.store(true);
    stop_requested_.notify_all();
}

void server::wait() {
    stop_requested_.wait(false);
}

void server::stop() {
    if (!started_ || stopped_) return;
    stopped_ = true;
    for (auto& s : shards_)
        if (s->started_.load() > 0) s->request_stop_from_any_thread();
    for (auto& s : shards_)
        if (s->thread_.joinable()) s->thread_.join();
    request_stop();
}

void server::post(unsigned target, const shard_message& m) noexcept {
    SSEPUSH_ASSERT(target < shards_.size());
    shard* cur = shard::current();
    if (cur && &cur->owner() == this) {
        cur->post(target, m);
        return;
    }
    auto* fm = new detail::foreign_message;
    fm->m = m;
    mesh_->inboxes[target].foreign.push(fm);
    shards_[target]->wake_from_any_thread();
}

void server::post_each(shard_mask targets, const shard_message& m) noexcept {
    for (unsigned i = 0; i < shards_.size(); ++i)
        if (targets & (shard_mask(1) << i)) post(i, m);
}

void server::post_bytes(shard_mask targets, shared_bytes* bytes, bytes_fn fn, void* ctx) noexcept {
    targets &= all_shards();
    const int n = __builtin_popcountll(targets);
    if (n == 0) {
        bytes->unref();
        return;
    }
    if (n > 1) bytes->ref(std::uint32_t(n - 1));
    shard_message m;
    m.fn = [](shard& s, shard_message& msg) noexcept {
        auto* b = static_cast<shared_bytes*>(msg.a);
        reinterpret_cast<bytes_fn>(msg.u)(s, b->view(), msg.b);
        b->unref();
    };
    m.a = bytes;
    m.b = ctx;
    m.u = reinterpret_cast<std::uint64_t>(fn);
    post_each(targets, m);
}

stats_snapshot server::stats() const noexcept {
    stats_snapshot sum;
    for (const auto& s : shards_)
        sum += s->stats().snapshot();
    return sum;
}

}  // namespace ssepush::engine
