#pragma once
// The fixed-size message that crosses shards.
//
// Every ordered pair of shards has a lock-free SPSC ring of these, and each
// shard has an MPSC queue for threads that are not shards. A message is a
// function pointer plus three words: the hot paths (hand a frame's bytes to a
// shard, forward a request to the shard that owns a connection) fit in it
// without allocating; arbitrary closures ride in a heap task pointed to by `a`.
#include <cstdint>
#include <type_traits>

namespace ssepush::engine {

class shard;
struct shard_message;

using shard_message_fn = void (*)(shard& target, shard_message& msg) noexcept;

struct shard_message {
    shard_message_fn fn = nullptr;
    void* a = nullptr;
    void* b = nullptr;
    std::uint64_t u = 0;
};

static_assert(sizeof(shard_message) == 32);

}  // namespace ssepush::engine

#include <utility>

namespace ssepush::engine::detail {

// A heap-allocated closure for shard::run_on / server::run_on.
struct task {
    virtual ~task() = default;
    virtual void run(shard& s) = 0;
};

template <class Fn>
struct task_impl final : task {
    explicit task_impl(Fn&& f) : fn(std::move(f)) {}
    explicit task_impl(const Fn& f) : fn(f) {}
    void run(shard& s) override { fn(s); }
    Fn fn;
};

// shard_message_fn that runs and deletes the task in `a` (exceptions are caught
// and reported; they never unwind through the reactor).
void run_task(shard& s, shard_message& m) noexcept;

template <class Fn>
shard_message make_task_message(Fn&& fn) {
    using F = std::decay_t<Fn>;
    return shard_message{&run_task, static_cast<task*>(new task_impl<F>(std::forward<Fn>(fn))),
                         nullptr, 0};
}

}  // namespace ssepush::engine::detail
