#pragma once

// timer_wheel: a shard's deadlines (header-read/slowloris, keep-alive idle,
// write-stall, subscription idle expiry), built for tens of thousands of timers
// that are armed, re-armed and cancelled far more often than they fire.
//
// Model
// - A timer is an intrusive `timer_node` embedded in its owner (a connection, a
//   subscription). Arming allocates nothing; the node holds its links, its deadline
//   and a plain function pointer `void (*)(timer_node&) noexcept`. The callback
//   recovers its owner with timer_owner(node, &owner::member).
// - Time is a std::uint64_t of milliseconds passed in by the caller. The wheel
//   never reads a clock, so tests drive it by hand (see clock.h).
//
// Guarantees
// - arm(), arm_lazy(), cancel(), armed(), size() are O(1) and noexcept.
// - advance(now) fires every timer whose deadline is <= now, and no other: never
//   early and, relative to the advance() calls, never late (a deadline that falls
//   inside a tick fires on the first advance() whose `now` reaches it, not at the
//   end of the tick). Deadlines already in the past when armed fire on the next
//   advance(). Order among timers fired by one advance() is unspecified.
// - Each timer is unlinked (armed() == false) before its callback runs. Callbacks
//   may arm, re-arm or cancel any timer of this wheel, including themselves and
//   other timers due in the same advance(), and may destroy their owner. A timer
//   armed from a callback with a deadline <= now fires on the next advance(), never
//   in the current one (so a callback re-arming itself "now" cannot loop).
//   Callbacks must not call advance() (a nested call returns 0 and does nothing).
// - next_expiry_hint() is O(levels): a time at or before the earliest deadline and
//   after the last advance() time (unless a timer is already due). It is exact, or
//   less than one tick early, while the earliest timer is in the lowest level (due
//   within 64 ticks); for later timers it is the time their bucket must be split,
//   so sleeping until the hint and calling advance() always makes progress: at
//   most one extra wake-up per level, never a spin.
// - Big jumps of time (0 -> +1 day) cost in proportion to the non-empty buckets
//   crossed and the timers touched, not to the ticks elapsed.
// - Single-threaded: one wheel per shard, touched only by the shard's thread.
//
// Structure: a hierarchical wheel of 11 levels x 64 slots over 64-bit tick numbers
// (tick = deadline_ms / tick_ms, tick_ms a power of two, 8 ms by default; the tick
// sets bucket sizes, trading cascades against walks of the current slot; it is not a
// precision: firing is exact to the millisecond whatever the tick). A timer with
// tick t sits at the level of the highest 6-bit digit in which t differs from the
// current tick, in the slot named by t's digit at that level. Level 0 slots hold one
// tick each (8 ms), level 1 slots 64 ticks (512 ms), level 2 about 33 s, level 3
// about 35 min, level 4 about 37 h, and so on up to the end of time: any 64-bit
// deadline fits, there is no overflow list. When the current tick reaches the start
// of a higher-level slot, its timers are redistributed to lower levels (cascaded); a
// timer is cascaded at most once per level, typically once or twice in its life, and
// a timer cancelled before its bucket comes up (the common case) never is. A 64-bit
// occupancy mask per level finds the next non-empty slot with one count-trailing-
// zeros, which is how advance() skips empty stretches and how next_expiry_hint()
// stays cheap. The slot of the current tick is walked when it may hold a due timer
// (the wheel keeps a lower bound of its earliest deadline). The wheel itself is
// about 11 KiB (list heads) and allocates nothing after construction.
//
// Node lifetime: destroying an armed timer_node is a bug and aborts with a message
// (an unlinking destructor would silently corrupt size()). Cancel first. Destroying
// the wheel disarms every node still armed (without calling back), so nodes may
// outlive the wheel.
//
// Example
//   struct conn { timer_node idle_timer{&conn::on_idle}; ...
//       static void on_idle(timer_node& n) noexcept { timer_owner(n, &conn::idle_timer).close(); }
//   };
//   wheel.arm(c.idle_timer, now + 30'000);                    // connection accepted
//   wheel.arm_lazy(c.idle_timer, now + 30'000, 1'000);        // on every send: usually a no-op
//   wheel.cancel(c.idle_timer);                               // before freeing c
//   // reactor loop: wait(next_expiry_hint(now) - now); now = clock.now(); wheel.advance(now);

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace ssepush::engine {

class timer_wheel;

namespace detail {

struct timer_link {
    timer_link* prev = nullptr;
    timer_link* next = nullptr;
};

[[noreturn]] void timer_node_destroyed_armed() noexcept;

}  // namespace detail

// The intrusive hook. 32 bytes: two links, the deadline, the callback.
struct timer_node {
public:
    using callback_type = void (*)(timer_node&) noexcept;

    timer_node() noexcept = default;
    explicit timer_node(callback_type callback) noexcept : callback_(callback) {}
    ~timer_node() {
        if (armed()) [[unlikely]] {
            detail::timer_node_destroyed_armed();
        }
    }
    timer_node(const timer_node&) = delete;
    timer_node& operator=(const timer_node&) = delete;

    // The function advance() calls when the timer fires (nullptr: fire silently).
    void set_callback(callback_type callback) noexcept { callback_ = callback; }
    callback_type callback() const noexcept { return callback_; }

    bool armed() const noexcept { return link_.next != nullptr; }
    // The deadline last given to arm(); meaningful while armed.
    std::uint64_t deadline() const noexcept { return deadline_; }

private:
    friend class timer_wheel;

    detail::timer_link link_;  // first member: timer_wheel converts links back to nodes
    std::uint64_t deadline_ = 0;
    callback_type callback_ = nullptr;
};

static_assert(sizeof(timer_node) <= 32);
static_assert(std::is_standard_layout_v<timer_node>);

// container_of for timer callbacks: the object whose data member `member` is `node`.
//   conn& c = timer_owner(node, &conn::idle_timer);
// Works for any Owner without virtual bases (standard layout not required); relies
// on the Itanium C++ ABI representation of pointers to data members (GCC, Clang).
template <class Owner>
Owner& timer_owner(timer_node& node, timer_node Owner::*member) noexcept {
    static_assert(sizeof(member) == sizeof(std::ptrdiff_t), "Itanium ABI member pointers");
    const auto offset = std::bit_cast<std::ptrdiff_t>(member);
    return *reinterpret_cast<Owner*>(reinterpret_cast<char*>(&node) - offset);
}

class timer_wheel {
public:
    static constexpr std::uint32_t k_default_tick_ms = 8;
    static constexpr std::uint64_t k_never = UINT64_MAX;

    // `now_ms`: the current time; deadlines <= now_ms are already due.
    // tick_ms is rounded down to a power of two (10 -> 8); it sets bucket sizes, not
    // firing precision. Throws std::invalid_argument if tick_ms is 0.
    explicit timer_wheel(std::uint64_t now_ms, std::uint32_t tick_ms = k_default_tick_ms);
    ~timer_wheel();
    timer_wheel(const timer_wheel&) = delete;
    timer_wheel& operator=(const timer_wheel&) = delete;

    // Arms `node` to fire at deadline_ms, moving it if it is already armed.
    void arm(timer_node& node, std::uint64_t deadline_ms) noexcept;

    // nginx's lazy re-arm: if `node` is armed and its deadline is within slack_ms of
    // deadline_ms (either side), leaves it alone and returns false; otherwise arms
    // it like arm() and returns true. The timer may then fire up to slack_ms before
    // (or after) deadline_ms: meant for idle timers refreshed on every send, whose
    // callback checks the real last-activity time and re-arms if needed.
    bool arm_lazy(timer_node& node, std::uint64_t deadline_ms, std::uint64_t slack_ms) noexcept;

    // Disarms `node`; does nothing if it is not armed.
    void cancel(timer_node& node) noexcept;

    static bool armed(const timer_node& node) noexcept { return node.armed(); }

    // Fires (unlinks, then calls back) every timer with deadline <= now_ms; returns
    // how many fired. Time never goes backwards: a now_ms below the previous one is
    // taken as the previous one.
    std::size_t advance(std::uint64_t now_ms) noexcept;

    // A time at or before the earliest armed deadline (k_never when no timer is
    // armed). A result <= now_ms means "call advance() now". It does not depend on
    // now_ms (the parameter keeps call sites explicit about the time they compare
    // against). Inside a callback it may return 0.
    std::uint64_t next_expiry_hint(std::uint64_t now_ms) const noexcept;

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    // The time of the last advance() (or the construction time).
    std::uint64_t now_ms() const noexcept { return now_ms_; }
    std::uint32_t tick_ms() const noexcept { return std::uint32_t{1} << shift_; }

private:
    static constexpr unsigned k_slot_bits = 6;
    static constexpr unsigned k_slots = 1u << k_slot_bits;     // per level
    static constexpr unsigned k_levels = 11;                   // 11 * 6 >= 64 bits of ticks
    static constexpr unsigned k_overdue = k_levels * k_slots;  // list: armed with a past deadline
    static constexpr unsigned k_pending = k_overdue + 1;       // list: being fired by advance()
    static constexpr unsigned k_heads = k_pending + 1;

    static timer_node& node_of(detail::timer_link* link) noexcept {
        return *reinterpret_cast<timer_node*>(link);  // link_ is the first member
    }
    static bool list_empty(const detail::timer_link& head) noexcept { return head.next == &head; }
    static void link_back(detail::timer_link& head, timer_node& node) noexcept {
        node.link_.prev = head.prev;
        node.link_.next = &head;
        head.prev->next = &node.link_;
        head.prev = &node.link_;
    }

    void insert(timer_node& node) noexcept;
    void insert_wheel(timer_node& node) noexcept;
    void unlink(timer_node& node) noexcept;
    // Moves the list at heads_[from] to the pending list (which must be empty).
    void move_to_pending(unsigned from) noexcept;
    // Fires the pending timers with deadline <= now_ms_, puts the others back.
    std::size_t drain_pending() noexcept;
    void cascade(std::uint64_t tick) noexcept;
    // The first tick after `tick` at which a non-empty slot must be fired or
    // cascaded; k_never if none.
    std::uint64_t next_activation(std::uint64_t tick) const noexcept;

    std::array<detail::timer_link, k_heads> heads_;   // circular lists, heads are sentinels
    std::array<std::uint64_t, k_levels> occupied_{};  // bit s of [l]: slot s of level l non-empty
    std::uint64_t now_ms_;                            // last advance()
    std::uint64_t cur_;                               // now_ms_ >> shift_
    std::uint64_t cur_slot_min_ = k_never;            // <= every deadline in the slot of cur_
    std::uint64_t overdue_min_ = k_never;             // <= every deadline in the overdue list
    std::size_t size_ = 0;
    unsigned shift_;
    bool in_advance_ = false;
};

// ---------------------------------------------------------------------------------
// Hot-path members, inline. The rest is in src/timer_wheel.cc.

inline void timer_wheel::insert(timer_node& node) noexcept {
    if (node.deadline_ <= now_ms_) [[unlikely]] {
        link_back(heads_[k_overdue], node);
        if (node.deadline_ < overdue_min_) overdue_min_ = node.deadline_;
        return;
    }
    insert_wheel(node);
}

inline void timer_wheel::insert_wheel(timer_node& node) noexcept {
    // Precondition: tick >= cur_.
    const std::uint64_t tick = node.deadline_ >> shift_;
    const std::uint64_t diff = tick ^ cur_;
    const unsigned level = static_cast<unsigned>(std::bit_width(diff | 1) - 1) / k_slot_bits;
    const unsigned slot = static_cast<unsigned>(tick >> (level * k_slot_bits)) & (k_slots - 1);
    link_back(heads_[level * k_slots + slot], node);
    occupied_[level] |= std::uint64_t{1} << slot;
    if (diff == 0 && node.deadline_ < cur_slot_min_) cur_slot_min_ = node.deadline_;
}

inline void timer_wheel::unlink(timer_node& node) noexcept {
    detail::timer_link* prev = node.link_.prev;
    detail::timer_link* next = node.link_.next;
    prev->next = next;
    next->prev = prev;
    node.link_.prev = nullptr;
    node.link_.next = nullptr;
    if (prev == next) {
        // The list is empty now, so `prev` is its head: clear its occupancy bit.
        const auto index = static_cast<std::size_t>(prev - heads_.data());
        if (index < k_overdue) {
            occupied_[index / k_slots] &= ~(std::uint64_t{1} << (index % k_slots));
        }
    }
}

inline void timer_wheel::arm(timer_node& node, std::uint64_t deadline_ms) noexcept {
    if (node.armed()) {
        unlink(node);
    } else {
        ++size_;
    }
    node.deadline_ = deadline_ms;
    insert(node);
}

inline bool timer_wheel::arm_lazy(timer_node& node, std::uint64_t deadline_ms,
                                  std::uint64_t slack_ms) noexcept {
    if (node.armed()) {
        const std::uint64_t old = node.deadline_;
        const std::uint64_t distance = old > deadline_ms ? old - deadline_ms : deadline_ms - old;
        if (distance <= slack_ms) return false;
    }
    arm(node, deadline_ms);
    return true;
}

inline void timer_wheel::cancel(timer_node& node) noexcept {
    if (!node.armed()) return;
    unlink(node);
    --size_;
}

}  // namespace ssepush::engine
