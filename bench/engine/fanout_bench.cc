// In-process fan-out: one frame to N streams of a shard, through the real
// shard code path (shard::send over N stream_refs, then shard::flush(), which
// prepares one send SQE per stream). Kernel excluded: the timed region ends
// before the ring is submitted, and the loop turn that submits is not timed.
//
// The streams are real loopback connections held by a one-shard server in
// this process; a drain thread keeps their receive buffers empty so sends
// never back up between iterations.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "ssepush/engine/frame.h"
#include "ssepush/engine/server.h"
#include "ssepush/engine/shard.h"
#include "support/test_client.h"

namespace eng = ssepush::engine;
using ssepush::testing::test_client;

namespace {

struct fixture {
    explicit fixture(unsigned n) : srv(make_opts(n)) {
        srv.route(eng::method_set::of({ssepush::proto::method::get}), "/stream",
                  [this](eng::exchange& ex) { streams.push_back(ex.open_stream({})); });
        srv.start();
        clients.reserve(n);
        for (unsigned i = 0; i < n; ++i) {
            // Spread source addresses so 10k+ connections never exhaust ports.
            std::string src = "127.0.1." + std::to_string(1 + i / 20000);
            clients.emplace_back(srv.port(), src.c_str());
            clients.back().send("GET /stream HTTP/1.1\r\nHost: b\r\n\r\n");
        }
        for (auto& c : clients)
            c.read_until("\r\n\r\n");
        ep = epoll_create1(0);
        for (auto& c : clients) {
            epoll_event ev{EPOLLIN, {.fd = c.fd()}};
            epoll_ctl(ep, EPOLL_CTL_ADD, c.fd(), &ev);
        }
        drain = std::thread([this] {
            // Keep the reader off the shard's CPU (the shard is pinned to CPU 0).
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(1, &set);
            (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
            epoll_event evs[256];
            char buf[65536];
            while (!stop.load(std::memory_order_relaxed)) {
                int n = epoll_wait(ep, evs, 256, 50);
                for (int i = 0; i < n; ++i)
                    while (::recv(evs[i].data.fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
                    }
            }
        });
    }
    ~fixture() {
        stop = true;
        drain.join();
        srv.stop();
        ::close(ep);
    }
    static eng::server_options make_opts(unsigned n) {
        eng::server_options o;
        o.shards = 1;
        o.pin_threads = true;
        o.sq_entries = 16384;  // room for one SQE per stream without an early submit
        o.cq_entries = 65536;
        o.max_connections_per_shard = n + 16;
        return o;
    }

    // Runs one fan-out on the shard and returns its duration in seconds.
    double fan_out_once(const std::string& payload) {
        std::promise<double> p;
        auto f = p.get_future();
        srv.run_on(0, [&](eng::shard& s) {
            ssepush::proto::sse_event ev;
            ev.has_id = true;
            ev.data = payload;
            auto t0 = std::chrono::steady_clock::now();
            ev.id = s.next_event_id();
            eng::frame_ptr fr(eng::frame::sse(ev));
            s.send(streams.data(), streams.size(), fr.get());
            s.flush();
            auto t1 = std::chrono::steady_clock::now();
            p.set_value(std::chrono::duration<double>(t1 - t0).count());
        });
        return f.get();
    }

    eng::server srv;
    std::vector<eng::stream_ref> streams;  // touched on shard 0 only
    std::vector<test_client> clients;
    int ep = -1;
    std::atomic<bool> stop{false};
    std::thread drain;
};

void bm_fanout(benchmark::State& state) {
    const unsigned n = unsigned(state.range(0));
    fixture fx(n);
    std::promise<std::size_t> opened;
    fx.srv.run_on(0, [&](eng::shard&) { opened.set_value(fx.streams.size()); });
    if (opened.get_future().get() != n) {
        state.SkipWithError("streams did not open");
        return;
    }
    const std::string payload =
        "home@cmd.chat {\"id\":1,\"fromUserId\":\"-1\",\"fromName\":\"user1\",\"message\":"
        "\"hello from the benchmark\",\"private\":false}";
    double total = 0;
    for (auto _ : state) {
        double t = fx.fan_out_once(payload);
        total += t;
        state.SetIterationTime(t);
    }
    state.SetItemsProcessed(std::int64_t(state.iterations()) * n);
    state.counters["ns_per_recipient"] = total * 1e9 / (double(state.iterations()) * n);
}
// Repetitions: the other core runs the kernel's loopback delivery and the drain
// thread for the previous iteration; report the median of the repetitions.
BENCHMARK(bm_fanout)
    ->Arg(1000)
    ->Arg(10000)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

}  // namespace
