// timer_wheel: firing exactness, re-arming, lazy arming, reentrant callbacks, far
// deadlines, the expiry hint, and a randomised comparison with a reference model.
// Time is manual throughout: the wheel is handed milliseconds, nothing sleeps.

#include "ssepush/engine/timer_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace ssepush::engine {
namespace {

constexpr std::uint64_t k_day = 86'400'000;
constexpr std::uint64_t k_year = 365 * k_day;

// A timer owner that records its firings. `action` runs inside the callback.
struct probe {
    timer_node node{&probe::on_fire};
    timer_wheel* wheel = nullptr;
    int id = 0;
    int fires = 0;
    std::uint64_t fired_at = 0;
    std::vector<int>* log = nullptr;
    std::function<void(probe&)> action;

    static void on_fire(timer_node& n) noexcept {
        probe& p = timer_owner(n, &probe::node);
        EXPECT_FALSE(p.node.armed()) << "unlinked before the callback";
        ++p.fires;
        p.fired_at = p.wheel->now_ms();
        if (p.log != nullptr) p.log->push_back(p.id);
        if (p.action) p.action(p);
    }
};

TEST(TimerWheel, TickIsRoundedDownToAPowerOfTwo) {
    EXPECT_THROW(timer_wheel(0, 0), std::invalid_argument);
    EXPECT_EQ(timer_wheel(0, 1).tick_ms(), 1u);
    EXPECT_EQ(timer_wheel(0, 10).tick_ms(), 8u);
    EXPECT_EQ(timer_wheel(0, 1000).tick_ms(), 512u);
    EXPECT_EQ(timer_wheel(0).tick_ms(), timer_wheel::k_default_tick_ms);
}

TEST(TimerWheel, NodeIsSmall) {
    EXPECT_LE(sizeof(timer_node), 32u);
}

TEST(TimerWheel, SingleFire) {
    timer_wheel w(1000);
    probe p;
    p.wheel = &w;
    EXPECT_FALSE(timer_wheel::armed(p.node));
    w.arm(p.node, 1100);
    EXPECT_TRUE(timer_wheel::armed(p.node));
    EXPECT_EQ(p.node.deadline(), 1100u);
    EXPECT_EQ(w.size(), 1u);
    EXPECT_EQ(w.advance(1099), 0u);
    EXPECT_EQ(p.fires, 0);
    EXPECT_EQ(w.advance(1100), 1u);
    EXPECT_EQ(p.fires, 1);
    EXPECT_EQ(p.fired_at, 1100u);
    EXPECT_FALSE(timer_wheel::armed(p.node));
    EXPECT_EQ(w.size(), 0u);
    EXPECT_TRUE(w.empty());
    EXPECT_EQ(w.advance(100'000), 0u);
    EXPECT_EQ(p.fires, 1);
}

TEST(TimerWheel, PastDeadlinesFireOnTheNextAdvance) {
    timer_wheel w(1000);
    probe a;
    probe b;
    a.wheel = b.wheel = &w;
    w.arm(a.node, 500);              // already past
    w.arm(b.node, 1000);             // exactly now
    EXPECT_EQ(w.advance(1000), 2u);  // same time as the construction
    EXPECT_EQ(a.fires, 1);
    EXPECT_EQ(b.fires, 1);
    w.arm(a.node, 0);
    EXPECT_EQ(w.advance(1000), 1u);
}

TEST(TimerWheel, TimeDoesNotGoBackwards) {
    timer_wheel w(1000);
    probe a;
    probe b;
    a.wheel = b.wheel = &w;
    EXPECT_EQ(w.advance(2000), 0u);
    w.arm(a.node, 1500);
    w.arm(b.node, 2500);
    EXPECT_EQ(w.advance(1000), 1u);  // taken as 2000
    EXPECT_EQ(a.fires, 1);
    EXPECT_EQ(w.now_ms(), 2000u);
    EXPECT_EQ(w.advance(2499), 0u);
    EXPECT_EQ(w.advance(2500), 1u);
}

TEST(TimerWheel, Cancel) {
    timer_wheel w(0);
    probe p;
    p.wheel = &w;
    w.cancel(p.node);  // not armed: no-op
    EXPECT_EQ(w.size(), 0u);
    w.arm(p.node, 50);
    w.cancel(p.node);
    EXPECT_FALSE(timer_wheel::armed(p.node));
    EXPECT_EQ(w.size(), 0u);
    w.cancel(p.node);
    EXPECT_EQ(w.size(), 0u);
    EXPECT_EQ(w.advance(1000), 0u);
    EXPECT_EQ(p.fires, 0);
    EXPECT_EQ(w.next_expiry_hint(1000), timer_wheel::k_never);
}

TEST(TimerWheel, CancelPastDeadlineTimer) {
    timer_wheel w(1000);
    probe p;
    p.wheel = &w;
    w.arm(p.node, 10);
    w.cancel(p.node);
    EXPECT_EQ(w.advance(1000), 0u);
    EXPECT_EQ(p.fires, 0);
}

TEST(TimerWheel, Rearm) {
    timer_wheel w(0);
    probe p;
    p.wheel = &w;
    w.arm(p.node, 100);
    w.arm(p.node, 200);  // later
    EXPECT_EQ(w.size(), 1u);
    EXPECT_EQ(w.advance(150), 0u);
    EXPECT_EQ(w.advance(200), 1u);
    EXPECT_EQ(p.fired_at, 200u);

    w.arm(p.node, 5'000);
    w.arm(p.node, 300);  // earlier
    EXPECT_EQ(w.advance(300), 1u);
    EXPECT_EQ(p.fires, 2);
    EXPECT_EQ(w.advance(10'000), 0u);

    w.arm(p.node, 20'000);
    w.arm(p.node, 20'000);  // same
    EXPECT_EQ(w.size(), 1u);
    EXPECT_EQ(w.advance(20'000), 1u);
}

TEST(TimerWheel, ArmLazy) {
    timer_wheel w(0);
    probe p;
    p.wheel = &w;
    EXPECT_TRUE(w.arm_lazy(p.node, 1000, 300));  // not armed: arms
    EXPECT_EQ(p.node.deadline(), 1000u);
    EXPECT_FALSE(w.arm_lazy(p.node, 1200, 300));  // within slack, later
    EXPECT_FALSE(w.arm_lazy(p.node, 800, 300));   // within slack, earlier
    EXPECT_FALSE(w.arm_lazy(p.node, 1300, 300));  // exactly the slack
    EXPECT_EQ(p.node.deadline(), 1000u);
    EXPECT_TRUE(w.arm_lazy(p.node, 1301, 300));  // beyond: re-armed
    EXPECT_EQ(p.node.deadline(), 1301u);
    EXPECT_EQ(w.size(), 1u);
    EXPECT_EQ(w.advance(1300), 0u);
    EXPECT_EQ(w.advance(1301), 1u);
    EXPECT_TRUE(w.arm_lazy(p.node, 5000, 300));  // fired, so not armed: arms
    EXPECT_EQ(w.advance(5000), 1u);
}

TEST(TimerWheel, SizeCountsArmedTimers) {
    timer_wheel w(0);
    std::vector<probe> ps(10);
    for (std::size_t i = 0; i < ps.size(); ++i) {
        ps[i].wheel = &w;
        w.arm(ps[i].node, 10 * (i + 1));
        EXPECT_EQ(w.size(), i + 1);
    }
    w.arm(ps[0].node, 1000);  // re-arm: same size
    EXPECT_EQ(w.size(), 10u);
    w.cancel(ps[1].node);
    EXPECT_EQ(w.size(), 9u);
    EXPECT_EQ(w.advance(50), 3u);  // 30, 40, 50
    EXPECT_EQ(w.size(), 6u);
    EXPECT_EQ(w.advance(1000), 6u);
    EXPECT_EQ(w.size(), 0u);
}

// --- exactness: parameterised over tick sizes and deadlines ---------------------

class TimerWheelExact : public ::testing::TestWithParam<std::tuple<std::uint32_t, std::uint64_t>> {
};

constexpr std::uint64_t k_start = 1'000'003;  // not aligned to any tick

TEST_P(TimerWheelExact, NeverEarlyNeverLateInOneJump) {
    const auto [tick, offset] = GetParam();
    timer_wheel w(k_start, tick);
    probe p;
    p.wheel = &w;
    const std::uint64_t deadline = k_start + offset;
    w.arm(p.node, deadline);
    if (offset > 0) {
        EXPECT_EQ(w.advance(deadline - 1), 0u);
        EXPECT_EQ(p.fires, 0);
    }
    EXPECT_EQ(w.advance(deadline), 1u);
    EXPECT_EQ(p.fired_at, deadline);
}

TEST_P(TimerWheelExact, FiresOnTheFirstAdvanceAtOrPastTheDeadline) {
    const auto [tick, offset] = GetParam();
    timer_wheel w(k_start, tick);
    probe p;
    p.wheel = &w;
    const std::uint64_t deadline = k_start + offset;
    w.arm(p.node, deadline);
    // Walk towards the deadline with irregular steps, some landing in the middle of
    // ticks and slots: the timer must not fire before, and must fire on the first
    // step that reaches or passes it.
    std::mt19937_64 rng(offset * 31 + tick);
    std::uint64_t now = k_start;
    while (p.fires == 0) {
        const std::uint64_t remaining = deadline > now ? deadline - now : 0;
        std::uint64_t step = 1 + rng() % (remaining / 3 + 3);
        if (remaining > 64 && rng() % 4 == 0) step = remaining - rng() % 3;  // land near it
        now += step;
        w.advance(now);
        if (now < deadline) {
            ASSERT_EQ(p.fires, 0) << "fired early at " << now;
        }
    }
    EXPECT_EQ(p.fires, 1);
    EXPECT_EQ(p.fired_at, now);
    EXPECT_GE(now, deadline);
}

TEST_P(TimerWheelExact, HintConvergesWithoutSpinning) {
    // A reactor that sleeps until the hint and then advances: every hint must be at
    // or before the deadline and after the current time, and the timer must fire
    // exactly at its deadline after a handful of wake-ups.
    const auto [tick, offset] = GetParam();
    timer_wheel w(k_start, tick);
    probe p;
    p.wheel = &w;
    const std::uint64_t deadline = k_start + offset;
    w.arm(p.node, deadline);
    std::uint64_t now = k_start;
    int wakeups = 0;
    while (p.fires == 0) {
        const std::uint64_t hint = w.next_expiry_hint(now);
        ASSERT_LE(hint, deadline);
        if (deadline > now) {
            ASSERT_GT(hint, now) << "hint in the past: the reactor would spin";
        }
        now = std::max(now, hint);
        w.advance(now);
        ASSERT_LE(++wakeups, 24);
    }
    EXPECT_EQ(p.fired_at, deadline);
    EXPECT_EQ(w.next_expiry_hint(now), timer_wheel::k_never);
}

INSTANTIATE_TEST_SUITE_P(
    Deadlines, TimerWheelExact,
    ::testing::Combine(::testing::Values(1u, 8u, 10u, 64u),
                       ::testing::Values(0, 1, 2, 5, 7, 8, 9, 63, 64, 65, 100, 511, 512, 513, 1000,
                                         4095, 4096, 4097, 32'767, 32'768, 32'769, 60'000, 262'143,
                                         262'144, 262'145, 3'600'000, 16'777'216, k_day, 7 * k_day,
                                         k_year, 100 * k_year)));

// --- callbacks that touch the wheel ----------------------------------------------

TEST(TimerWheelCallbacks, CancelAnotherDueTimer) {
    timer_wheel w(0);
    probe a;
    probe b;
    a.wheel = b.wheel = &w;
    a.action = [&](probe&) { w.cancel(b.node); };
    b.action = [&](probe&) { w.cancel(a.node); };
    w.arm(a.node, 100);
    w.arm(b.node, 100);
    EXPECT_EQ(w.advance(100), 1u);  // whichever fires first cancels the other
    EXPECT_EQ(a.fires + b.fires, 1);
    EXPECT_FALSE(timer_wheel::armed(a.node));
    EXPECT_FALSE(timer_wheel::armed(b.node));
    EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheelCallbacks, CancelTimersDueLaterInTheSameAdvance) {
    // One big advance crosses many slots and levels; the first callback cancels
    // every other timer, wherever it sits.
    timer_wheel w(0);
    std::vector<probe> ps(200);
    for (std::size_t i = 0; i < ps.size(); ++i) {
        ps[i].wheel = &w;
        ps[i].action = [&](probe& self) {
            for (probe& other : ps) {
                if (&other != &self) w.cancel(other.node);
            }
        };
        w.arm(ps[i].node, 1 + i * i * 97);  // spread over several levels
    }
    EXPECT_EQ(w.advance(10 * k_day), 1u);
    EXPECT_EQ(w.size(), 0u);
    EXPECT_EQ(ps[0].fires, 1);
}

TEST(TimerWheelCallbacks, RearmAnotherDueTimerLater) {
    timer_wheel w(0);
    probe a;
    probe b;
    a.wheel = b.wheel = &w;
    a.action = [&](probe&) {
        if (b.fires == 0) w.arm(b.node, 300);
    };
    b.action = [&](probe&) {
        if (a.fires == 0) w.arm(a.node, 300);
    };
    w.arm(a.node, 100);
    w.arm(b.node, 100);
    EXPECT_EQ(w.advance(100), 1u);
    EXPECT_EQ(a.fires + b.fires, 1);
    EXPECT_EQ(w.size(), 1u);
    EXPECT_EQ(w.advance(299), 0u);
    EXPECT_EQ(w.advance(300), 1u);
    EXPECT_EQ(a.fires, 1);
    EXPECT_EQ(b.fires, 1);
}

TEST(TimerWheelCallbacks, PeriodicSelfRearm) {
    timer_wheel w(0);
    probe p;
    p.wheel = &w;
    std::vector<std::uint64_t> times;
    p.action = [&](probe& self) {
        times.push_back(w.now_ms());
        w.arm(self.node, w.now_ms() + 10);
    };
    w.arm(p.node, 10);
    for (std::uint64_t now = 1; now <= 100; ++now)
        w.advance(now);
    EXPECT_EQ(times, (std::vector<std::uint64_t>{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}));
    EXPECT_TRUE(timer_wheel::armed(p.node));
    w.cancel(p.node);
}

TEST(TimerWheelCallbacks, SelfRearmAtNowWaitsForTheNextAdvance) {
    timer_wheel w(0);
    probe p;
    p.wheel = &w;
    p.action = [&](probe& self) { w.arm(self.node, w.now_ms()); };
    w.arm(p.node, 50);
    EXPECT_EQ(w.advance(50), 1u);  // does not loop
    EXPECT_EQ(w.advance(50), 1u);
    EXPECT_EQ(w.advance(51), 1u);
    EXPECT_EQ(p.fires, 3);
    w.cancel(p.node);
}

TEST(TimerWheelCallbacks, ArmInsideTheCurrentTick) {
    timer_wheel w(0, 8);
    probe a;
    probe b;
    probe c;
    a.wheel = b.wheel = c.wheel = &w;
    a.action = [&](probe&) {
        w.arm(b.node, w.now_ms() + 2);  // same 8 ms tick, not due yet
        w.arm(c.node, w.now_ms());      // due: next advance
    };
    w.arm(a.node, 3);
    EXPECT_EQ(w.advance(3), 1u);
    EXPECT_EQ(w.next_expiry_hint(3), 3u);  // c is due
    EXPECT_EQ(w.advance(4), 1u);           // c
    EXPECT_EQ(c.fired_at, 4u);
    EXPECT_EQ(w.next_expiry_hint(4), 5u);
    EXPECT_EQ(w.advance(5), 1u);  // b
    EXPECT_EQ(b.fired_at, 5u);
}

TEST(TimerWheelCallbacks, CallbackMayDestroyItsOwner) {
    timer_wheel w(0);
    struct owner {
        timer_node node;
        std::unique_ptr<owner>* self = nullptr;
    };
    auto o = std::make_unique<owner>();
    o->self = &o;
    o->node.set_callback(
        [](timer_node& n) noexcept { timer_owner(n, &owner::node).self->reset(); });
    w.arm(o->node, 10);
    EXPECT_EQ(w.advance(10), 1u);
    EXPECT_EQ(o, nullptr);
}

// --- lifetime ---------------------------------------------------------------------

TEST(TimerWheel, WheelDestroyedFirstDisarmsNodes) {
    probe a;
    probe b;
    {
        timer_wheel w(0);
        w.arm(a.node, 10);
        w.arm(b.node, 10 * k_day);
    }
    EXPECT_FALSE(a.node.armed());
    EXPECT_FALSE(b.node.armed());
}

TEST(TimerWheelDeathTest, DestroyingAnArmedNodeAborts) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            timer_wheel w(0);
            timer_node n;
            w.arm(n, 10);
        },
        "destroyed while armed");
}

// timer_owner with an owner that is not standard-layout, has several timers and
// inherits one of them.
struct owner_base {
    virtual ~owner_base() = default;
    int pad = 1;
    timer_node inherited;
};
struct fancy_owner : owner_base {
    double x = 0;
    timer_node first;
    timer_node second;

private:
    [[maybe_unused]] int private_member_ = 0;
};

TEST(TimerWheel, TimerOwnerRecoversTheObject) {
    fancy_owner o;
    EXPECT_EQ(&timer_owner(o.first, &fancy_owner::first), &o);
    EXPECT_EQ(&timer_owner(o.second, &fancy_owner::second), &o);
    EXPECT_EQ(&timer_owner<fancy_owner>(o.inherited, &fancy_owner::inherited), &o);
    EXPECT_EQ(&timer_owner(o.inherited, &owner_base::inherited), static_cast<owner_base*>(&o));
}

// --- far deadlines and huge jumps -----------------------------------------------

TEST(TimerWheel, FarFutureDeadlines) {
    timer_wheel w(5'000);
    std::vector<std::uint64_t> deadlines{5'000 + 3 * k_day, 5'000 + k_year, 5'000 + 50 * k_year,
                                         UINT64_MAX / 2,    UINT64_MAX - 1, UINT64_MAX};
    std::vector<probe> ps(deadlines.size());
    for (std::size_t i = 0; i < ps.size(); ++i) {
        ps[i].wheel = &w;
        w.arm(ps[i].node, deadlines[i]);
    }
    for (std::size_t i = 0; i < ps.size(); ++i) {
        EXPECT_EQ(w.advance(deadlines[i] - 1), 0u) << i;
        EXPECT_EQ(w.advance(deadlines[i]), 1u) << i;
        EXPECT_EQ(ps[i].fired_at, deadlines[i]);
    }
    EXPECT_TRUE(w.empty());
}

TEST(TimerWheel, HugeJumpDoesNotWalkTicks) {
    // With 1 ms ticks, a hundred years is 3e12 ticks: a per-tick loop would not
    // finish within the test timeout.
    timer_wheel w(0, 1);
    std::vector<probe> ps(1000);
    std::mt19937_64 rng(7);
    for (probe& p : ps) {
        p.wheel = &w;
        w.arm(p.node, 1 + rng() % (100 * k_year));
    }
    EXPECT_EQ(w.advance(100 * k_year), ps.size());
    for (const probe& p : ps)
        EXPECT_EQ(p.fires, 1);
    probe last;
    last.wheel = &w;
    w.arm(last.node, UINT64_MAX);
    EXPECT_EQ(w.advance(UINT64_MAX - 1), 0u);
    EXPECT_EQ(w.advance(UINT64_MAX), 1u);
}

// --- the hint ------------------------------------------------------------------------

TEST(TimerWheelHint, EmptyIsNever) {
    timer_wheel w(100);
    EXPECT_EQ(w.next_expiry_hint(100), timer_wheel::k_never);
}

TEST(TimerWheelHint, WithinOneTickForNearTimers) {
    // Deadlines within the current 64-tick window: the hint is at most one tick
    // early (exact within the current tick).
    for (std::uint64_t d = 1; d < 64 * 8; ++d) {
        timer_wheel w(0, 8);
        probe p;
        p.wheel = &w;
        w.arm(p.node, d);
        const std::uint64_t hint = w.next_expiry_hint(0);
        ASSERT_LE(hint, d);
        ASSERT_LT(d - hint, 8u) << d;
        if (d < 8) {
            ASSERT_EQ(hint, d);
        }
        w.cancel(p.node);
    }
}

TEST(TimerWheelHint, IsTheEarliestOfMany) {
    timer_wheel w(0, 8);
    std::vector<probe> ps(4);
    for (probe& p : ps)
        p.wheel = &w;
    w.arm(ps[0].node, 5'000);
    w.arm(ps[1].node, 40);
    w.arm(ps[2].node, 4);
    w.arm(ps[3].node, 6);
    EXPECT_EQ(w.next_expiry_hint(0), 4u);
    // After a cancel the hint may be stale-low, never late; an advance to it makes
    // it exact again.
    w.cancel(ps[2].node);
    const std::uint64_t stale = w.next_expiry_hint(0);
    EXPECT_GT(stale, 0u);
    EXPECT_LE(stale, 6u);
    EXPECT_EQ(w.advance(stale), 0u);
    EXPECT_EQ(w.next_expiry_hint(stale), 6u);
    EXPECT_EQ(w.advance(6), 1u);
    // The next one lives in a later slot: the hint is that slot's start.
    const std::uint64_t hint = w.next_expiry_hint(6);
    EXPECT_GT(hint, 6u);
    EXPECT_LE(hint, 40u);
    EXPECT_GT(hint, 40u - 8u);
    w.arm(ps[2].node, 1);  // in the past: due now
    EXPECT_LE(w.next_expiry_hint(6), 1u);
    EXPECT_EQ(w.advance(6), 1u);
    w.cancel(ps[0].node);
    w.cancel(ps[1].node);
}

// --- randomised comparison with a reference model ----------------------------------

class TimerWheelModel : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(TimerWheelModel, HundredThousandRandomTimers) {
    constexpr int k_timers = 100'000;
    constexpr int k_rounds = 500;
    constexpr int k_ops_per_round = 150;
    std::mt19937_64 rng(20240601 + GetParam());
    auto uniform = [&rng](std::uint64_t n) { return n == 0 ? 0 : rng() % n; };

    std::uint64_t now = 1'700'000'000'000;  // a wall-clock-like start
    timer_wheel w(now, GetParam());
    std::vector<int> log;
    std::vector<std::unique_ptr<probe>> timers;
    for (int i = 0; i < k_timers; ++i) {
        auto p = std::make_unique<probe>();
        p->wheel = &w;
        p->id = i;
        p->log = &log;
        // One timer in 64 re-arms itself from its callback, like an idle timer
        // that finds recent activity. The model mirrors it below.
        if (i % 64 == 0) {
            p->action = [&w](probe& self) {
                w.arm(self.node, w.now_ms() + 1 + static_cast<std::uint64_t>(self.id) % 5000);
            };
        }
        timers.push_back(std::move(p));
    }

    std::multimap<std::uint64_t, int> model;
    std::vector<std::multimap<std::uint64_t, int>::iterator> where(k_timers, model.end());
    auto model_arm = [&](int id, std::uint64_t d) {
        if (where[id] != model.end()) model.erase(where[id]);
        where[id] = model.emplace(d, id);
    };
    auto model_cancel = [&](int id) {
        if (where[id] != model.end()) model.erase(where[id]);
        where[id] = model.end();
    };
    auto random_deadline = [&]() -> std::uint64_t {
        const std::uint64_t r = uniform(100);
        if (r < 5) return now - uniform(1000);        // past
        if (r < 45) return now + uniform(1000);       // this second
        if (r < 75) return now + uniform(60'000);     // this minute
        if (r < 90) return now + uniform(3'600'000);  // this hour
        if (r < 98) return now + uniform(3 * k_day);  // days
        return now + uniform(k_year);                 // far
    };

    for (int i = 0; i < k_timers; ++i) {
        const std::uint64_t d = random_deadline();
        w.arm(timers[i]->node, d);
        model_arm(i, d);
    }
    ASSERT_EQ(w.size(), model.size());

    std::uint64_t total_fired = 0;
    for (int round = 0; round < k_rounds; ++round) {
        for (int op = 0; op < k_ops_per_round; ++op) {
            const int id = static_cast<int>(uniform(k_timers));
            probe& p = *timers[id];
            const std::uint64_t kind = uniform(10);
            if (kind < 5) {
                const std::uint64_t d = random_deadline();
                w.arm(p.node, d);
                model_arm(id, d);
            } else if (kind < 8) {
                w.cancel(p.node);
                model_cancel(id);
            } else {
                const std::uint64_t d = random_deadline();
                const std::uint64_t slack = uniform(2000);
                const bool armed_before = where[id] != model.end();
                const std::uint64_t old = armed_before ? where[id]->first : 0;
                const bool expected = !armed_before || (old > d ? old - d : d - old) > slack;
                ASSERT_EQ(w.arm_lazy(p.node, d, slack), expected);
                if (expected) model_arm(id, d);
            }
        }
        ASSERT_EQ(w.size(), model.size());

        // The hint must be at or before the earliest deadline, and after the last
        // advance unless something is already due.
        const std::uint64_t hint = w.next_expiry_hint(now);
        if (!model.empty()) {
            ASSERT_LE(hint, model.begin()->first);
            if (model.begin()->first > now) {
                ASSERT_GT(hint, now);
            }
        } else {
            ASSERT_EQ(hint, timer_wheel::k_never);
        }

        const std::uint64_t r = uniform(100);
        std::uint64_t step = 0;
        if (r < 60) {
            step = uniform(20);
        } else if (r < 85) {
            step = uniform(5'000);
        } else if (r < 97) {
            step = uniform(600'000);
        } else {
            step = uniform(3 * k_day);  // a big jump
        }
        now += step;
        log.clear();
        const std::size_t fired = w.advance(now);

        std::vector<int> expected;
        while (!model.empty() && model.begin()->first <= now) {
            const int id = model.begin()->second;
            expected.push_back(id);
            model.erase(model.begin());
            where[id] = model.end();
        }
        // Mirror the self re-arming callbacks.
        for (int id : expected) {
            if (id % 64 == 0) model_arm(id, now + 1 + static_cast<std::uint64_t>(id) % 5000);
        }
        std::sort(expected.begin(), expected.end());
        std::vector<int> got = log;
        std::sort(got.begin(), got.end());
        ASSERT_EQ(got, expected) << "round " << round << " now " << now;
        ASSERT_EQ(fired, expected.size());
        ASSERT_EQ(w.size(), model.size());
        total_fired += fired;
    }
    EXPECT_GT(total_fired, 10'000u);  // the test did exercise firing

    for (auto& p : timers)
        w.cancel(p->node);
    EXPECT_TRUE(w.empty());
}

INSTANTIATE_TEST_SUITE_P(Ticks, TimerWheelModel, ::testing::Values(1u, 8u, 64u));

}  // namespace
}  // namespace ssepush::engine
