// publish_bench: one notify_channel() to N subscribers spread over the shards,
// timed from the call until every subscriber has read the frame, end to end
// over loopback (kernel and client included).
//
//   publish_bench [--subscribers 10000] [--shards 2] [--messages 200]
//
// The server runs in this process (ssepush::events on 2 shards); the N
// subscribers run in a forked client process, one epoll loop, which reports
// through a pipe when all N have received message k. The next message is
// published only after that, so each figure is one publish's full fan-out.
// Reports per-publish latency (median, p90, max), ns per delivery (median
// latency / N), and the server process's CPU time (user + kernel, including
// its sends) per delivery, which does not depend on how fast the client reads.
// Bounded: alarm() in both processes, deadlines on every wait.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ssepush/engine/server.h"
#include "ssepush/events/server_events.h"

using namespace std::chrono;

namespace {

[[noreturn]] void die(const std::string& m) {
    std::fprintf(stderr, "publish_bench: %s\n", m.c_str());
    std::exit(1);
}

bool write_all(int fd, const void* p, std::size_t n) {
    auto* c = static_cast<const char*>(p);
    while (n) {
        ssize_t w = ::write(fd, c, n);
        if (w <= 0) return false;
        c += w;
        n -= std::size_t(w);
    }
    return true;
}
bool read_all(int fd, void* p, std::size_t n) {
    auto* c = static_cast<char*>(p);
    while (n) {
        ssize_t r = ::read(fd, c, n);
        if (r <= 0) return false;
        c += r;
        n -= std::size_t(r);
    }
    return true;
}

// The subscribers: connect, wait for every cmd.onConnect, then count, per
// message number, how many connections have seen "cmd.bench {"n":k}".
void client_main(std::uint16_t port, unsigned n, unsigned messages, int up, int down) {
    alarm(600);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.20", &src.sin_addr);
    int ep = epoll_create1(0);
    struct conn {
        int fd = -1;
        std::string buf;
        unsigned next = 1;  // the message number it waits for
        bool ready = false;
    };
    std::vector<conn> cs(n);
    const std::string req =
        "GET /event-stream?channels=bench HTTP/1.1\r\nHost: b\r\nAccept: text/event-stream\r\n\r\n";
    for (unsigned i = 0; i < n; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) < 0) die("bind");
        if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) < 0) die("connect");
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) die("send");
        cs[i].fd = fd;
        epoll_event ev{EPOLLIN, {.u32 = i}};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    std::vector<unsigned> got(messages + 2, 0);
    unsigned ready = 0;
    unsigned reported = 0;
    epoll_event evs[1024];
    char b[65536];
    auto deadline = steady_clock::now() + seconds(300);
    while (reported < messages && steady_clock::now() < deadline) {
        int k = epoll_wait(ep, evs, 1024, 100);
        for (int e = 0; e < k; ++e) {
            conn& c = cs[evs[e].data.u32];
            ssize_t r = ::recv(c.fd, b, sizeof b, 0);
            if (r <= 0) die("a subscriber's stream closed");
            c.buf.append(b, std::size_t(r));
            if (!c.ready && c.buf.find("cmd.onConnect") != std::string::npos) {
                c.ready = true;
                if (++ready == n) {
                    unsigned zero = 0;
                    write_all(up, &zero, sizeof zero);
                }
            }
            for (;;) {
                std::string needle = "cmd.bench {\"n\":" + std::to_string(c.next) + "}";
                std::size_t at = c.buf.find(needle);
                if (at == std::string::npos) break;
                c.buf.erase(0, at + needle.size());
                if (++got[c.next] == n) {
                    unsigned done = c.next;
                    write_all(up, &done, sizeof done);
                    ++reported;
                }
                ++c.next;
            }
            if (c.buf.size() > 8192) c.buf.erase(0, c.buf.size() - 256);
        }
    }
    char x;
    read_all(down, &x, 1);
    std::_Exit(0);
}

}  // namespace

int main(int argc, char** argv) {
    unsigned subscribers = 10000, shards = 2, messages = 200;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto num = [&]() -> unsigned {
            if (i + 1 >= argc) die(a + " needs a value");
            return unsigned(std::strtoul(argv[++i], nullptr, 10));
        };
        if (a == "--subscribers")
            subscribers = num();
        else if (a == "--shards")
            shards = num();
        else if (a == "--messages")
            messages = num();
        else
            die("unknown option " + a);
    }
    if (subscribers == 0 || subscribers > 19000) die("--subscribers must be in [1, 19000]");
    alarm(600);
    ssepush::engine::server_options o;
    o.shards = shards;
    ssepush::engine::server srv(o);
    ssepush::events::options eo;
    eo.notify_channel_of_subscriptions = false;  // no join storm while connecting
    eo.idle_timeout = std::chrono::minutes(30);
    ssepush::events::server_events ev(srv, eo);
    srv.start();

    int up[2], down[2];
    if (pipe(up) < 0 || pipe(down) < 0) die("pipe");
    pid_t child = fork();
    if (child == 0) {
        ::close(up[0]);
        ::close(down[1]);
        client_main(srv.port(), subscribers, messages, up[1], down[0]);
    }
    ::close(up[1]);
    ::close(down[0]);
    unsigned msg = 0;
    if (!read_all(up[0], &msg, sizeof msg)) die("subscribers did not connect");

    auto cpu_seconds = [](int who) {
        rusage ru{};
        getrusage(who, &ru);
        return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    };
    const double cpu0 = cpu_seconds(RUSAGE_SELF);
    std::vector<double> lat;
    for (unsigned k = 1; k <= messages; ++k) {
        const std::string body = "{\"n\":" + std::to_string(k) + "}";
        auto t0 = steady_clock::now();
        ev.notify_channel("bench", "cmd.bench", body);
        if (!read_all(up[0], &msg, sizeof msg) || msg != k) die("delivery report missing");
        lat.push_back(duration<double, std::micro>(steady_clock::now() - t0).count());
        if (std::getenv("PUBLISH_BENCH_TRACE"))
            std::fprintf(stderr, "msg %u: %.0f us\n", k, lat.back());
    }
    const double server_cpu = cpu_seconds(RUSAGE_SELF) - cpu0;
    write_all(down[1], "x", 1);
    waitpid(child, nullptr, 0);
    std::sort(lat.begin(), lat.end());
    const double med = lat[lat.size() / 2];
    std::printf("subscribers %u on %u shards, %u publishes\n", subscribers, shards, messages);
    std::printf("publish -> all delivered: median %.0f us, p90 %.0f us, max %.0f us\n", med,
                lat[lat.size() * 9 / 10], lat.back());
    std::printf("ns per delivery (median / subscribers): %.0f\n", med * 1000.0 / subscribers);
    std::printf("server CPU per delivery (user + kernel, all shards): %.0f ns\n",
                server_cpu * 1e9 / (double(subscribers) * messages));
    srv.stop();
    return 0;
}
