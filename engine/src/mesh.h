#pragma once
// How shards reach each other: one SPSC ring per ordered pair of shards
// (n*(n-1) rings, each written by exactly one shard and read by exactly one),
// one MPSC queue per shard for threads that are not shards, and the wake-up
// state each shard publishes before it sleeps.
//
// Wake-up protocol (no fences: both sides do a read-modify-write on the same
// atomic, and RMWs on one object are totally ordered):
//   consumer: sleeping.exchange(true); if any inbound queue is non-empty -> don't sleep
//   producer: push; if sleeping.exchange(false) -> wake it
// If the producer's exchange comes first, the consumer's exchange reads its
// value (acquire after release) and so sees the push; if the consumer's comes
// first, the producer reads `true` and wakes it. A stale wake is harmless.
// A shard wakes a shard with IORING_OP_MSG_RING on its own ring (no syscall of
// its own: it rides the next submit); a foreign thread writes the target's eventfd.
#include <atomic>
#include <memory>
#include <vector>

#include "ssepush/engine/message.h"
#include "ssepush/engine/mpsc_queue.h"
#include "ssepush/engine/spsc_ring.h"
#include "ssepush/engine/types.h"

namespace ssepush::engine::detail {

struct foreign_message : mpsc_node {
    shard_message m;
};

struct alignas(64) shard_inbox {
    std::atomic<bool> sleeping{false};
    std::atomic<bool> stop{false};
    int ring_fd = -1;   // for MSG_RING
    int event_fd = -1;  // for foreign threads
    mpsc_queue foreign;
};

struct shard_mesh {
    static constexpr std::size_t k_ring_capacity = 4096;

    explicit shard_mesh(unsigned n) : shards(n), inboxes(n) {
        rings.reserve(std::size_t(n) * n);
        for (unsigned from = 0; from < n; ++from)
            for (unsigned to = 0; to < n; ++to)
                rings.push_back(from == to
                                    ? nullptr
                                    : std::make_unique<spsc_ring<shard_message>>(k_ring_capacity));
    }
    [[nodiscard]] spsc_ring<shard_message>& ring(unsigned from, unsigned to) noexcept {
        return *rings[std::size_t(from) * shards + to];
    }

    unsigned shards;
    std::vector<shard_inbox> inboxes;
    std::vector<std::unique_ptr<spsc_ring<shard_message>>> rings;
};

}  // namespace ssepush::engine::detail
