// timer_wheel: the cost of the operations a shard performs per connection (arm,
// cancel, lazy re-arm), of advance() when timers are due and when none are, and a
// std::multimap (ordered-tree timers, as nginx's rbtree) baseline.
//
//   build/release/bench/engine/timer_wheel_bench --benchmark_min_time=1

#include "ssepush/engine/timer_wheel.h"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <vector>

namespace ssepush::engine {
namespace {

constexpr std::uint64_t k_start = 1'000'000;

void noop(timer_node&) noexcept {}

// `count` timers armed at random deadlines within `horizon_ms`, as a busy shard
// would hold.
struct background {
    std::unique_ptr<timer_node[]> nodes;
    std::size_t count;

    background(timer_wheel& w, std::size_t n, std::uint64_t horizon_ms, std::uint64_t min_ms = 1)
        : nodes(new timer_node[n]), count(n) {
        std::mt19937_64 rng(42);
        for (std::size_t i = 0; i < n; ++i) {
            nodes[i].set_callback(&noop);
            w.arm(nodes[i], k_start + min_ms + rng() % horizon_ms);
        }
    }
    void cancel_all(timer_wheel& w) {
        for (std::size_t i = 0; i < count; ++i)
            w.cancel(nodes[i]);
    }
};

// Arm a 30 s idle timer and cancel it: a request/response connection's life.
void BM_timer_arm_cancel(benchmark::State& state) {
    timer_wheel w(k_start);
    background bg(w, static_cast<std::size_t>(state.range(0)), 60'000);
    timer_node n(&noop);
    std::uint64_t i = 0;
    for (auto _ : state) {
        w.arm(n, k_start + 30'000 + (i++ & 1023));
        w.cancel(n);
    }
    bg.cancel_all(w);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_timer_arm_cancel)->Arg(0)->Arg(10'000)->Arg(100'000);

// Re-arm an armed timer further out each time (an idle timer pushed back on
// every send, without the lazy trick).
void BM_timer_rearm(benchmark::State& state) {
    timer_wheel w(k_start);
    background bg(w, static_cast<std::size_t>(state.range(0)), 60'000);
    timer_node n(&noop);
    w.arm(n, k_start + 30'000);
    std::uint64_t i = 0;
    for (auto _ : state)
        w.arm(n, k_start + 30'000 + (++i & 4095) * 16);
    w.cancel(n);
    bg.cancel_all(w);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_timer_rearm)->Arg(0)->Arg(100'000);

// The lazy re-arm when the deadline moved by less than the slack: a no-op.
void BM_timer_arm_lazy_noop(benchmark::State& state) {
    timer_wheel w(k_start);
    timer_node n(&noop);
    w.arm(n, k_start + 30'000);
    std::uint64_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(w.arm_lazy(n, k_start + 30'000 + (++i & 255), 1'000));
    w.cancel(n);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_timer_arm_lazy_noop);

// advance() over one tick in which range(0) timers are due (fired, callbacks run).
void BM_timer_advance_due(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<timer_node> nodes(n);
    for (timer_node& t : nodes)
        t.set_callback(&noop);
    std::uint64_t now = k_start;
    timer_wheel w(now);
    for (auto _ : state) {
        state.PauseTiming();
        for (std::size_t i = 0; i < n; ++i)
            w.arm(nodes[i], now + 1 + i % 8);
        state.ResumeTiming();
        now += 8;
        benchmark::DoNotOptimize(w.advance(now));
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_timer_advance_due)->Arg(1'000)->Arg(10'000)->Arg(100'000);

// The same timers armed 1-60 s ahead and left to expire: what advance() costs in
// cascading plus firing, per timer, when time moves in 8 ms ticks.
void BM_timer_expire_spread(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<timer_node> nodes(n);
    for (timer_node& t : nodes)
        t.set_callback(&noop);
    std::uint64_t now = k_start;
    timer_wheel w(now);
    std::mt19937_64 rng(1);
    for (auto _ : state) {
        state.PauseTiming();
        for (std::size_t i = 0; i < n; ++i)
            w.arm(nodes[i], now + 1'000 + rng() % 59'000);
        state.ResumeTiming();
        while (!w.empty()) {
            now += 8;
            w.advance(now);
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_timer_expire_spread)->Arg(100'000)->Unit(benchmark::kMillisecond);

// advance() by one millisecond when nothing is due, with 100k timers hours to days
// away: must stay a few nanoseconds.
void BM_timer_advance_idle_far(benchmark::State& state) {
    std::uint64_t now = k_start;
    timer_wheel w(now);
    background bg(w, 100'000, 2 * 86'400'000ull, 3'600'000);
    for (auto _ : state)
        benchmark::DoNotOptimize(w.advance(++now));
    bg.cancel_all(w);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_timer_advance_idle_far);

void BM_timer_next_expiry_hint(benchmark::State& state) {
    timer_wheel w(k_start);
    background bg(w, 100'000, 3'600'000, 60'000);
    for (auto _ : state)
        benchmark::DoNotOptimize(w.next_expiry_hint(k_start));
    bg.cancel_all(w);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_timer_next_expiry_hint);

// Baseline: arm + cancel in an ordered multimap holding range(0) other timers.
void BM_multimap_arm_cancel(benchmark::State& state) {
    std::multimap<std::uint64_t, int> timers;
    std::mt19937_64 rng(42);
    for (std::int64_t i = 0; i < state.range(0); ++i)
        timers.emplace(k_start + 1 + rng() % 60'000, 0);
    std::uint64_t i = 0;
    for (auto _ : state) {
        auto it = timers.emplace(k_start + 30'000 + (i++ & 1023), 0);
        timers.erase(it);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_multimap_arm_cancel)->Arg(0)->Arg(10'000)->Arg(100'000);

}  // namespace
}  // namespace ssepush::engine
