#pragma once

// Millisecond clocks for the engine, injectable so that tests drive time by hand.
//
// Everything in the engine that needs "now" (the timer wheel, idle and header
// deadlines, heartbeats) takes a plain std::uint64_t of milliseconds. Where it
// comes from is the shard's business: production reads `steady_clock_ms`, tests
// use `manual_clock` and call advance(). Any type with `std::uint64_t now()`
// satisfies `MillisecondClock`, so a shard can be templated on it or hold a
// function pointer to it.
//
// - steady_clock_ms: CLOCK_MONOTONIC_COARSE (vDSO, no syscall, resolution of one
//   kernel tick, typically 1-4 ms), which is all a timer wheel with ticks of a few
//   milliseconds needs. Monotonic, never goes backwards, not affected by
//   settimeofday. Thread-safe. now_precise() reads CLOCK_MONOTONIC for the rare
//   caller that needs sub-tick accuracy.
// - manual_clock: starts where it is told and moves only on advance()/set().
//   now() may be read from any thread (a relaxed atomic); advance it from one.

#include <atomic>
#include <concepts>
#include <cstdint>
#include <ctime>

namespace ssepush::engine {

template <class Clock>
concept MillisecondClock = requires(const Clock& c) {
    { c.now() }
    noexcept->std::same_as<std::uint64_t>;
};

namespace detail {

inline std::uint64_t read_clock_ms(clockid_t id) noexcept {
    timespec ts{};
    ::clock_gettime(id, &ts);  // cannot fail for the monotonic clocks on Linux
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000u +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1'000'000u;
}

}  // namespace detail

// The production clock: milliseconds since an unspecified point (boot).
struct steady_clock_ms {
    static std::uint64_t now() noexcept { return detail::read_clock_ms(CLOCK_MONOTONIC_COARSE); }
    static std::uint64_t now_precise() noexcept { return detail::read_clock_ms(CLOCK_MONOTONIC); }
};

// A clock for tests: time moves only when the test says so.
class manual_clock {
public:
    explicit manual_clock(std::uint64_t start_ms = 0) noexcept : now_(start_ms) {}

    std::uint64_t now() const noexcept { return now_.load(std::memory_order_relaxed); }
    void advance(std::uint64_t ms) noexcept { now_.fetch_add(ms, std::memory_order_relaxed); }
    void set(std::uint64_t now_ms) noexcept { now_.store(now_ms, std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> now_;
};

static_assert(MillisecondClock<steady_clock_ms>);
static_assert(MillisecondClock<manual_clock>);

}  // namespace ssepush::engine
