// engine::link against loopback peers run by the test on their own threads
// with blocking sockets: connect, echo (small and 4 MiB), loss and reconnect,
// refused connects and back-off, connect timeout, re-entrant handlers, send
// limits, stop with a live link, and the shard start/stop hooks.
#include "ssepush/engine/link.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ssepush/engine/server.h"
#include "ssepush/engine/shard.h"
#include "support/test_server.h"

namespace {

namespace eng = ssepush::engine;
using ssepush::testing::test_server;
using namespace std::chrono_literals;

constexpr int k_deadline_ms = 10'000;
constexpr auto k_deadline = std::chrono::milliseconds(k_deadline_ms);

eng::server_options one_shard() {
    eng::server_options o = test_server::default_options();
    o.shards = 1;
    return o;
}

std::size_t open_fds() {
    std::size_t n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d))
            ++n;
        ::closedir(d);
    }
    return n;
}

// A listening socket on 127.0.0.1 (or ::1) with an ephemeral port. With a
// negative backlog it is bound and does not listen: connects to its port are
// refused, and no other socket can take the port while it is open.
class listener {
public:
    explicit listener(int backlog = 16, bool v6 = false) {
        fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error("socket");
        sockaddr_storage ss{};
        socklen_t len;
        if (v6) {
            auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
            a->sin6_family = AF_INET6;
            a->sin6_addr = in6addr_loopback;
            len = sizeof *a;
        } else {
            auto* a = reinterpret_cast<sockaddr_in*>(&ss);
            a->sin_family = AF_INET;
            a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            len = sizeof *a;
        }
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) < 0 ||
            (backlog >= 0 && ::listen(fd_, backlog) < 0)) {
            ::close(fd_);
            throw std::runtime_error("bind/listen");
        }
        len = sizeof ss;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
        port_ = v6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                   : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    }
    ~listener() { close(); }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    int fd() const { return fd_; }
    std::uint16_t port() const { return port_; }

    // The next connection, or -1 after the deadline.
    int accept_one(int ms = k_deadline_ms) const {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, ms) <= 0) return -1;
        return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

// Some bytes (> 0), 0 at EOF or on a reset, -1 after the deadline.
ssize_t read_some(int fd, char* buf, std::size_t n, int ms = k_deadline_ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return -1;
    ssize_t r = ::read(fd, buf, n);
    return r < 0 ? 0 : r;
}

bool read_exact(int fd, std::string& out, std::size_t n) {
    out.resize(n);
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = read_some(fd, out.data() + got, n - got);
        if (r <= 0) return false;
        got += std::size_t(r);
    }
    return true;
}

bool write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t r = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
        if (r <= 0) return false;
        s.remove_prefix(std::size_t(r));
    }
    return true;
}

// True once the peer closed (EOF or reset) within the deadline; data is skipped.
bool sees_eof(int fd) {
    char buf[4096];
    for (;;) {
        ssize_t r = read_some(fd, buf, sizeof buf);
        if (r == 0) return true;
        if (r < 0) return false;
    }
}

void echo(int fd) {
    char buf[65536];
    for (;;) {
        ssize_t r = read_some(fd, buf, sizeof buf);
        if (r <= 0 || !write_all(fd, std::string_view(buf, std::size_t(r)))) break;
    }
}

// Records callbacks (made on the shard thread) for the test thread. Hooks, if
// set, run on the shard thread inside the callback, outside the lock.
class recorder final : public eng::link_handler {
public:
    std::function<void(eng::link&)> up_hook;
    std::function<void(eng::link&, std::string_view)> data_hook;
    std::function<void(eng::link&, int)> down_hook;

    void on_link_up(eng::link& l) override {
        EXPECT_EQ(l.current(), eng::link::state::up);
        note([&] { ++ups; });
        if (up_hook) up_hook(l);
    }
    void on_link_data(eng::link& l, std::string_view bytes) override {
        note([&] { data.append(bytes); });
        if (data_hook) data_hook(l, bytes);
    }
    void on_link_down(eng::link& l, int error) override {
        EXPECT_GT(error, 0);
        EXPECT_EQ(l.current(), eng::link::state::waiting);
        EXPECT_FALSE(l.send("x"));  // down: nothing is queued
        const auto now = eng::shard::current()->now_ms();
        note([&] {
            errors.push_back(error);
            down_times.push_back(now);
        });
        if (down_hook) down_hook(l, error);
    }

    // Waits (bounded) until pred() holds under the lock.
    template <class Pred>
    bool wait(Pred pred) {
        std::unique_lock lk(mu_);
        return cv_.wait_for(lk, k_deadline, [&] { return pred(); });
    }
    template <class Fn>
    auto read(Fn fn) {
        std::lock_guard lk(mu_);
        return fn();
    }
    // Callbacks after this count as violations.
    void mark_closed() {
        std::lock_guard lk(mu_);
        closed = true;
    }

    int ups = 0;
    std::string data;
    std::vector<int> errors;
    std::vector<std::uint64_t> down_times;
    int after_close = 0;
    bool closed = false;

private:
    template <class Fn>
    void note(Fn fn) {
        {
            std::lock_guard lk(mu_);
            if (closed) ++after_close;
            fn();
        }
        cv_.notify_all();
    }
    std::mutex mu_;
    std::condition_variable cv_;
};

eng::link_options to(std::uint16_t port, const char* host = "127.0.0.1") {
    eng::link_options o;
    o.host = host;
    o.port = port;
    o.backoff_min_ms = 20;
    o.backoff_max_ms = 100;
    o.connect_timeout_ms = 5000;
    return o;
}

std::string payload(std::size_t n) {
    std::string s(n, '\0');
    std::mt19937 rng(42);
    for (auto& c : s)
        c = char(rng());
    return s;
}

TEST(link_test, echoes_small_and_large_payloads_in_order) {
    listener lis;
    std::jthread peer([&] {
        int fd = lis.accept_one();
        if (fd < 0) return;
        echo(fd);
        ::close(fd);
    });
    recorder rec;
    test_server ts(one_shard());
    ts.start();
    eng::link* l = ts.on_shard(0, [&](eng::shard& sh) {
        eng::link_options o = to(lis.port());
        o.recv_buffer_size = 4096;  // far smaller than the large payload
        eng::link* x = sh.open_link(o, rec);
        EXPECT_EQ(x->current(), eng::link::state::connecting);
        EXPECT_FALSE(x->send("early"));  // not up yet
        return x;
    });
    ASSERT_TRUE(rec.wait([&] { return rec.ups == 1; }));

    ASSERT_TRUE(ts.on_shard(0, [&](eng::shard&) { return l->send("hello"); }));
    ASSERT_TRUE(rec.wait([&] { return rec.data.size() >= 5; }));
    EXPECT_EQ(rec.read([&] { return rec.data; }), "hello");

    // Many sends in one turn, then 4 MiB in one: in order, intact.
    std::string expect = "hello";
    ts.on_shard(0, [&](eng::shard&) {
        for (int i = 0; i < 1000; ++i) {
            std::string s = std::to_string(i);  // (not "m" + ...: GCC 12 -Wrestrict)
            s += ';';
            ASSERT_TRUE(l->send(s));
            expect += s;
        }
    });
    const std::string big = payload(4u << 20);
    expect += big;
    ASSERT_TRUE(ts.on_shard(0, [&](eng::shard&) { return l->send(big); }));
    ASSERT_TRUE(rec.wait([&] { return rec.data.size() >= expect.size(); }));
    EXPECT_TRUE(rec.read([&] { return rec.data == expect; }));

    ts.on_shard(0, [&](eng::shard&) {
        EXPECT_EQ(l->stats().connects, 1u);
        EXPECT_EQ(l->stats().failures, 0u);
        EXPECT_EQ(l->stats().bytes_sent, expect.size());
        EXPECT_EQ(l->stats().bytes_received, expect.size());
        EXPECT_EQ(l->queued_bytes(), 0u);
        rec.mark_closed();
        l->close();
        EXPECT_EQ(l->current(), eng::link::state::closed);
    });
    peer.join();  // the echo ends at the link's EOF
    EXPECT_EQ(rec.read([&] { return rec.after_close; }), 0);
    EXPECT_EQ(rec.read([&] { return rec.errors.size(); }), 0u);
}

TEST(link_test, connects_over_ipv6) {
    std::unique_ptr<listener> lis;
    try {
        lis = std::make_unique<listener>(16, true);
    } catch (const std::exception&) {
        GTEST_SKIP() << "no IPv6 loopback";
    }
    std::jthread peer([&] {
        int fd = lis->accept_one();
        if (fd < 0) return;
        echo(fd);
        ::close(fd);
    });
    recorder rec;
    test_server ts(one_shard());
    ts.start();
    eng::link* l =
        ts.on_shard(0, [&](eng::shard& sh) { return sh.open_link(to(lis->port(), "::1"), rec); });
    ASSERT_TRUE(rec.wait([&] { return rec.ups == 1; }));
    ASSERT_TRUE(ts.on_shard(0, [&](eng::shard&) { return l->send("six"); }));
    ASSERT_TRUE(rec.wait([&] { return rec.data == "six"; }));
    ts.on_shard(0, [&](eng::shard&) { l->close(); });
    peer.join();
}

TEST(link_test, reconnects_after_the_peer_closes) {
    const std::size_t fds_before = open_fds();
    {
        listener lis;
        std::atomic<bool> second_eof{false};
        std::jthread peer([&] {
            int fd = lis.accept_one();
            if (fd < 0) return;
            ::close(fd);  // lost: the link must come back
            fd = lis.accept_one();
            if (fd < 0) return;
            second_eof = sees_eof(fd);
            ::close(fd);
        });
        recorder rec;
        test_server ts(one_shard());
        ts.start();
        eng::link* l =
            ts.on_shard(0, [&](eng::shard& sh) { return sh.open_link(to(lis.port()), rec); });
        ASSERT_TRUE(rec.wait([&] { return rec.ups == 2; }));
        EXPECT_EQ(rec.read([&] { return rec.errors; }), std::vector<int>{ECONNRESET});
        ts.on_shard(0, [&](eng::shard&) {
            EXPECT_TRUE(l->up());
            EXPECT_EQ(l->stats().connects, 2u);
            EXPECT_EQ(l->stats().failures, 1u);
            rec.mark_closed();
            l->close();
        });
        peer.join();
        EXPECT_TRUE(second_eof);
        EXPECT_EQ(rec.read([&] { return rec.after_close; }), 0);
    }
    EXPECT_EQ(open_fds(), fds_before);  // sockets, listeners, eventfds, rings: all closed
}

TEST(link_test, refused_connects_back_off_and_close_stops_them) {
    listener refusing(-1);
    const std::uint16_t port = refusing.port();
    const std::size_t fds_before = open_fds();
    {
        recorder rec;
        test_server ts(one_shard());
        ts.start();
        eng::link_options o = to(port);
        o.backoff_min_ms = 10;
        o.backoff_max_ms = 80;
        eng::link* l = ts.on_shard(0, [&](eng::shard& sh) { return sh.open_link(o, rec); });
        constexpr std::size_t k_failures = 7;
        ASSERT_TRUE(rec.wait([&] { return rec.errors.size() >= k_failures; }));
        auto [errors, times] = rec.read([&] { return std::pair(rec.errors, rec.down_times); });
        for (int e : errors)
            EXPECT_EQ(e, ECONNREFUSED);
        // Delay k is drawn from [d/2, d], d = 10, 20, 40, 80, 80...: never shorter
        // than d/2 (the wheel never fires early), and each one bounded.
        std::uint64_t d = o.backoff_min_ms;
        for (std::size_t k = 1; k < k_failures; ++k) {
            const std::uint64_t gap = times[k] - times[k - 1];
            EXPECT_GE(gap, d / 2) << "retry " << k;
            EXPECT_LE(gap, d + 2000) << "retry " << k;  // generous for sanitizers
            d = std::min<std::uint64_t>(d * 2, o.backoff_max_ms);
        }
        ts.on_shard(0, [&](eng::shard&) {
            EXPECT_EQ(rec.ups, 0);
            EXPECT_GE(l->stats().failures, k_failures);
            EXPECT_EQ(l->stats().connects, 0u);
            const auto s = l->current();
            EXPECT_TRUE(s == eng::link::state::waiting || s == eng::link::state::connecting);
            EXPECT_FALSE(l->send("x"));
            rec.mark_closed();
            l->close();
        });
        // No callback after close(): let several back-off periods pass, then ask
        // the shard to finish a turn so anything due has run.
        std::this_thread::sleep_for(300ms);
        ts.on_shard(0, [](eng::shard&) {});
        EXPECT_EQ(rec.read([&] { return rec.after_close; }), 0);
    }
    EXPECT_EQ(open_fds(), fds_before);
}

TEST(link_test, connect_timeout_reports_etimedout) {
    // A listener whose accept queue is full drops SYNs: connects hang.
    listener lis(0);
    int filler = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(lis.port());
    ASSERT_EQ(::connect(filler, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    pollfd p{lis.fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, k_deadline_ms), 1);  // the filler sits in the queue

    recorder rec;
    test_server ts(one_shard());
    ts.start();
    eng::link_options o = to(lis.port());
    o.connect_timeout_ms = 200;
    o.backoff_min_ms = 5000;  // one attempt while the test looks
    o.backoff_max_ms = 5000;
    eng::link* l = ts.on_shard(0, [&](eng::shard& sh) { return sh.open_link(o, rec); });
    ASSERT_TRUE(rec.wait([&] { return !rec.errors.empty(); }));
    EXPECT_EQ(rec.read([&] { return rec.errors[0]; }), ETIMEDOUT);
    ts.on_shard(0, [&](eng::shard&) {
        EXPECT_EQ(l->current(), eng::link::state::waiting);
        l->close();
    });
    ::close(filler);
}

TEST(link_test, handlers_may_close_reset_and_send_from_callbacks) {
    listener lis;
    std::atomic<bool> eof1{false}, eof2{false};
    std::string got2;
    std::jthread peer([&] {
        // 1: the link resets itself from on_link_up.
        int fd = lis.accept_one();
        if (fd < 0) return;
        eof1 = sees_eof(fd);
        ::close(fd);
        // 2: on_link_up sends; on_link_data closes on the first bytes.
        fd = lis.accept_one();
        if (fd < 0) return;
        if (read_exact(fd, got2, 5)) write_all(fd, "one");
        eof2 = sees_eof(fd);
        ::close(fd);
    });
    recorder rec;
    test_server ts(one_shard());
    ts.start();
    rec.up_hook = [&](eng::link& l) {
        if (l.stats().connects == 1) {
            l.reset(EPROTO);  // on_link_down(EPROTO) is called from here
            EXPECT_EQ(l.current(), eng::link::state::waiting);
            EXPECT_FALSE(l.send("lost"));
            return;
        }
        EXPECT_TRUE(l.send("hel"));
        EXPECT_TRUE(l.send("lo"));
    };
    rec.data_hook = [&](eng::link& l, std::string_view) {
        rec.mark_closed();
        l.close();
        EXPECT_FALSE(l.send("after"));
        l.reset(EIO);  // closed: nothing happens
    };
    ts.on_shard(0, [&](eng::shard& sh) { sh.open_link(to(lis.port()), rec); });
    peer.join();
    EXPECT_TRUE(eof1);
    EXPECT_TRUE(eof2);
    EXPECT_EQ(got2, "hello");
    ts.on_shard(0, [](eng::shard&) {});
    rec.read([&] {
        EXPECT_EQ(rec.ups, 2);
        EXPECT_EQ(rec.errors, std::vector<int>{EPROTO});
        EXPECT_EQ(rec.data.substr(0, 1), "o");  // at least the first bytes of "one"
        EXPECT_EQ(rec.after_close, 0);
        return 0;
    });
}

TEST(link_test, reset_while_a_send_is_stuck_drops_it_and_the_next_connection_is_clean) {
    listener lis;
    std::jthread peer([&] {
        int first = lis.accept_one();  // never read: the link's send stays in flight
        if (first < 0) return;
        int second = lis.accept_one();
        if (second >= 0) {
            echo(second);
            ::close(second);
        }
        ::close(first);
    });
    recorder rec;
    rec.up_hook = [](eng::link& l) {
        if (l.stats().connects == 2) {
            EXPECT_TRUE(l.send("fresh"));
        }
    };
    test_server ts(one_shard());
    ts.start();
    eng::link* l =
        ts.on_shard(0, [&](eng::shard& sh) { return sh.open_link(to(lis.port()), rec); });
    ASSERT_TRUE(rec.wait([&] { return rec.ups == 1; }));
    const std::string big = payload(32u << 20);  // more than loopback socket buffers hold
    ASSERT_TRUE(ts.on_shard(0, [&](eng::shard&) { return l->send(big); }));
    ts.on_shard(0, [&](eng::shard&) {
        EXPECT_GT(l->queued_bytes(), 0u);
        l->reset(EPROTO);
        EXPECT_EQ(l->queued_bytes(), 0u);
        EXPECT_LT(l->stats().bytes_sent, big.size());
    });
    // The second connection gets only what was sent on it, although the first
    // connection's send may still be completing when it comes up.
    ASSERT_TRUE(rec.wait([&] { return rec.data.size() >= 5; }));
    EXPECT_EQ(rec.read([&] { return rec.data; }), "fresh");
    EXPECT_EQ(rec.read([&] { return rec.errors; }), std::vector<int>{EPROTO});
    ts.on_shard(0, [&](eng::shard&) { l->close(); });
}

TEST(link_test, close_from_on_link_down_stops_reconnecting) {
    listener refusing(-1);
    const std::uint16_t port = refusing.port();
    recorder rec;
    test_server ts(one_shard());
    ts.start();
    rec.down_hook = [&](eng::link& l, int) {
        rec.mark_closed();
        l.close();
    };
    eng::link_options o = to(port);
    o.backoff_min_ms = o.backoff_max_ms = 1;
    ts.on_shard(0, [&](eng::shard& sh) { sh.open_link(o, rec); });
    ASSERT_TRUE(rec.wait([&] { return rec.errors.size() == 1; }));
    std::this_thread::sleep_for(100ms);  // 100 back-off periods
    ts.on_shard(0, [](eng::shard&) {});
    EXPECT_EQ(rec.read([&] { return rec.errors.size(); }), 1u);
    EXPECT_EQ(rec.read([&] { return rec.after_close; }), 0);
}

TEST(link_test, send_limits) {
    listener lis;
    std::string got;
    std::jthread peer([&] {
        int fd = lis.accept_one();
        if (fd < 0) return;
        if (read_exact(fd, got, 1024)) write_all(fd, "k");  // got it all
        (void)sees_eof(fd);
        ::close(fd);
    });
    recorder rec;
    test_server ts(one_shard());
    ts.start();
    eng::link_options o = to(lis.port());
    o.max_queued_bytes = 1024;
    eng::link* l = ts.on_shard(0, [&](eng::shard& sh) { return sh.open_link(o, rec); });
    ASSERT_TRUE(rec.wait([&] { return rec.ups == 1; }));
    const std::string a(1000, 'a'), b(24, 'b');
    ts.on_shard(0, [&](eng::shard&) {
        EXPECT_FALSE(l->send(std::string(2000, 'x')));  // alone over the bound
        EXPECT_TRUE(l->send(a));
        EXPECT_EQ(l->queued_bytes(), 1000u);
        EXPECT_FALSE(l->send(std::string(25, 'x')));  // 1025 > 1024: nothing queued
        EXPECT_TRUE(l->send(b));                      // exactly 1024
        EXPECT_FALSE(l->send("x"));
        EXPECT_TRUE(l->send(""));
        EXPECT_EQ(l->queued_bytes(), 1024u);
    });
    ASSERT_TRUE(rec.wait([&] { return rec.data == "k"; }));  // close() would drop them
    ts.on_shard(0, [&](eng::shard&) { l->close(); });
    peer.join();
    EXPECT_EQ(got, a + b);
}

TEST(link_test, invalid_options_throw_naming_the_field) {
    recorder rec;
    test_server ts(one_shard());
    ts.start();
    auto error_of = [&](eng::link_options o) {
        return ts.on_shard(0, [&](eng::shard& sh) -> std::string {
            try {
                sh.open_link(o, rec);
            } catch (const std::invalid_argument& e) {
                return e.what();
            }
            return "";
        });
    };
    eng::link_options o = to(6379, "localhost");
    EXPECT_NE(error_of(o).find("'localhost'"), std::string::npos);
    o = to(6379, "10.0.0.300");
    EXPECT_NE(error_of(o).find("host"), std::string::npos);
    o = to(0);
    EXPECT_NE(error_of(o).find("port"), std::string::npos);
    o = to(6379);
    o.backoff_min_ms = 10;
    o.backoff_max_ms = 5;
    EXPECT_NE(error_of(o).find("backoff_max_ms"), std::string::npos);
    o = to(6379);
    o.recv_buffer_size = 0;
    EXPECT_NE(error_of(o).find("recv_buffer_size"), std::string::npos);
}

TEST(link_test, stop_with_a_live_link_does_not_wait_and_closes_it) {
    const std::size_t fds_before = open_fds();
    {
        listener lis;
        std::atomic<bool> eof{false};
        std::jthread peer([&] {
            int fd = lis.accept_one();
            if (fd < 0) return;
            eof = sees_eof(fd);
            ::close(fd);
        });
        recorder rec;
        std::atomic<int> stop_hook_saw_up{0};
        eng::link* l = nullptr;
        {
            test_server ts(one_shard());
            ts.srv().on_shard_stop([&](eng::shard& sh) {
                EXPECT_EQ(eng::shard::current(), &sh);
                if (l && l->up()) ++stop_hook_saw_up;  // still up: closed after the hooks
            });
            ts.start();
            l = ts.on_shard(0, [&](eng::shard& sh) { return sh.open_link(to(lis.port()), rec); });
            ASSERT_TRUE(rec.wait([&] { return rec.ups == 1; }));
            ASSERT_TRUE(ts.on_shard(0, [&](eng::shard&) { return l->send("pending"); }));
            rec.mark_closed();
            const auto t0 = std::chrono::steady_clock::now();
            ts.srv().stop();
            EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
        }
        peer.join();
        EXPECT_TRUE(eof);
        EXPECT_EQ(stop_hook_saw_up, 1);
        EXPECT_EQ(rec.read([&] { return rec.after_close; }), 0);  // no on_link_down at stop
    }
    EXPECT_EQ(open_fds(), fds_before);
}

TEST(link_test, shard_hooks_run_on_each_shard_thread) {
    eng::server_options opts = test_server::default_options();
    opts.shards = 2;
    test_server ts(opts);
    std::mutex mu;
    std::vector<unsigned> started, stopped;
    std::atomic<int> wrong_thread{0};
    ts.srv().on_shard_start([](eng::shard&) { throw std::runtime_error("hook failure"); });
    ts.srv().on_shard_start([&](eng::shard& sh) {
        if (eng::shard::current() != &sh) ++wrong_thread;
        std::lock_guard lk(mu);
        started.push_back(sh.index());
    });
    ts.srv().on_shard_stop([&](eng::shard& sh) {
        if (eng::shard::current() != &sh) ++wrong_thread;
        std::lock_guard lk(mu);
        stopped.push_back(sh.index());
    });
    ts.start();
    EXPECT_THROW(ts.srv().on_shard_start([](eng::shard&) {}), std::logic_error);
    {
        std::lock_guard lk(mu);  // start() returns once every shard ran its hooks
        std::sort(started.begin(), started.end());
        EXPECT_EQ(started, (std::vector<unsigned>{0, 1}));
        EXPECT_TRUE(stopped.empty());
    }
    ts.srv().stop();
    std::sort(stopped.begin(), stopped.end());
    EXPECT_EQ(stopped, (std::vector<unsigned>{0, 1}));
    EXPECT_EQ(wrong_thread, 0);
}

TEST(link_test, a_link_opened_from_on_shard_start_connects) {
    listener lis;
    std::jthread peer([&] {
        int fd = lis.accept_one();
        if (fd < 0) return;
        echo(fd);
        ::close(fd);
    });
    recorder rec;
    rec.up_hook = [](eng::link& l) { EXPECT_TRUE(l.send("ping")); };
    eng::link* l = nullptr;
    test_server ts(one_shard());
    ts.srv().on_shard_start([&](eng::shard& sh) { l = sh.open_link(to(lis.port()), rec); });
    ts.srv().on_shard_stop([&](eng::shard&) {
        rec.mark_closed();
        l->close();
    });
    ts.start();
    ASSERT_TRUE(rec.wait([&] { return rec.data == "ping"; }));
    ts.srv().stop();
    peer.join();
    EXPECT_EQ(rec.read([&] { return rec.after_close; }), 0);
}

}  // namespace
