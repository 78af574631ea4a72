#pragma once
// The book one subscriber keeps for one channel: which of the channel's
// sequence numbers it received, so that every gap, repeat and late arrival is
// counted exactly once.
//
// `baseline` is the channel's highest sequence whose publish had begun when
// the subscription went live: later sequences must all arrive; earlier ones
// may or may not (they raced the subscription), and are never counted lost.
// A 64-bit window below the high mark tells a duplicate from a late arrival
// that had been counted missing (which is then taken back from `lost`).
//
// Threading: none. Allocation: none. 24 bytes.
#include <algorithm>
#include <cstdint>

namespace ssepush::sseload {

struct sequence_counts {
    std::uint64_t received = 0;  // distinct sequences
    std::uint64_t lost = 0;
    std::uint64_t duplicated = 0;
    std::uint64_t out_of_order = 0;
};

class sequence_book {
public:
    sequence_book() = default;
    explicit sequence_book(std::uint32_t baseline) noexcept : baseline_(baseline) {}

    void set_baseline(std::uint32_t b) noexcept { baseline_ = b; }
    [[nodiscard]] std::uint32_t baseline() const noexcept { return baseline_; }
    // The highest sequence this subscriber is accountable for so far.
    [[nodiscard]] std::uint32_t high() const noexcept {
        return std::max(any_ ? last_ : 0u, baseline_);
    }

    void receive(std::uint32_t seq, sequence_counts& c) noexcept {
        if (!any_ || seq > last_) {
            const std::uint32_t from = high();
            if (seq > from + 1) c.lost += seq - from - 1;
            const std::uint32_t shift = any_ ? seq - last_ : 64;
            seen_ = (shift >= 64 ? 0 : seen_ << shift) | 1;
            last_ = seq;
            any_ = true;
            ++c.received;
            return;
        }
        const std::uint32_t d = last_ - seq;
        if (d < 64 && ((seen_ >> d) & 1)) {
            ++c.duplicated;
            return;
        }
        ++c.out_of_order;
        ++c.received;
        if (d < 64) {
            seen_ |= std::uint64_t(1) << d;
            if (seq > baseline_ && c.lost) --c.lost;  // it had been counted missing
        }
    }

    // At the end: everything up to `final_seq` that never came is lost.
    void close(std::uint32_t final_seq, sequence_counts& c) const noexcept {
        if (final_seq > high()) c.lost += final_seq - high();
    }

    // Whether sequences up to `published` have all been accounted for.
    [[nodiscard]] bool behind(std::uint32_t published) const noexcept { return published > high(); }

private:
    std::uint32_t baseline_ = 0;
    std::uint32_t last_ = 0;
    bool any_ = false;
    std::uint64_t seen_ = 0;  // bit d: sequence last_-d received
};

}  // namespace ssepush::sseload
