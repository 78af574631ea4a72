#include "out_queue.h"

#include <cstdlib>
#include <cstring>

#include "check.h"

namespace ssepush::engine::detail {

namespace {
constexpr std::uint32_t k_initial_cap = 4;
}  // namespace

bool out_queue::grow() noexcept {
    std::uint32_t ncap = cap_ == 1 ? k_initial_cap : cap_ * 2;
    auto** nring = static_cast<frame**>(std::malloc(sizeof(frame*) * ncap));
    if (!nring) return false;
    for (std::uint32_t i = 0; i < count_; ++i)
        nring[i] = at(i);
    if (ring_ != inline_) std::free(ring_);
    ring_ = nring;
    cap_ = ncap;
    head_ = 0;
    return true;
}

bool out_queue::push(frame* f) noexcept {
    if (count_ == cap_ && !grow()) [[unlikely]] {
        f->unref();
        return false;
    }
    ring_[(head_ + count_) & (cap_ - 1)] = f;
    ++count_;
    bytes_ += std::uint32_t(wire_size(f));
    return true;
}

std::uint32_t out_queue::prepare(iovec* iov, std::uint32_t max) noexcept {
    SSEPUSH_ASSERT(inflight_ == 0);
    std::uint32_t n = count_ < max ? count_ : max;
    for (std::uint32_t i = 0; i < n; ++i) {
        std::string_view w = at(i)->wire(chunked_);
        if (i == 0) w.remove_prefix(head_offset_);
        iov[i].iov_base = const_cast<char*>(w.data());
        iov[i].iov_len = w.size();
    }
    inflight_ = std::uint16_t(n);
    return n;
}

void out_queue::complete(std::size_t n) noexcept {
    SSEPUSH_ASSERT(n <= bytes_);
    bytes_ -= std::uint32_t(n);
    inflight_ = 0;
    while (n > 0 && count_ > 0) {
        frame* f = at(0);
        std::size_t left = wire_size(f) - head_offset_;
        if (n < left) {
            head_offset_ += std::uint32_t(n);
            return;
        }
        n -= left;
        head_offset_ = 0;
        head_ = (head_ + 1) & (cap_ - 1);
        --count_;
        f->unref();
    }
    shrink_if_idle();
}

std::uint32_t out_queue::drop_oldest(std::size_t target_bytes, frame* marker) noexcept {
    // Entries [inflight_, count_) may go. Drop from the front of that range,
    // then put the marker in the last dropped slot and slide the in-flight
    // entries up behind it, so the order on the wire stays: in-flight, marker, rest.
    // A head frame already partly on the wire must go out whole, even when idle.
    std::uint32_t first = inflight_ ? inflight_ : (head_offset_ ? 1u : 0u);
    std::uint32_t last = first;  // one past the last dropped
    std::size_t bytes = bytes_;
    while (last < count_ && bytes > target_bytes) {
        bytes -= wire_size(at(last));
        ++last;
    }
    std::uint32_t dropped = last - first;
    if (dropped == 0) return 0;
    for (std::uint32_t i = first; i < last; ++i)
        at(i)->unref();
    std::uint32_t mark_slot = last - 1;
    marker->ref();
    at(mark_slot) = marker;
    bytes += wire_size(marker);
    // Slide in-flight entries [0, first) to [mark_slot - first, mark_slot).
    for (std::uint32_t i = first; i-- > 0;)
        at(mark_slot - first + i) = at(i);
    head_ = (head_ + (mark_slot - first)) & (cap_ - 1);
    count_ -= mark_slot - first;
    bytes_ = std::uint32_t(bytes);
    return dropped;
}

void out_queue::clear() noexcept {
    for (std::uint32_t i = 0; i < count_; ++i)
        at(i)->unref();
    if (ring_ != inline_) std::free(ring_);
    ring_ = inline_;
    cap_ = 1;
    head_ = count_ = head_offset_ = bytes_ = 0;
    inflight_ = 0;
}

// Every heap ring is given back once it drains, however small: a server holds
// many more streams than are busy at once, and an idle stream that kept the
// ring of its last burst (the response head + cmd.onConnect already make two
// frames) would pay for it for as long as it stays open. The next burst
// allocates again, once per burst rather than per frame.
void out_queue::shrink_if_idle() noexcept {
    if (count_ == 0 && ring_ != inline_) {
        std::free(ring_);
        ring_ = inline_;
        cap_ = 1;
        head_ = 0;
    }
}

}  // namespace ssepush::engine::detail
