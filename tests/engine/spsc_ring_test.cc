// spsc_ring: single-thread semantics and a cross-thread ordering stress test (run it
// under TSan: ctest -L tsan).

#include "ssepush/engine/spsc_ring.h"
#include "support/sanitizers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

namespace ssepush::engine {
namespace {

using ssepush::testing::k_slowdown;  // stress sizes shrink under the sanitizers

// The engine's cross-shard message is a 32-byte struct; the fields after `seq` are
// derived from it so that a torn or stale copy is detected.
struct message {
    std::uint64_t seq;
    std::uint64_t twice;
    std::uint64_t inverted;
    std::uint64_t tag;

    static message make(std::uint64_t seq) noexcept {
        return {seq, seq * 2, ~seq, 0x5353455055534821};
    }
    bool intact() const noexcept {
        return twice == seq * 2 && inverted == ~seq && tag == 0x5353455055534821;
    }
};
static_assert(sizeof(message) == 32);

TEST(SpscRing, RejectsCapacitiesThatAreNotPowersOfTwo) {
    EXPECT_THROW(spsc_ring<int>(0), std::invalid_argument);
    EXPECT_THROW(spsc_ring<int>(1), std::invalid_argument);
    EXPECT_THROW(spsc_ring<int>(3), std::invalid_argument);
    EXPECT_THROW(spsc_ring<int>(100), std::invalid_argument);
    EXPECT_EQ(spsc_ring<int>(2).capacity(), 2u);
    EXPECT_EQ(spsc_ring<int>(1024).capacity(), 1024u);
}

TEST(SpscRing, FillsUpThenDrainsInOrder) {
    spsc_ring<int> ring(8);
    EXPECT_TRUE(ring.empty());
    int out = -1;
    EXPECT_FALSE(ring.try_pop(out));
    EXPECT_EQ(out, -1);
    for (int i = 0; i < 8; ++i) {
        ASSERT_TRUE(ring.try_push(i));
        EXPECT_EQ(ring.size_approx(), static_cast<std::size_t>(i + 1));
    }
    EXPECT_FALSE(ring.try_push(99));  // full: unchanged
    EXPECT_FALSE(ring.empty());
    EXPECT_EQ(ring.size_approx(), 8u);
    for (int i = 0; i < 8; ++i) {
        ASSERT_TRUE(ring.try_pop(out));
        EXPECT_EQ(out, i);
    }
    EXPECT_FALSE(ring.try_pop(out));
    EXPECT_TRUE(ring.empty());
    EXPECT_TRUE(ring.try_push(8));  // room again
}

TEST(SpscRing, WrapsAroundManyTimes) {
    spsc_ring<std::uint32_t> ring(8);
    std::uint32_t next_in = 0;
    std::uint32_t next_out = 0;
    for (int round = 0; round < 1000; ++round) {
        const int burst = 1 + round % 8;
        for (int i = 0; i < burst; ++i)
            ASSERT_TRUE(ring.try_push(next_in++));
        for (int i = 0; i < burst; ++i) {
            std::uint32_t v = 0;
            ASSERT_TRUE(ring.try_pop(v));
            ASSERT_EQ(v, next_out++);
        }
        ASSERT_TRUE(ring.empty());
    }
}

TEST(SpscRing, TryPushNPushesWhatFits) {
    spsc_ring<int> ring(8);
    const std::array<int, 12> items{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    EXPECT_EQ(ring.try_push_n(items.data(), 0), 0u);
    EXPECT_EQ(ring.try_push_n(items.data(), 3), 3u);
    EXPECT_EQ(ring.try_push_n(items.data() + 3, 9), 5u);  // partial: 5 of 9 fit
    EXPECT_EQ(ring.try_push_n(items.data() + 8, 4), 0u);  // full
    for (int i = 0; i < 8; ++i) {
        int v = -1;
        ASSERT_TRUE(ring.try_pop(v));
        EXPECT_EQ(v, i);
    }
    EXPECT_TRUE(ring.empty());
}

TEST(SpscRing, TryPushNAcrossTheWrapPoint) {
    spsc_ring<int> ring(8);
    int v = 0;
    for (int i = 0; i < 6; ++i)
        ASSERT_TRUE(ring.try_push(i));
    for (int i = 0; i < 6; ++i)
        ASSERT_TRUE(ring.try_pop(v));
    // Head and tail at index 6: a batch of 7 runs over the end of the buffer.
    const std::array<int, 7> items{10, 11, 12, 13, 14, 15, 16};
    EXPECT_EQ(ring.try_push_n(items.data(), items.size()), 7u);
    for (int expected : items) {
        ASSERT_TRUE(ring.try_pop(v));
        EXPECT_EQ(v, expected);
    }
}

TEST(SpscRing, ConsumeHonoursMax) {
    spsc_ring<int> ring(16);
    for (int i = 0; i < 6; ++i)
        ASSERT_TRUE(ring.try_push(i));
    std::vector<int> seen;
    auto take = [&seen](int& v) noexcept { seen.push_back(v); };
    EXPECT_EQ(ring.consume(take, 4), 4u);
    EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(ring.consume(take, 0), 0u);
    EXPECT_EQ(ring.consume(take, 10), 2u);
    EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(ring.consume(take, 10), 0u);
    EXPECT_TRUE(ring.empty());
    // Items pushed after the consumer cached the tail are found (the cache is
    // refreshed when it holds fewer than max).
    ASSERT_TRUE(ring.try_push(6));
    EXPECT_EQ(ring.consume(take, 1), 1u);
    EXPECT_EQ(seen.back(), 6);
}

TEST(SpscRing, ConsumeFreesSlotsForTheProducer) {
    spsc_ring<int> ring(4);
    for (int i = 0; i < 4; ++i)
        ASSERT_TRUE(ring.try_push(i));
    EXPECT_FALSE(ring.try_push(4));
    int sum = 0;
    EXPECT_EQ(ring.consume([&sum](int& v) noexcept { sum += v; }, 3), 3u);
    EXPECT_EQ(sum, 0 + 1 + 2);
    const std::array<int, 4> more{4, 5, 6, 7};
    EXPECT_EQ(ring.try_push_n(more.data(), more.size()), 3u);
    std::vector<int> rest;
    EXPECT_EQ(ring.consume([&rest](int& v) noexcept { rest.push_back(v); }, 100), 4u);
    EXPECT_EQ(rest, (std::vector<int>{3, 4, 5, 6}));
}

TEST(SpscRing, CarriesThirtyTwoByteMessages) {
    spsc_ring<message> ring(4);
    ASSERT_TRUE(ring.try_push(message::make(7)));
    message m{};
    ASSERT_TRUE(ring.try_pop(m));
    EXPECT_EQ(m.seq, 7u);
    EXPECT_TRUE(m.intact());
}

// How each side moves items: one at a time, in batches, or alternating.
enum class calls { single, batch, mixed };

// One producer thread and one consumer thread pass a sequence of numbers; every
// number must arrive once, intact, in order. Spinning sides yield; nothing sleeps.
void run_cross_thread(std::size_t capacity, std::uint64_t count, calls mode) {
    spsc_ring<message> ring(capacity);

    std::thread producer([&ring, count, mode] {
        std::uint64_t seq = 0;
        std::array<message, 16> batch{};
        while (seq < count) {
            std::size_t pushed = 0;
            const bool use_batch = mode == calls::batch || (mode == calls::mixed && seq % 3 == 0);
            if (use_batch) {
                const std::uint64_t n =
                    std::min<std::uint64_t>(1 + seq % batch.size(), count - seq);
                for (std::uint64_t i = 0; i < n; ++i)
                    batch[i] = message::make(seq + i);
                pushed = ring.try_push_n(batch.data(), n);
            } else {
                pushed = ring.try_push(message::make(seq)) ? 1 : 0;
            }
            seq += pushed;
            if (pushed == 0) std::this_thread::yield();
        }
    });

    std::uint64_t expected = 0;
    std::uint64_t errors = 0;
    std::uint64_t first_bad = 0;
    auto check = [&](const message& m) noexcept {
        if (m.seq != expected || !m.intact()) {
            if (errors++ == 0) first_bad = expected;
        }
        ++expected;
    };
    while (expected < count) {
        std::size_t got = 0;
        const bool use_batch = mode == calls::batch || (mode == calls::mixed && expected % 2 == 1);
        if (use_batch) {
            got = ring.consume([&check](message& m) noexcept { check(m); }, 1 + expected % 37);
        } else {
            message m{};
            if (ring.try_pop(m)) {
                check(m);
                got = 1;
            }
        }
        if (got == 0) std::this_thread::yield();
    }
    producer.join();

    EXPECT_EQ(errors, 0u) << "first out-of-order or torn item at " << first_bad;
    EXPECT_EQ(expected, count);
    EXPECT_TRUE(ring.empty());
}

constexpr std::uint64_t k_stress_items = 10'000'000 / k_slowdown;

TEST(SpscRingThreads, TenMillionInOrder) {
    run_cross_thread(1024, k_stress_items, calls::mixed);
}

TEST(SpscRingThreads, SingleItemCalls) {
    run_cross_thread(256, k_stress_items / 10, calls::single);
}

TEST(SpscRingThreads, BatchCalls) {
    run_cross_thread(256, k_stress_items / 10, calls::batch);
}

TEST(SpscRingThreads, TinyRingStaysInOrder) {
    // Capacity 2: almost every operation meets a full or an empty ring, which
    // exercises the index-cache refreshes.
    run_cross_thread(2, k_stress_items / 10, calls::mixed);
}

}  // namespace
}  // namespace ssepush::engine
