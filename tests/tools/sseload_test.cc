// sseload's bookkeeping: the per-channel sequence book (what counts as lost,
// duplicated, out of order), the latency histogram, and the payload format.
#include <gtest/gtest.h>

#include <random>

#include "histogram.h"
#include "payload.h"
#include "sequence_book.h"

namespace ssepush::sseload {
namespace {

sequence_counts feed(sequence_book& b, std::initializer_list<std::uint32_t> seqs) {
    sequence_counts c;
    for (std::uint32_t s : seqs)
        b.receive(s, c);
    return c;
}

TEST(sequence_book, in_order_from_the_baseline_is_clean) {
    sequence_book b(10);
    sequence_counts c = feed(b, {11, 12, 13, 14});
    b.close(14, c);
    EXPECT_EQ(c.received, 4u);
    EXPECT_EQ(c.lost + c.duplicated + c.out_of_order, 0u);
}

TEST(sequence_book, messages_that_raced_the_subscription_are_not_owed) {
    // 9 and 10 were published before the subscriber went live: getting 10 and
    // not 9 is fine, and so is starting at 11.
    sequence_book a(10);
    sequence_counts c = feed(a, {10, 11});
    EXPECT_EQ(c.lost, 0u);
    sequence_book b(10);
    c = feed(b, {11});
    EXPECT_EQ(c.lost, 0u);
}

TEST(sequence_book, a_gap_after_the_baseline_is_lost) {
    sequence_book b(0);
    sequence_counts c = feed(b, {1, 2, 5, 6});
    EXPECT_EQ(c.lost, 2u);  // 3 and 4
    sequence_book first(0);
    c = feed(first, {3});
    EXPECT_EQ(c.lost, 2u);  // 1 and 2 were owed
}

TEST(sequence_book, a_repeat_is_a_duplicate_not_a_delivery) {
    sequence_book b(0);
    sequence_counts c = feed(b, {1, 2, 2, 3, 1});
    EXPECT_EQ(c.received, 3u);
    EXPECT_EQ(c.duplicated, 2u);
    EXPECT_EQ(c.lost, 0u);
}

TEST(sequence_book, a_late_arrival_is_out_of_order_and_no_longer_lost) {
    sequence_book b(0);
    sequence_counts c = feed(b, {1, 3, 2, 4});
    EXPECT_EQ(c.out_of_order, 1u);
    EXPECT_EQ(c.lost, 0u);
    EXPECT_EQ(c.received, 4u);
}

TEST(sequence_book, the_tail_is_lost_at_close) {
    sequence_book b(5);
    sequence_counts c = feed(b, {6, 7});
    b.close(10, c);
    EXPECT_EQ(c.lost, 3u);
    EXPECT_TRUE(b.behind(10));
    EXPECT_FALSE(b.behind(7));
    sequence_book never(5);
    sequence_counts d;
    never.close(8, d);
    EXPECT_EQ(d.lost, 3u);
}

TEST(sequence_book, random_loss_is_counted_exactly) {
    std::mt19937 rng(7);
    for (int round = 0; round < 200; ++round) {
        sequence_book b(0);
        sequence_counts c;
        std::uint64_t dropped = 0;
        const std::uint32_t n = 1 + rng() % 500;
        for (std::uint32_t s = 1; s <= n; ++s) {
            if (rng() % 7 == 0) {
                ++dropped;
                continue;
            }
            b.receive(s, c);
        }
        b.close(n, c);
        ASSERT_EQ(c.lost, dropped);
        ASSERT_EQ(c.received + dropped, n);
    }
}

TEST(histogram, quantiles_are_within_the_bucket_error) {
    histogram h;
    for (std::uint64_t v = 1; v <= 100000; ++v)
        h.record(v * 1000);
    EXPECT_EQ(h.count(), 100000u);
    for (double q : {0.5, 0.9, 0.99, 0.999}) {
        const double want = q * 100000 * 1000;
        const double got = double(h.quantile(q));
        EXPECT_NEAR(got / want, 1.0, 0.07) << q;
    }
    EXPECT_EQ(h.quantile(1.0), 100000u * 1000);
    EXPECT_EQ(h.max(), 100000u * 1000);
}

TEST(histogram, every_value_lands_in_a_bucket_that_holds_it) {
    std::mt19937_64 rng(1);
    for (int i = 0; i < 100000; ++i) {
        const std::uint64_t v = rng() >> (rng() % 64);
        const unsigned b = histogram::index_of(v);
        ASSERT_LT(b, histogram::k_buckets);
        if (v < (std::uint64_t(1) << histogram::k_max_bits)) {
            ASSERT_LE(v, histogram::upper_of(b)) << v;
            if (b > 0) {
                ASSERT_GT(v, histogram::upper_of(b - 1)) << v;
            }
        }
    }
}

TEST(histogram, merge_adds_counts) {
    histogram a, b;
    a.record(10);
    b.record(1000);
    b.record(2000);
    a.merge(b);
    EXPECT_EQ(a.count(), 3u);
    EXPECT_EQ(a.max(), 2000u);
    EXPECT_EQ(a.buckets().size(), 3u);
}

TEST(payload, round_trips_and_is_found_after_a_selector) {
    std::string body;
    encode_payload(payload{3, 42, 123456789012345}, 100, body);
    EXPECT_EQ(body.size(), 100u);
    payload p;
    ASSERT_TRUE(decode_payload("ch3@cmd.bench " + body, p));
    EXPECT_EQ(p.channel, 3u);
    EXPECT_EQ(p.seq, 42u);
    EXPECT_EQ(p.sent_ns, 123456789012345u);
    EXPECT_FALSE(decode_payload("cmd.onJoin {\"userId\":\"-1\"}", p));
    EXPECT_FALSE(decode_payload("{\"c\":1,\"s\":", p));
}

}  // namespace
}  // namespace ssepush::sseload
