// mpsc_queue: single-thread semantics and a multi-producer stress test (run it under
// TSan: ctest -L tsan).

#include "ssepush/engine/mpsc_queue.h"
#include "support/sanitizers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace ssepush::engine {
namespace {

using ssepush::testing::k_slowdown;  // stress sizes shrink under the sanitizers

struct item : mpsc_node {
    std::uint32_t producer = 0;
    std::uint64_t seq = 0;
};

item* as_item(mpsc_node* n) {
    return static_cast<item*>(n);
}

TEST(MpscQueue, StartsEmpty) {
    mpsc_queue q;
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.pop(), nullptr);
    EXPECT_EQ(q.pop(), nullptr);
    EXPECT_TRUE(q.empty());
}

TEST(MpscQueue, OneNode) {
    mpsc_queue q;
    item a;
    q.push(&a);
    EXPECT_FALSE(q.empty());
    EXPECT_EQ(q.pop(), &a);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.pop(), nullptr);
    // The popped node may be pushed again at once.
    q.push(&a);
    EXPECT_EQ(q.pop(), &a);
    EXPECT_EQ(q.pop(), nullptr);
}

TEST(MpscQueue, FifoOrder) {
    mpsc_queue q;
    std::vector<item> items(100);
    for (std::size_t i = 0; i < items.size(); ++i) {
        items[i].seq = i;
        q.push(&items[i]);
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
        mpsc_node* n = q.pop();
        ASSERT_NE(n, nullptr);
        EXPECT_EQ(as_item(n)->seq, i);
    }
    EXPECT_EQ(q.pop(), nullptr);
    EXPECT_TRUE(q.empty());
}

TEST(MpscQueue, InterleavedPushAndPopWithReuse) {
    // Exercises every branch of pop(): the stub at the front, a node with a
    // successor, and the last node (which makes the consumer push the stub).
    mpsc_queue q;
    std::vector<item> pool(8);
    std::uint64_t pushed = 0;
    std::uint64_t popped = 0;
    std::vector<item*> free_list;
    for (item& it : pool)
        free_list.push_back(&it);
    for (int round = 0; round < 2000; ++round) {
        const int pushes = round % 5;
        for (int i = 0; i < pushes && !free_list.empty(); ++i) {
            item* it = free_list.back();
            free_list.pop_back();
            it->seq = pushed++;
            q.push(it);
        }
        const int pops = (round * 7) % 4;
        for (int i = 0; i < pops; ++i) {
            mpsc_node* n = q.pop();
            if (n == nullptr) {
                ASSERT_EQ(popped, pushed);
                ASSERT_TRUE(q.empty());
                break;
            }
            ASSERT_EQ(as_item(n)->seq, popped++);
            free_list.push_back(as_item(n));
        }
        ASSERT_EQ(q.empty(), popped == pushed);
    }
    while (mpsc_node* n = q.pop())
        ASSERT_EQ(as_item(n)->seq, popped++);
    EXPECT_EQ(popped, pushed);
}

// Four producers each push `per_producer` nodes tagged (producer, seq). The consumer
// checks per-producer FIFO order and the total. Nodes come from small per-producer
// pools and are reused as soon as the consumer is done with them, which also checks
// that a popped node is no longer referenced by the queue.
TEST(MpscQueueThreads, FourProducersKeepPerProducerOrder) {
    constexpr std::uint32_t k_producers = 4;
    constexpr std::uint64_t k_per_producer = 1'000'000 / k_slowdown;
    constexpr std::uint64_t k_pool = 256;

    mpsc_queue q;
    std::vector<std::unique_ptr<item[]>> pools;
    for (std::uint32_t p = 0; p < k_producers; ++p)
        pools.emplace_back(new item[k_pool]);
    // consumed[p]: how many of producer p's nodes the consumer has finished with.
    // Release (consumer) / acquire (producer) orders the consumer's reads of a node
    // before the producer rewrites it.
    std::vector<std::atomic<std::uint64_t>> consumed(k_producers);
    for (auto& c : consumed)
        c.store(0);

    std::vector<std::thread> producers;
    for (std::uint32_t p = 0; p < k_producers; ++p) {
        producers.emplace_back([&, p] {
            for (std::uint64_t seq = 0; seq < k_per_producer; ++seq) {
                while (seq - consumed[p].load(std::memory_order_acquire) >= k_pool) {
                    std::this_thread::yield();
                }
                item& it = pools[p][seq % k_pool];
                it.producer = p;
                it.seq = seq;
                q.push(&it);
            }
        });
    }

    std::vector<std::uint64_t> next(k_producers, 0);
    std::uint64_t total = 0;
    std::uint64_t errors = 0;
    while (total < k_producers * k_per_producer) {
        mpsc_node* n = q.pop();
        if (n == nullptr) {
            std::this_thread::yield();
            continue;
        }
        const item* it = as_item(n);
        const std::uint32_t p = it->producer;
        ASSERT_LT(p, k_producers) << "corrupt node";  // (the joinable threads then abort the run)
        if (it->seq != next[p]) ++errors;
        next[p] = it->seq + 1;
        ++total;
        consumed[p].store(next[p], std::memory_order_release);
    }
    for (auto& t : producers)
        t.join();

    EXPECT_EQ(errors, 0u);
    EXPECT_EQ(total, k_producers * k_per_producer);
    for (std::uint32_t p = 0; p < k_producers; ++p)
        EXPECT_EQ(next[p], k_per_producer);
    EXPECT_EQ(q.pop(), nullptr);
    EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace ssepush::engine
