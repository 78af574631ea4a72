#pragma once
// A connection's out-queue: frame references waiting to be sent, in order.
//
// A ring of frame pointers: one inline slot, then a heap ring that grows by
// doubling while a burst lasts and is given back once it drains, so an idle
// stream costs 40 bytes here. The queue
// counts bytes as they will go on the wire (chunk framing included) so the
// slow-consumer limit means what it says. The first `inflight()` entries are
// part of a send the kernel has not completed: they are never dropped or
// moved out from under it.
//
// Not thread-safe: owned by the connection's shard.
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "ssepush/engine/frame.h"

namespace ssepush::engine::detail {

class out_queue {
public:
    out_queue() noexcept = default;
    out_queue(const out_queue&) = delete;
    out_queue& operator=(const out_queue&) = delete;
    ~out_queue() { clear(); }

    void set_chunked(bool on) noexcept { chunked_ = on; }
    [[nodiscard]] bool chunked() const noexcept { return chunked_; }

    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    [[nodiscard]] std::uint32_t size() const noexcept { return count_; }
    [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
    [[nodiscard]] std::uint32_t inflight() const noexcept { return inflight_; }
    // Slots the queue holds now: 1 (the inline slot) unless a burst is waiting.
    [[nodiscard]] std::uint32_t capacity() const noexcept { return cap_; }
    [[nodiscard]] std::size_t wire_size(const frame* f) const noexcept {
        return f->wire(chunked_).size();
    }

    // Appends `f`, adopting one reference the caller already holds.
    // Returns false only if memory for the ring could not be had.
    bool push(frame* f) noexcept;

    // Fills up to `max` iovecs from the head (the head frame minus what was
    // already sent), marks those entries in flight and returns how many.
    std::uint32_t prepare(iovec* iov, std::uint32_t max) noexcept;
    // The kernel sent `n` bytes of the in-flight entries: pops (and unrefs)
    // every frame sent whole, remembers the offset into a partly sent one, and
    // clears the in-flight mark.
    void complete(std::size_t n) noexcept;

    // Drops queued frames that are not in flight, oldest first, until at most
    // `target_bytes` remain queued or nothing droppable is left, and puts
    // `marker` (one new reference taken) where they were. Returns frames dropped.
    std::uint32_t drop_oldest(std::size_t target_bytes, frame* marker) noexcept;

    // Unrefs every entry (including in-flight ones: call only once the kernel
    // is done with them) and frees the ring.
    void clear() noexcept;

private:
    [[nodiscard]] frame*& at(std::uint32_t i) const noexcept {
        return ring_[(head_ + i) & (cap_ - 1)];
    }
    bool grow() noexcept;
    void shrink_if_idle() noexcept;

    // ring_ is inline_ (capacity 1) until a second frame waits: a stream that
    // gets one frame per flush never allocates, and its queue shares the
    // connection's hot cache line.
    frame** ring_ = inline_;
    std::uint32_t cap_ = 1;  // power of two
    std::uint32_t head_ = 0;
    std::uint32_t count_ = 0;
    std::uint32_t head_offset_ = 0;  // bytes of the head frame already sent
    std::uint32_t bytes_ = 0;        // wire bytes queued, minus head_offset_
    std::uint16_t inflight_ = 0;
    bool chunked_ = false;
    frame* inline_[1] = {nullptr};
};

static_assert(sizeof(out_queue) == 40);

}  // namespace ssepush::engine::detail
