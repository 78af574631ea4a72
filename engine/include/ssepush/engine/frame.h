#pragma once
// Frames: immutable bytes built once and shared by every recipient on a shard.
//
// A frame is one allocation: a small header, room for an HTTP chunk header,
// the bytes, and a trailing CRLF. Every out-queue that holds the frame holds a
// reference, so a fan-out to N streams is N pointer pushes and N non-atomic
// increments, never a copy. The same frame serves plain (close-delimited or
// HTTP/1.0) streams through `bytes()` and chunked HTTP/1.1 streams through
// `chunked()`, which is [size CRLF][bytes][CRLF] and contiguous, so either way a
// frame is one iovec.
//
// Threading: the reference count is not atomic. A frame belongs to one thread
// at a time (the shard that queues it); it may be built on any thread and
// handed to a shard through `shard::run_on()` / the cross-shard queues, which
// order the hand-over. To send the same bytes on several shards, share the
// source bytes (e.g. `shared_bytes`) and build one frame per shard: that is one
// small copy per shard, after which each shard's recipients share its frame
// and no reference count is ever touched by two cores.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include "ssepush/proto/sse.h"

namespace ssepush::engine {

class frame {
public:
    // Flags.
    static constexpr std::uint8_t k_raw = 1;     // never chunk-framed (an HTTP response head)
    static constexpr std::uint8_t k_static = 2;  // lives forever; references are not counted

    frame(const frame&) = delete;
    frame& operator=(const frame&) = delete;

    // A frame of `size` bytes to fill through data(); call seal() before queueing it.
    [[nodiscard]] static frame* allocate(std::size_t size, std::uint8_t flags = 0);
    // A sealed frame holding a copy of `bytes`.
    [[nodiscard]] static frame* copy_of(std::string_view bytes, std::uint8_t flags = 0);
    // A sealed frame holding one SSE event, encoded straight into place.
    [[nodiscard]] static frame* sse(const proto::sse_event& ev);

    [[nodiscard]] char* data() noexcept { return storage_ + k_chunk_room; }
    // Writes the chunk header. Must be called once, after the bytes are final.
    void seal() noexcept;

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::string_view bytes() const noexcept {
        return {storage_ + k_chunk_room, size_};
    }
    // [hex size CRLF][bytes][CRLF]
    [[nodiscard]] std::string_view chunked() const noexcept {
        return {storage_ + k_chunk_room - chunk_len_, chunk_len_ + size_ + 2};
    }
    [[nodiscard]] bool raw() const noexcept { return flags_ & k_raw; }
    // What a stream sends for this frame.
    [[nodiscard]] std::string_view wire(bool chunked_stream) const noexcept {
        return chunked_stream && !raw() ? chunked() : bytes();
    }

    void ref() noexcept {
        if (!(flags_ & k_static)) ++refs_;
    }
    void unref() noexcept {
        if (!(flags_ & k_static) && --refs_ == 0) destroy();
    }
    // Takes `n` references at once (a fan-out to n recipients).
    void ref_n(std::uint32_t n) noexcept {
        if (!(flags_ & k_static)) refs_ += n;
    }
    [[nodiscard]] std::uint32_t ref_count() const noexcept { return refs_; }

    // A frame that is never freed (e.g. the last chunk), built once per process.
    [[nodiscard]] static frame* make_static(std::string_view bytes, std::uint8_t flags);

private:
    frame() = default;
    void destroy() noexcept;

    static constexpr std::size_t k_chunk_room = 18;

    std::uint32_t refs_ = 1;
    std::uint32_t size_ = 0;
    std::uint8_t flags_ = 0;
    std::uint8_t chunk_len_ = 0;
    // [k_chunk_room bytes: chunk header, right-aligned][size_ bytes][\r\n]
    char storage_[];
};

// An owning reference to a frame (one count), movable, not copyable by accident.
class frame_ptr {
public:
    frame_ptr() noexcept = default;
    // Adopts the reference the caller holds (frame::allocate/copy_of/sse return one).
    explicit frame_ptr(frame* f) noexcept : f_(f) {}
    frame_ptr(frame_ptr&& o) noexcept : f_(std::exchange(o.f_, nullptr)) {}
    frame_ptr& operator=(frame_ptr&& o) noexcept {
        if (this != &o) {
            reset();
            f_ = std::exchange(o.f_, nullptr);
        }
        return *this;
    }
    frame_ptr(const frame_ptr&) = delete;
    frame_ptr& operator=(const frame_ptr&) = delete;
    ~frame_ptr() { reset(); }

    [[nodiscard]] frame_ptr share() const noexcept {
        if (f_) f_->ref();
        return frame_ptr(f_);
    }
    void reset() noexcept {
        if (f_) std::exchange(f_, nullptr)->unref();
    }
    [[nodiscard]] frame* release() noexcept { return std::exchange(f_, nullptr); }
    [[nodiscard]] frame* get() const noexcept { return f_; }
    frame* operator->() const noexcept { return f_; }
    frame& operator*() const noexcept { return *f_; }
    explicit operator bool() const noexcept { return f_ != nullptr; }

private:
    frame* f_ = nullptr;
};

// Immutable bytes with an atomic reference count: what crosses shards when the
// same content is delivered on several of them (one reference per shard,
// taken once by the sender; never per recipient).
class shared_bytes {
public:
    [[nodiscard]] static shared_bytes* copy_of(std::string_view bytes);
    [[nodiscard]] static shared_bytes* allocate(std::size_t size);  // fill via data()

    [[nodiscard]] char* data() noexcept { return data_; }
    [[nodiscard]] std::string_view view() const noexcept { return {data_, size_}; }
    void ref(std::uint32_t n = 1) noexcept { refs_.fetch_add(n, std::memory_order_relaxed); }
    void unref() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
    }

private:
    shared_bytes() = default;
    void destroy() noexcept;

    std::atomic<std::uint32_t> refs_{1};
    std::uint32_t size_ = 0;
    char data_[];
};

}  // namespace ssepush::engine
