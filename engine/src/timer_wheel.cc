// timer_wheel: the cold and batch parts (advance, cascading, the hint).
// arm/cancel live inline in the header.

#include "ssepush/engine/timer_wheel.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace ssepush::engine {

namespace detail {

void timer_node_destroyed_armed() noexcept {
    std::fputs("ssepush: timer_node destroyed while armed (cancel it first)\n", stderr);
    std::abort();
}

}  // namespace detail

namespace {

constexpr std::uint64_t k_one = 1;

// The digit of `tick` at `level` (6 bits per level).
constexpr unsigned digit(std::uint64_t tick, unsigned level) noexcept {
    return static_cast<unsigned>(tick >> (level * 6)) & 63u;
}

}  // namespace

timer_wheel::timer_wheel(std::uint64_t now_ms, std::uint32_t tick_ms)
    : now_ms_(now_ms), cur_(0), shift_(0) {
    if (tick_ms == 0) throw std::invalid_argument("timer_wheel: tick_ms must be at least 1");
    // Round down to a power of two: ticks are then a shift away from milliseconds.
    // Firing times do not depend on the tick (see the header), only bucket sizes do.
    shift_ = static_cast<unsigned>(std::countr_zero(std::bit_floor(tick_ms)));
    cur_ = now_ms >> shift_;
    for (detail::timer_link& head : heads_) {
        head.prev = &head;
        head.next = &head;
    }
}

timer_wheel::~timer_wheel() {
    // Disarm whatever is left so that the nodes' destructors do not abort and do
    // not touch freed memory.
    for (detail::timer_link& head : heads_) {
        detail::timer_link* link = head.next;
        while (link != &head) {
            detail::timer_link* next = link->next;
            link->prev = nullptr;
            link->next = nullptr;
            link = next;
        }
    }
}

void timer_wheel::move_to_pending(unsigned from) noexcept {
    detail::timer_link& src = heads_[from];
    detail::timer_link& dst = heads_[k_pending];
    if (list_empty(src)) return;
    dst.next = src.next;
    dst.prev = src.prev;
    dst.next->prev = &dst;
    dst.prev->next = &dst;
    src.next = &src;
    src.prev = &src;
    if (from < k_overdue) occupied_[from / k_slots] &= ~(k_one << (from % k_slots));
}

std::size_t timer_wheel::drain_pending() noexcept {
    // Pop one node at a time from the pending list: a callback may cancel or re-arm
    // any node still on it (unlinking it from this list), so no iterator is kept
    // across a callback.
    detail::timer_link& pending = heads_[k_pending];
    std::size_t fired = 0;
    while (!list_empty(pending)) {
        timer_node& node = node_of(pending.next);
        unlink(node);
        if (node.deadline_ > now_ms_) {
            // Only from the slot of the current tick: not due yet, put it back.
            insert_wheel(node);
            continue;
        }
        --size_;
        ++fired;
        if (node.callback_ != nullptr) node.callback_(node);  // may free `node`
    }
    return fired;
}

void timer_wheel::cascade(std::uint64_t tick) noexcept {
    // Every level whose slot starts exactly at `tick` hands its timers down, highest
    // level first (a timer can move from level 3 into a level-2 slot that is
    // cascaded next, in the same call). No callbacks run here.
    const unsigned aligned = static_cast<unsigned>(std::countr_zero(tick | (k_one << 63))) / 6;
    const unsigned top = aligned < k_levels - 1 ? aligned : k_levels - 1;
    for (unsigned level = top; level >= 1; --level) {
        const unsigned index = level * k_slots + digit(tick, level);
        if ((occupied_[level] & (k_one << digit(tick, level))) == 0) continue;
        detail::timer_link& head = heads_[index];
        detail::timer_link* link = head.next;
        head.next = &head;
        head.prev = &head;
        occupied_[level] &= ~(k_one << digit(tick, level));
        while (link != &head) {
            detail::timer_link* next = link->next;
            insert_wheel(node_of(link));  // lands on a lower level: tick ^ cur_ < 64^level
            link = next;
        }
    }
}

std::uint64_t timer_wheel::next_activation(std::uint64_t tick) const noexcept {
    // Levels are searched from the bottom: every candidate of level l comes before
    // every candidate of level l+1 (they lie inside the current level-(l+1) slot).
    // Invariant: on level 0 no slot below digit(cur_) is occupied, on higher levels
    // no slot at or below digit(cur_, level) is.
    for (unsigned level = 0; level < k_levels; ++level) {
        const unsigned d = digit(tick, level);
        if (d == k_slots - 1) continue;
        const std::uint64_t later = occupied_[level] & (~std::uint64_t{0} << (d + 1));
        if (later == 0) continue;
        const unsigned slot = static_cast<unsigned>(std::countr_zero(later));
        const unsigned low = level * k_slot_bits;
        const unsigned high = low + k_slot_bits;
        const std::uint64_t base = high >= 64 ? 0 : (tick >> high) << high;
        return base | (std::uint64_t{slot} << low);
    }
    return k_never;
}

std::size_t timer_wheel::advance(std::uint64_t now_ms) noexcept {
    if (in_advance_) return 0;
    in_advance_ = true;
    if (now_ms < now_ms_) now_ms = now_ms_;
    now_ms_ = now_ms;
    std::size_t fired = 0;

    // 1. Timers armed with a deadline that had already passed. Anything a callback
    //    arms in the past from here on waits for the next advance().
    if (!list_empty(heads_[k_overdue])) {
        overdue_min_ = k_never;
        move_to_pending(k_overdue);
        fired += drain_pending();
    }

    const std::uint64_t target = now_ms >> shift_;
    if (target != cur_) {
        // 2. The rest of the current tick: all its deadlines are < target's start.
        move_to_pending(digit(cur_, 0));
        fired += drain_pending();
        // 3. Jump from one occupied slot to the next, up to the target tick.
        //    Callbacks may arm timers meanwhile: their ticks are >= target > cur_,
        //    so they are placed relative to cur_ and met later in this loop.
        for (;;) {
            const std::uint64_t next = next_activation(cur_);
            if (next > target) break;  // also k_never
            cur_ = next;
            cascade(next);
            if (next == target) break;
            move_to_pending(digit(next, 0));
            fired += drain_pending();
        }
        cur_ = target;
        cur_slot_min_ = k_never;
        // 4. The target tick's slot: fire what is due, keep the rest and learn its
        //    earliest deadline.
        move_to_pending(digit(cur_, 0));
        fired += drain_pending();
    } else if (now_ms >= cur_slot_min_) {
        // Same tick as before, and something in its slot may be due.
        cur_slot_min_ = k_never;
        move_to_pending(digit(cur_, 0));
        fired += drain_pending();
    }

    in_advance_ = false;
    return fired;
}

std::uint64_t timer_wheel::next_expiry_hint(std::uint64_t /*now_ms*/) const noexcept {
    if (size_ == 0) return k_never;
    if (!list_empty(heads_[k_overdue])) return overdue_min_;
    if (!list_empty(heads_[k_pending])) return 0;  // called from a callback
    if ((occupied_[0] & (k_one << digit(cur_, 0))) != 0) return cur_slot_min_;
    const std::uint64_t next = next_activation(cur_);
    return next == k_never ? k_never : next << shift_;
}

}  // namespace ssepush::engine
