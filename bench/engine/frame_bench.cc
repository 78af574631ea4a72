// Frame building and the per-connection out-queue: the two pieces of the
// fan-out path that do not need a socket.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "out_queue.h"
#include "ssepush/engine/frame.h"

namespace eng = ssepush::engine;

namespace {

const std::string k_payload =
    "home@cmd.chat {\"id\":1,\"fromUserId\":\"-1\",\"fromName\":\"user1\",\"message\":"
    "\"hello, this is a chat message of a realistic size for a push\",\"private\":false}";

// One SSE frame (id + data line) encoded straight into its allocation, then freed.
void bm_frame_build_sse(benchmark::State& state) {
    std::uint64_t id = 1;
    for (auto _ : state) {
        ssepush::proto::sse_event ev;
        ev.has_id = true;
        ev.id = id++;
        ev.data = k_payload;
        eng::frame_ptr f(eng::frame::sse(ev));
        benchmark::DoNotOptimize(f.get());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * std::int64_t(k_payload.size()));
}
BENCHMARK(bm_frame_build_sse);

// Push `range(0)` frames on a queue, then prepare the iovecs and complete the
// send of all of them: the queue's work per frame for a stream that receives a
// burst (1) or a steady trickle (1 per flush).
void bm_out_queue_push_flush(benchmark::State& state) {
    const int burst = int(state.range(0));
    ssepush::proto::sse_event ev;
    ev.has_id = true;
    ev.id = 7;
    ev.data = k_payload;
    eng::frame_ptr f(eng::frame::sse(ev));
    eng::detail::out_queue q;
    q.set_chunked(true);
    iovec iov[32];
    for (auto _ : state) {
        for (int i = 0; i < burst; ++i) {
            f->ref();
            q.push(f.get());
        }
        while (!q.empty()) {
            std::uint32_t n = q.prepare(iov, 32);
            std::size_t bytes = 0;
            for (std::uint32_t i = 0; i < n; ++i)
                bytes += iov[i].iov_len;
            q.complete(bytes);
        }
    }
    state.SetItemsProcessed(state.iterations() * burst);
}
BENCHMARK(bm_out_queue_push_flush)->Arg(1)->Arg(8)->Arg(32)->Arg(256);

// A frame shared by many queues: the reference counting and pointer pushes of a
// fan-out, without the shard around it.
void bm_out_queue_fanout_push(benchmark::State& state) {
    const int n = int(state.range(0));
    std::vector<eng::detail::out_queue> qs(static_cast<std::size_t>(n));
    ssepush::proto::sse_event ev;
    ev.data = k_payload;
    eng::frame_ptr f(eng::frame::sse(ev));
    iovec iov[32];
    for (auto _ : state) {
        f->ref_n(std::uint32_t(n));
        for (auto& q : qs)
            q.push(f.get());
        state.PauseTiming();
        for (auto& q : qs) {
            std::uint32_t k = q.prepare(iov, 32);
            q.complete(k ? iov[0].iov_len : 0);
        }
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(bm_out_queue_fanout_push)->Arg(10000);

}  // namespace
