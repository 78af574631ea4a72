// Cross-thread queues: spsc_ring (shard to shard) and mpsc_queue (foreign threads to
// a shard), single-threaded cost per operation and cross-thread throughput, next to
// a mutex + std::deque baseline.
//
//   build/release/bench/engine/queues_bench --benchmark_min_time=1

#include "ssepush/engine/mpsc_queue.h"
#include "ssepush/engine/spsc_ring.h"

#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ssepush::engine {
namespace {

// The size of the engine's cross-shard message.
struct message {
    std::uint64_t a;
    std::uint64_t b;
    std::uint64_t c;
    std::uint64_t d;
};
static_assert(sizeof(message) == 32);

constexpr std::uint64_t k_items_per_round = 1 << 16;

// --- spsc_ring, one thread -----------------------------------------------------------

void BM_spsc_push_pop(benchmark::State& state) {
    spsc_ring<message> ring(1024);
    message m{1, 2, 3, 4};
    for (auto _ : state) {
        benchmark::DoNotOptimize(ring.try_push(m));
        benchmark::DoNotOptimize(ring.try_pop(m));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_spsc_push_pop);

void BM_spsc_push_n_consume(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    spsc_ring<message> ring(1024);
    std::vector<message> items(batch, message{1, 2, 3, 4});
    std::uint64_t sum = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(ring.try_push_n(items.data(), batch));
        ring.consume([&sum](message& m) noexcept { sum += m.a; }, batch);
    }
    benchmark::DoNotOptimize(sum);
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}
BENCHMARK(BM_spsc_push_n_consume)->Arg(1)->Arg(8)->Arg(32)->Arg(128);

// --- spsc_ring, producer thread -> consumer thread -----------------------------------

// Each iteration moves k_items_per_round messages from a producer thread to the
// benchmark thread. batch == 1: try_push / try_pop; otherwise try_push_n / consume.
void BM_spsc_cross_thread(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    spsc_ring<message> ring(1024);
    std::atomic<std::uint64_t> rounds{0};
    std::atomic<bool> stop{false};

    std::thread producer([&] {
        std::vector<message> items(batch);
        std::uint64_t done = 0;
        for (;;) {
            while (rounds.load(std::memory_order_acquire) == done) {
                if (stop.load(std::memory_order_acquire)) return;
                std::this_thread::yield();
            }
            ++done;
            std::uint64_t left = k_items_per_round;
            while (left > 0) {
                std::size_t pushed = 0;
                if (batch == 1) {
                    pushed = ring.try_push(message{left, 0, 0, 0}) ? 1 : 0;
                } else {
                    const std::size_t n = left < batch ? static_cast<std::size_t>(left) : batch;
                    for (std::size_t i = 0; i < n; ++i)
                        items[i].a = left - i;
                    pushed = ring.try_push_n(items.data(), n);
                }
                left -= pushed;
                if (pushed == 0) std::this_thread::yield();
            }
        }
    });

    std::uint64_t sum = 0;
    for (auto _ : state) {
        rounds.fetch_add(1, std::memory_order_release);
        std::uint64_t left = k_items_per_round;
        while (left > 0) {
            std::size_t got = 0;
            if (batch == 1) {
                message m;
                if (ring.try_pop(m)) {
                    sum += m.a;
                    got = 1;
                }
            } else {
                got = ring.consume([&sum](message& m) noexcept { sum += m.a; }, 4 * batch);
            }
            left -= got;
            if (got == 0) std::this_thread::yield();
        }
    }
    stop.store(true, std::memory_order_release);
    producer.join();
    benchmark::DoNotOptimize(sum);
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(k_items_per_round));
}
BENCHMARK(BM_spsc_cross_thread)->Arg(1)->Arg(16)->UseRealTime()->Unit(benchmark::kMillisecond);

// Baseline: the same hand-off through a mutex-protected std::deque.
void BM_mutex_deque_cross_thread(benchmark::State& state) {
    std::mutex mu;
    std::deque<message> q;
    std::atomic<std::uint64_t> rounds{0};
    std::atomic<bool> stop{false};

    std::thread producer([&] {
        std::uint64_t done = 0;
        for (;;) {
            while (rounds.load(std::memory_order_acquire) == done) {
                if (stop.load(std::memory_order_acquire)) return;
                std::this_thread::yield();
            }
            ++done;
            for (std::uint64_t i = 0; i < k_items_per_round; ++i) {
                std::lock_guard lock(mu);
                q.push_back(message{i, 0, 0, 0});
            }
        }
    });

    std::uint64_t sum = 0;
    for (auto _ : state) {
        rounds.fetch_add(1, std::memory_order_release);
        std::uint64_t left = k_items_per_round;
        while (left > 0) {
            bool got = false;
            {
                std::lock_guard lock(mu);
                if (!q.empty()) {
                    sum += q.front().a;
                    q.pop_front();
                    got = true;
                }
            }
            if (got) {
                --left;
            } else {
                std::this_thread::yield();
            }
        }
    }
    stop.store(true, std::memory_order_release);
    producer.join();
    benchmark::DoNotOptimize(sum);
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(k_items_per_round));
}
BENCHMARK(BM_mutex_deque_cross_thread)->UseRealTime()->Unit(benchmark::kMillisecond);

// --- mpsc_queue --------------------------------------------------------------------

struct node : mpsc_node {
    std::uint64_t value = 0;
};

void BM_mpsc_push_pop(benchmark::State& state) {
    mpsc_queue q;
    node n;
    for (auto _ : state) {
        q.push(&n);
        benchmark::DoNotOptimize(q.pop());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_mpsc_push_pop);

void BM_mpsc_push_pop_batch(benchmark::State& state) {
    // Push 64 nodes, then pop them: the queue is walked rather than ping-ponged
    // through the stub.
    mpsc_queue q;
    std::array<node, 64> nodes{};
    for (auto _ : state) {
        for (node& n : nodes)
            q.push(&n);
        while (mpsc_node* n = q.pop())
            benchmark::DoNotOptimize(n);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(nodes.size()));
}
BENCHMARK(BM_mpsc_push_pop_batch);

// Producers (range(0) threads) each push k_items_per_round nodes per iteration from
// their own pool; the benchmark thread pops them all.
void BM_mpsc_cross_thread(benchmark::State& state) {
    const auto producers = static_cast<std::size_t>(state.range(0));
    mpsc_queue q;
    std::vector<std::unique_ptr<node[]>> pools;
    for (std::size_t p = 0; p < producers; ++p)
        pools.emplace_back(new node[k_items_per_round]);
    std::atomic<std::uint64_t> rounds{0};
    std::atomic<bool> stop{false};

    std::vector<std::thread> threads;
    for (std::size_t p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            std::uint64_t done = 0;
            for (;;) {
                while (rounds.load(std::memory_order_acquire) == done) {
                    if (stop.load(std::memory_order_acquire)) return;
                    std::this_thread::yield();
                }
                ++done;
                for (std::uint64_t i = 0; i < k_items_per_round; ++i) {
                    pools[p][i].value = i;
                    q.push(&pools[p][i]);
                }
            }
        });
    }

    std::uint64_t sum = 0;
    for (auto _ : state) {
        rounds.fetch_add(1, std::memory_order_release);
        std::uint64_t left = k_items_per_round * producers;
        while (left > 0) {
            if (mpsc_node* n = q.pop()) {
                sum += static_cast<node*>(n)->value;
                --left;
            } else {
                std::this_thread::yield();
            }
        }
    }
    stop.store(true, std::memory_order_release);
    for (auto& t : threads)
        t.join();
    benchmark::DoNotOptimize(sum);
    state.SetItemsProcessed(state.iterations() *
                            static_cast<std::int64_t>(k_items_per_round * producers));
}
BENCHMARK(BM_mpsc_cross_thread)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ssepush::engine
