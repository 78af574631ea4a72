// idle_streams: one server process holding N concurrent idle SSE streams,
// past the 20,000-descriptor limit of a process, and what each costs.
//
//   idle_streams [--connections 25000] [--shards 2] [--per-client 12500]
//                [--max-rss-per-conn BYTES]   (exit 1 if exceeded; 0 = report only)
//
// It forks the server (an engine server with /stream, /stats, /broadcast) and
// client processes (each at most --per-client connections, from its own
// 127.0.0.x source address, under the per-process fd limit). When every
// stream is open it reads the server's RSS, broadcasts one frame through the
// server's cross-shard path, and checks that every client connection got it.
// The server's connections are io_uring direct descriptors: its own fd table
// holds only listeners, eventfds and rings.
//
// Everything is bounded: each process arms alarm() and every wait has a deadline.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "ssepush/engine/frame.h"
#include "ssepush/engine/server.h"
#include "ssepush/engine/shard.h"
#include "support/test_client.h"

namespace eng = ssepush::engine;
using namespace std::chrono;

namespace {

struct config {
    unsigned connections = 25000;
    unsigned shards = 2;
    unsigned per_client = 12500;
    unsigned max_rss_per_conn = 0;
};

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "idle_streams: %s\n", msg.c_str());
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

long status_kib(pid_t pid, const char* key) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind(key, 0) == 0)
            return std::strtol(line.c_str() + std::strlen(key), nullptr, 10);
    return -1;
}

int fd_count(pid_t pid) {
    std::string cmd = "ls /proc/" + std::to_string(pid) + "/fd | wc -l";
    FILE* p = popen(cmd.c_str(), "r");
    int n = -1;
    if (p) {
        if (std::fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

// --- server process --------------------------------------------------------

std::vector<std::vector<eng::stream_ref>> g_streams;

void server_main(const config& cfg, int port_pipe) {
    alarm(300);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    eng::server_options o;
    o.shards = cfg.shards;
    o.max_connections_per_shard = 20000;
    o.keepalive_timeout_ms = 600'000;
    eng::server srv(o);
    g_streams.resize(cfg.shards);
    static const eng::stream_hooks hooks{[](void*, eng::stream_ref s, eng::close_reason) noexcept {
        auto& v = g_streams[eng::shard::current()->index()];
        auto it = std::find_if(v.begin(), v.end(), [&](auto& x) { return x.get() == s.get(); });
        if (it != v.end()) {
            *it = v.back();
            v.pop_back();
        }
    }};
    srv.route(eng::method_set::of({ssepush::proto::method::get}), "/stream", [](eng::exchange& ex) {
        eng::stream_options so;
        so.hooks = &hooks;
        if (auto s = ex.open_stream(so)) g_streams[ex.owner().index()].push_back(s);
    });
    srv.route(eng::method_set::of({ssepush::proto::method::get}), "/stats",
              [&srv](eng::exchange& ex) {
                  auto st = srv.stats();
                  ex.respond(200, "text/plain", std::to_string(st.open_streams) + "\n");
              });
    srv.route(eng::method_set::of({ssepush::proto::method::post}), "/broadcast",
              [&srv](eng::exchange& ex) {
                  srv.post_bytes(
                      srv.all_shards(), eng::shared_bytes::copy_of(ex.request().body),
                      [](eng::shard& s, std::string_view bytes, void*) noexcept {
                          ssepush::proto::sse_event ev;
                          ev.has_id = true;
                          ev.id = s.next_event_id();
                          ev.data = bytes;
                          eng::frame_ptr f(eng::frame::sse(ev));
                          auto& v = g_streams[s.index()];
                          s.send(v.data(), v.size(), f.get());
                      },
                      nullptr);
                  ex.respond(202, "text/plain", "ok\n");
              });
    srv.start();
    std::uint16_t port = srv.port();
    write_all(port_pipe, &port, sizeof port);
    ::close(port_pipe);
    int sig;
    sigwait(&sigs, &sig);
    srv.stop();
    std::_Exit(0);
}

// --- client process --------------------------------------------------------

void client_main(std::uint16_t port, unsigned count, unsigned index, int to_parent,
                 int from_parent) {
    alarm(300);
    std::string src = "127.0.0." + std::to_string(10 + index);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, src.c_str(), &from.sin_addr);

    int ep = epoll_create1(0);
    struct conn_state {
        int fd;
        std::string buf;
        int phase;  // 0 connecting, 1 head pending, 2 open, 3 got frame
    };
    std::vector<conn_state> conns(count);
    const char req[] = "GET /stream HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n";
    unsigned started = 0, open = 0, inflight = 0;
    auto deadline = steady_clock::now() + seconds(120);
    epoll_event evs[512];
    while (open < count && steady_clock::now() < deadline) {
        while (started < count && inflight < 512) {
            int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) die("client socket: " + std::string(std::strerror(errno)));
            int one = 1;
            setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
            if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) < 0)
                die("bind " + src + ": " + std::strerror(errno));
            ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
            conns[started] = conn_state{fd, {}, 0};
            epoll_event ev{EPOLLOUT | EPOLLIN, {.u32 = started}};
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            ++started;
            ++inflight;
        }
        int n = epoll_wait(ep, evs, 512, 100);
        for (int i = 0; i < n; ++i) {
            conn_state& c = conns[evs[i].data.u32];
            if (c.phase == 0 && (evs[i].events & EPOLLOUT)) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err) die("connect: " + std::string(std::strerror(err)));
                if (::send(c.fd, req, sizeof req - 1, MSG_NOSIGNAL) != ssize_t(sizeof req - 1))
                    die("send request");
                c.phase = 1;
                epoll_event ev{EPOLLIN, {.u32 = evs[i].data.u32}};
                epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
            } else if (c.phase == 1 && (evs[i].events & EPOLLIN)) {
                char b[4096];
                ssize_t r = ::recv(c.fd, b, sizeof b, 0);
                if (r <= 0) die("stream closed before its head");
                c.buf.append(b, std::size_t(r));
                if (c.buf.find("\r\n\r\n") != std::string::npos) {
                    if (c.buf.rfind("HTTP/1.1 200", 0) != 0)
                        die("bad stream head: " + c.buf.substr(0, 40));
                    c.phase = 2;
                    c.buf.clear();
                    ++open;
                    --inflight;
                }
            }
        }
    }
    std::uint64_t n_open = open;
    write_all(to_parent, &n_open, sizeof n_open);
    char go;
    if (!read_all(from_parent, &go, 1)) std::_Exit(0);
    // Every connection must now receive the broadcast frame.
    unsigned got = 0;
    deadline = steady_clock::now() + seconds(60);
    while (got < open && steady_clock::now() < deadline) {
        int n = epoll_wait(ep, evs, 512, 100);
        for (int i = 0; i < n; ++i) {
            conn_state& c = conns[evs[i].data.u32];
            char b[4096];
            ssize_t r = ::recv(c.fd, b, sizeof b, 0);
            if (r <= 0) continue;
            c.buf.append(b, std::size_t(r));
            if (c.phase == 2 && c.buf.find("data: ping\n\n") != std::string::npos) {
                c.phase = 3;
                ++got;
            }
        }
    }
    std::uint64_t n_got = got;
    write_all(to_parent, &n_got, sizeof n_got);
    read_all(from_parent, &go, 1);  // hold until the parent is done
    std::_Exit(0);
}

}  // namespace

int main(int argc, char** argv) {
    config cfg;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto num = [&]() -> unsigned {
            if (i + 1 >= argc) die(a + " needs a value");
            char* end;
            unsigned long v = std::strtoul(argv[++i], &end, 10);
            if (*end) die(a + ": not a number");
            return unsigned(v);
        };
        if (a == "--connections")
            cfg.connections = num();
        else if (a == "--shards")
            cfg.shards = num();
        else if (a == "--per-client")
            cfg.per_client = num();
        else if (a == "--max-rss-per-conn")
            cfg.max_rss_per_conn = num();
        else
            die("unknown option " + a);
    }
    if (cfg.per_client == 0 || cfg.per_client > 19000) die("--per-client must be in [1, 19000]");
    alarm(360);

    int port_pipe[2];
    if (pipe(port_pipe) < 0) die("pipe");
    pid_t server = fork();
    if (server == 0) {
        ::close(port_pipe[0]);
        server_main(cfg, port_pipe[1]);
    }
    ::close(port_pipe[1]);
    std::uint16_t port = 0;
    if (!read_all(port_pipe[0], &port, sizeof port)) die("server did not start");
    ::close(port_pipe[0]);

    // Baseline: server started and warmed by one request.
    {
        ssepush::testing::test_client c(port);
        c.send("GET /stats HTTP/1.1\r\nHost: b\r\n\r\n");
        if (!c.read_response()) die("warm-up request failed");
    }
    const long rss0 = status_kib(server, "VmRSS:");
    const long anon0 = status_kib(server, "RssAnon:");

    const unsigned nclients = (cfg.connections + cfg.per_client - 1) / cfg.per_client;
    std::vector<pid_t> clients;
    std::vector<int> to_child, from_child;
    unsigned left = cfg.connections;
    auto t0 = steady_clock::now();
    for (unsigned k = 0; k < nclients; ++k) {
        unsigned count = std::min(left, cfg.per_client);
        left -= count;
        int down[2], up[2];
        if (pipe(down) < 0 || pipe(up) < 0) die("pipe");
        pid_t p = fork();
        if (p == 0) {
            ::close(down[1]);
            ::close(up[0]);
            client_main(port, count, k, up[1], down[0]);
        }
        ::close(down[0]);
        ::close(up[1]);
        clients.push_back(p);
        to_child.push_back(down[1]);
        from_child.push_back(up[0]);
    }
    std::uint64_t open = 0;
    for (int fd : from_child) {
        std::uint64_t n = 0;
        if (!read_all(fd, &n, sizeof n)) die("client died while connecting");
        open += n;
    }
    const double connect_s = duration<double>(steady_clock::now() - t0).count();

    std::string server_streams;
    {
        ssepush::testing::test_client c(port);
        c.send("GET /stats HTTP/1.1\r\nHost: b\r\n\r\n");
        auto r = c.read_response();
        if (!r) die("stats request failed");
        server_streams = r->body;
        while (!server_streams.empty() && server_streams.back() == '\n')
            server_streams.pop_back();
    }
    const long rss1 = status_kib(server, "VmRSS:");
    const long anon1 = status_kib(server, "RssAnon:");
    const int server_fds = fd_count(server);

    {
        ssepush::testing::test_client c(port);
        c.send("POST /broadcast HTTP/1.1\r\nHost: b\r\nContent-Length: 4\r\n\r\nping");
        if (!c.read_response()) die("broadcast request failed");
    }
    for (int fd : to_child)
        write_all(fd, "g", 1);
    std::uint64_t got = 0;
    for (int fd : from_child) {
        std::uint64_t n = 0;
        if (!read_all(fd, &n, sizeof n)) die("client died while reading");
        got += n;
    }

    const double per_conn = open ? double(rss1 - rss0) * 1024.0 / double(open) : 0;
    const double per_conn_anon = open ? double(anon1 - anon0) * 1024.0 / double(open) : 0;
    std::printf("connections requested      %u (%u client processes)\n", cfg.connections, nclients);
    std::printf("streams open (clients)     %llu in %.2f s\n", (unsigned long long)open, connect_s);
    std::printf("streams open (server)      %s on %u shards\n", server_streams.c_str(), cfg.shards);
    std::printf("server fds in /proc        %d (connections are io_uring direct descriptors)\n",
                server_fds);
    std::printf("broadcast received         %llu of %llu\n", (unsigned long long)got,
                (unsigned long long)open);
    std::printf("server VmRSS               %ld KiB -> %ld KiB\n", rss0, rss1);
    std::printf("server RSS per idle stream %.0f bytes (RssAnon: %.0f bytes)\n", per_conn,
                per_conn_anon);

    for (int fd : to_child)
        ::close(fd);
    for (pid_t p : clients)
        waitpid(p, nullptr, 0);
    kill(server, SIGTERM);
    waitpid(server, nullptr, 0);

    bool ok =
        open == cfg.connections && got == open && server_streams == std::to_string(cfg.connections);
    if (cfg.max_rss_per_conn && per_conn > cfg.max_rss_per_conn) {
        std::printf("FAIL: %.0f bytes per stream exceeds %u\n", per_conn, cfg.max_rss_per_conn);
        ok = false;
    }
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
