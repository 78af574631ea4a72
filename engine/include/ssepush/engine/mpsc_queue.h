#pragma once

// mpsc_queue: an intrusive, unbounded, multi-producer / single-consumer queue.
//
// Purpose: work handed to a shard by threads that are not shards (an embedding
// application publishing from its own threads). Shard-to-shard traffic uses
// spsc_ring instead. The producer allocates its message (derived from mpsc_node),
// pushes it, then wakes the shard (eventfd); the shard pops and frees it.
//
// Algorithm: Dmitry Vyukov's node-based MPSC queue with a stub node. Producers
// swap themselves in as the new back of a singly linked list with one atomic
// exchange, then link the previous back to themselves. The consumer walks from the
// front. The stub node keeps the list non-empty, so neither side ever needs a CAS
// loop or a lock.
//
// Guarantees
// - push() is wait-free and may be called from any number of threads at once; it
//   does not allocate. Nodes pushed by one thread are popped in that thread's push
//   order (per-producer FIFO); pushes from different threads are linearised by
//   their exchange.
// - pop() is called by one consumer thread only. It returns nullptr when the queue
//   is empty OR when a producer is between its exchange and its link store (it has
//   claimed its place but not yet linked it; everything behind it is invisible
//   until it does). That is a transient state of a few instructions: the node is
//   returned by a later pop(). The engine pops until nullptr after each wake-up,
//   and every producer writes the eventfd after its push() returns, so a wake-up
//   always follows the link store and nothing is stranded.
// - A node returned by pop() is no longer referenced by the queue or by any
//   producer: the consumer may free or re-push it at once.
// - A node must not be pushed again while it is queued. The queue does not own
//   its nodes: destroying a non-empty queue leaks nothing of its own but strands
//   the queued nodes (drain first).
// - empty() is a snapshot; from the consumer it is exact at the instant of its
//   loads (a producer in the middle of a push counts as "not empty"); from other
//   threads it is a hint.
// - Complexity: O(1) push and pop; one atomic exchange per push.
//
// Example
//   struct task : mpsc_node { int payload; };
//   // any thread:  q.push(new task{{}, 42}); wake(shard);
//   // consumer:    while (mpsc_node* n = q.pop()) { auto* t = static_cast<task*>(n); ...; delete
//   t; }

#include <atomic>
#include <cstddef>

namespace ssepush::engine {

// The hook embedded in every queued object (derive from it, or embed it and
// recover the owner from the member). Touched only by the queue while queued.
struct mpsc_node {
    std::atomic<mpsc_node*> next{nullptr};
};

class mpsc_queue {
public:
    mpsc_queue() noexcept;
    mpsc_queue(const mpsc_queue&) = delete;
    mpsc_queue& operator=(const mpsc_queue&) = delete;

    // Any thread. Appends `node` (which must not be queued).
    void push(mpsc_node* node) noexcept;

    // Consumer thread only. The oldest node, or nullptr (empty, or a producer is
    // mid-push: see above).
    [[nodiscard]] mpsc_node* pop() noexcept;

    // Any thread; a snapshot (see above).
    bool empty() const noexcept;

private:
    static constexpr std::size_t k_cache_line = 64;

    // Back of the list: the last node pushed. Every producer exchanges it.
    alignas(k_cache_line) std::atomic<mpsc_node*> back_;
    // Front of the list: the next node to pop (possibly the stub). Written by the
    // consumer only; atomic (relaxed) so that empty() may read it from elsewhere.
    alignas(k_cache_line) std::atomic<mpsc_node*> front_;
    mpsc_node stub_;
};

// ---------------------------------------------------------------------------------

inline mpsc_queue::mpsc_queue() noexcept : back_(&stub_), front_(&stub_) {}

inline void mpsc_queue::push(mpsc_node* node) noexcept {
    // Relaxed: this store is published by the release half of the exchange below
    // (to the next producer, who will write node->next) and by the release store
    // of prev->next (to the consumer, who reaches node through it).
    node->next.store(nullptr, std::memory_order_relaxed);
    // acq_rel: release publishes node->next == nullptr (and the caller's payload)
    // to the next producer; acquire makes the previous producer's initialisation
    // of prev->next happen before our store to it.
    mpsc_node* prev = back_.exchange(node, std::memory_order_acq_rel);
    // From here until the store below, the list is cut between prev and node.
    // Release pairs with the consumer's acquire load of prev->next: it sees the
    // payload of `node` once it sees the link.
    prev->next.store(node, std::memory_order_release);
}

inline mpsc_node* mpsc_queue::pop() noexcept {
    mpsc_node* front = front_.load(std::memory_order_relaxed);  // ours alone
    mpsc_node* next = front->next.load(std::memory_order_acquire);
    if (front == &stub_) {
        // The stub is never handed out: skip over it.
        if (next == nullptr) return nullptr;  // empty (or the first push is mid-way)
        front_.store(next, std::memory_order_relaxed);
        front = next;
        next = front->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
        // front has a successor: it is no longer the back, so no producer will
        // write front->next again. Hand it out.
        front_.store(next, std::memory_order_relaxed);
        return front;
    }
    // front looks like the last node. If it is not the back, a producer has
    // exchanged past it but not yet linked it: come back later.
    if (front != back_.load(std::memory_order_acquire)) return nullptr;
    // front is the back: put the stub behind it so front gains a successor and can
    // be handed out without leaving the list empty of nodes.
    push(&stub_);
    next = front->next.load(std::memory_order_acquire);
    if (next != nullptr) {
        // Either the stub or a node a producer pushed just before it.
        front_.store(next, std::memory_order_relaxed);
        return front;
    }
    // A producer exchanged between our load of back_ and our push of the stub and
    // has not linked front yet.
    return nullptr;
}

inline bool mpsc_queue::empty() const noexcept {
    // Empty means: the front is the stub and nothing was pushed after it. (When the
    // stub is the back, nothing can be behind it: only the consumer pushes the stub,
    // and only while front is a real node.)
    return front_.load(std::memory_order_relaxed) == &stub_ &&
           back_.load(std::memory_order_acquire) == &stub_;
}

}  // namespace ssepush::engine
