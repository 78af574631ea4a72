#pragma once
// A log-bucketed histogram of non-negative integers (nanoseconds here), in the
// manner of HdrHistogram: values below 2^k_sub_bits are counted exactly; above,
// each power of two is split into 2^(k_sub_bits-1) equal buckets, so every
// bucket's width is at most 1/16 of its lower bound (about 3 % error at 5 bits).
// Fixed size (no allocation after construction), mergeable, and cheap to record
// into: one count-leading-zeros and one increment.
//
// Threading: none; each worker records into its own and a collector merges.
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <utility>
#include <vector>

namespace ssepush::sseload {

class histogram {
public:
    static constexpr unsigned k_sub_bits = 5;
    static constexpr unsigned k_max_bits = 48;  // values above 2^48 ns (3 days) saturate
    static constexpr unsigned k_half = 1u << (k_sub_bits - 1);
    static constexpr unsigned k_buckets = (1u << k_sub_bits) + (k_max_bits - k_sub_bits) * k_half;

    void record(std::uint64_t v) noexcept {
        counts_[index_of(v)] += 1;
        count_ += 1;
        sum_ += v;
        if (v > max_) max_ = v;
    }
    void merge(const histogram& o) noexcept {
        if (!o.count_) return;
        for (unsigned i = 0; i < k_buckets; ++i)
            counts_[i] += o.counts_[i];
        count_ += o.count_;
        sum_ += o.sum_;
        max_ = std::max(max_, o.max_);
    }
    void reset() noexcept { *this = histogram(); }

    [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
    [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
    [[nodiscard]] double mean() const noexcept {
        return count_ ? double(sum_) / double(count_) : 0;
    }

    // The value at quantile q (0..1): the upper bound of the bucket holding it,
    // clamped to the largest value recorded. 0 when empty.
    [[nodiscard]] std::uint64_t quantile(double q) const noexcept {
        if (!count_) return 0;
        auto rank = std::uint64_t(q * double(count_) + 0.5);
        rank = std::clamp<std::uint64_t>(rank, 1, count_);
        std::uint64_t seen = 0;
        for (unsigned i = 0; i < k_buckets; ++i) {
            seen += counts_[i];
            if (seen >= rank) return std::min(upper_of(i), max_);
        }
        return max_;
    }

    // Non-empty buckets as (upper bound, count), ascending.
    [[nodiscard]] std::vector<std::pair<std::uint64_t, std::uint64_t>> buckets() const {
        std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
        for (unsigned i = 0; i < k_buckets; ++i)
            if (counts_[i]) out.emplace_back(upper_of(i), counts_[i]);
        return out;
    }

    static unsigned index_of(std::uint64_t v) noexcept {
        constexpr std::uint64_t exact = 1u << k_sub_bits;
        if (v < exact) return unsigned(v);
        unsigned msb = 63u - unsigned(std::countl_zero(v));  // >= k_sub_bits
        if (msb >= k_max_bits) return k_buckets - 1;
        unsigned shift = msb - (k_sub_bits - 1);
        unsigned sub = unsigned(v >> shift) - k_half;  // 0..k_half-1
        return exact + (msb - k_sub_bits) * k_half + sub;
    }
    // The largest value that lands in bucket i.
    static std::uint64_t upper_of(unsigned i) noexcept {
        constexpr unsigned exact = 1u << k_sub_bits;
        if (i < exact) return i;
        unsigned msb = (i - exact) / k_half + k_sub_bits;
        unsigned sub = (i - exact) % k_half;
        unsigned shift = msb - (k_sub_bits - 1);
        return ((std::uint64_t(k_half + sub + 1)) << shift) - 1;
    }

private:
    std::array<std::uint64_t, k_buckets> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
};

}  // namespace ssepush::sseload
