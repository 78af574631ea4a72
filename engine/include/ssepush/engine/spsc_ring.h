#pragma once

// spsc_ring<T>: a bounded, lock-free, single-producer / single-consumer ring.
//
// Purpose: the cross-shard channel. The engine keeps one ring per ordered pair of
// shards (src -> dst) carrying small fixed-size messages (a 32-byte struct); the
// producer is the src shard's thread, the consumer the dst shard's thread.
//
// Guarantees
// - Exactly one producer thread calls try_push()/try_push_n(), and exactly one
//   consumer thread calls try_pop()/consume(). The two may be different threads and
//   run concurrently; nothing else is needed (no locks, no CAS loops). empty(),
//   size_approx() and capacity() may be called from either side.
// - FIFO: items are popped in the order they were pushed. An item is visible to the
//   consumer as soon as the push that wrote it returns (a release store of the
//   tail; the consumer's acquire load of the tail pairs with it).
// - Bounded: a push into a full ring fails (returns false / a short count) and
//   leaves the ring unchanged; the caller decides (retry after the consumer drains,
//   spill to a local overflow list, ...). A pop from an empty ring returns false.
// - T must be trivially copyable (and copy-assignable): items are copied in and out
//   bitwise and never destroyed. Allocation happens once, in the constructor (which may
//   throw std::bad_alloc / std::invalid_argument, as setup code does); every other
//   member is noexcept and allocation-free.
// - Complexity: try_push/try_pop O(1); try_push_n and consume O(n) copies but ONE
//   release store of the shared index per call, so a batch costs one cache-line
//   transfer instead of n.
//
// Layout (as Seastar's smp queues and rigtorp's SPSCQueue): the producer's index
// and the consumer's index live on separate cache lines, and each side keeps a
// private copy of the other side's index, refreshed only when the cached value says
// the ring is full (producer) or empty (consumer). In steady state a side touches
// the other's cache line once per batch, not once per item.
//
// Sleep/wake handshakes: empty() is a snapshot, and acquire/release on the two
// indices does not order one side's store before its load of the other index (the
// Dekker problem). A consumer about to sleep and a producer deciding whether to wake
// it should meet on one shared wake word with read-modify-writes, e.g.
//   consumer: state.exchange(sleeping); if (!ring.empty()) { state = awake; return; } sleep();
//   producer: ring.try_push(m); if (state.exchange(awake) == sleeping) wake();
// RMWs on one atomic are totally ordered: either the producer sees `sleeping`, or the
// consumer's exchange reads the producer's and so sees its push. (This also keeps
// TSan builds clean: GCC rejects std::atomic_thread_fence under -fsanitize=thread.)
//
// Example
//   spsc_ring<msg> ring(256);
//   // producer thread:                  // consumer thread:
//   if (!ring.try_push(m)) overflow(m);   ring.consume([](msg& m) { run(m); }, 64);

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace ssepush::engine {

template <class T>
class spsc_ring {
    static_assert(std::is_trivially_copyable_v<T>, "spsc_ring<T> copies items bitwise");
    static_assert(std::is_copy_assignable_v<T>, "try_pop() assigns to its out-parameter");

public:
    // Throws std::invalid_argument unless capacity is a power of two >= 2.
    explicit spsc_ring(std::size_t capacity);
    ~spsc_ring();

    spsc_ring(const spsc_ring&) = delete;
    spsc_ring& operator=(const spsc_ring&) = delete;

    // Producer. Appends one item; false if the ring is full.
    [[nodiscard]] bool try_push(const T& item) noexcept;
    // Producer. Appends as many of items[0..n) as fit, in order, published with one
    // release store; returns how many were pushed (0 if full).
    [[nodiscard]] std::size_t try_push_n(const T* items, std::size_t n) noexcept;

    // Consumer. Pops the oldest item into `out`; false if the ring is empty.
    [[nodiscard]] bool try_pop(T& out) noexcept;
    // Consumer. Calls fn(T&) on up to `max` of the oldest items, in order, then frees
    // their slots with one release store; returns how many were consumed. The T& is
    // the slot itself: valid only during the call. fn must not touch this ring's
    // consumer side (no nested try_pop/consume). If fn throws, nothing is freed and
    // the same items are seen again by the next consume.
    template <class Fn>
    std::size_t consume(Fn&& fn, std::size_t max) noexcept(std::is_nothrow_invocable_v<Fn&, T&>);

    // Either side: a snapshot that may be stale by the time it returns.
    bool empty() const noexcept;
    std::size_t size_approx() const noexcept;
    std::size_t capacity() const noexcept { return mask_ + 1; }

private:
    static constexpr std::size_t k_cache_line = 64;
    static constexpr std::size_t k_align = alignof(T) > k_cache_line ? alignof(T) : k_cache_line;

    // Read-only after construction: shared by both sides without traffic.
    T* buf_;
    std::size_t mask_;

    // Producer's line. tail_ counts pushes (free-running, index = tail_ & mask_);
    // written only by the producer, read by the consumer.
    alignas(k_cache_line) std::atomic<std::size_t> tail_{0};
    std::size_t head_cache_ = 0;  // producer-private copy of head_

    // Consumer's line. head_ counts pops; written only by the consumer.
    alignas(k_cache_line) std::atomic<std::size_t> head_{0};
    std::size_t tail_cache_ = 0;  // consumer-private copy of tail_
};

// ---------------------------------------------------------------------------------
// Implementation. Indices are free-running std::size_t counters: tail - head is the
// fill level (wrap-around of the counters is harmless with unsigned arithmetic and
// cannot happen in practice with 64 bits).

template <class T>
spsc_ring<T>::spsc_ring(std::size_t capacity) : buf_(nullptr), mask_(capacity - 1) {
    if (capacity < 2 || (capacity & (capacity - 1)) != 0) {
        throw std::invalid_argument("spsc_ring: capacity must be a power of two >= 2");
    }
    if (capacity > static_cast<std::size_t>(-1) / 2 / sizeof(T)) {
        throw std::invalid_argument("spsc_ring: capacity too large");
    }
    // Raw storage: T is trivially copyable (an implicit-lifetime type), so objects
    // come into existence as they are copied in.
    buf_ = static_cast<T*>(::operator new (capacity * sizeof(T), std::align_val_t{k_align}));
}

template <class T>
spsc_ring<T>::~spsc_ring() {
    ::operator delete (buf_, std::align_val_t{k_align});
}

template <class T>
bool spsc_ring<T>::try_push(const T& item) noexcept {
    // Our own index: only we write it, relaxed is enough.
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ == capacity()) {
        // Looks full: refresh. Acquire pairs with the consumer's release of head_, so
        // its reads of the slot we are about to overwrite happen before our write.
        head_cache_ = head_.load(std::memory_order_acquire);
        if (tail - head_cache_ == capacity()) return false;
    }
    std::construct_at(buf_ + (tail & mask_), item);
    // Release publishes the slot contents together with the new tail.
    tail_.store(tail + 1, std::memory_order_release);
    return true;
}

template <class T>
std::size_t spsc_ring<T>::try_push_n(const T* items, std::size_t n) noexcept {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    std::size_t free = capacity() - (tail - head_cache_);
    if (free < n) {
        head_cache_ = head_.load(std::memory_order_acquire);  // as in try_push
        free = capacity() - (tail - head_cache_);
    }
    const std::size_t count = std::min(n, free);
    if (count == 0) return 0;
    // Typed element copies rather than memcpy, so that TSan sees every slot access
    // (GCC does not instrument inlined memcpy).
    for (std::size_t i = 0; i < count; ++i) {
        std::construct_at(buf_ + ((tail + i) & mask_), items[i]);
    }
    tail_.store(tail + count, std::memory_order_release);  // one publication for the batch
    return count;
}

template <class T>
bool spsc_ring<T>::try_pop(T& out) noexcept {
    const std::size_t head = head_.load(std::memory_order_relaxed);  // our own index
    if (head == tail_cache_) {
        // Looks empty: refresh. Acquire pairs with the producer's release of tail_,
        // making the slot contents it wrote visible to us.
        tail_cache_ = tail_.load(std::memory_order_acquire);
        if (head == tail_cache_) return false;
    }
    out = buf_[head & mask_];
    // Release: our read of the slot happens before the producer may reuse it.
    head_.store(head + 1, std::memory_order_release);
    return true;
}

template <class T>
template <class Fn>
std::size_t spsc_ring<T>::consume(Fn&& fn,
                                  std::size_t max) noexcept(std::is_nothrow_invocable_v<Fn&, T&>) {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    std::size_t avail = tail_cache_ - head;
    if (avail < max) {
        tail_cache_ = tail_.load(std::memory_order_acquire);  // as in try_pop
        avail = tail_cache_ - head;
    }
    const std::size_t count = std::min(avail, max);
    for (std::size_t i = 0; i < count; ++i) {
        fn(buf_[(head + i) & mask_]);
    }
    if (count != 0) head_.store(head + count, std::memory_order_release);  // one for the batch
    return count;
}

template <class T>
bool spsc_ring<T>::empty() const noexcept {
    return size_approx() == 0;
}

template <class T>
std::size_t spsc_ring<T>::size_approx() const noexcept {
    // Read head first: the tail we read afterwards is at least the tail the consumer
    // saw when it stored that head, so tail - head never underflows. It can exceed
    // the capacity if pops and pushes ran between the two loads; clamp.
    const std::size_t head = head_.load(std::memory_order_acquire);
    const std::size_t tail = tail_.load(std::memory_order_acquire);
    return std::min(tail - head, capacity());
}

}  // namespace ssepush::engine
