#pragma once
// The io_uring seam: ring setup with feature probing and explicit fallbacks,
// an SQE getter that never returns null, and the provided-buffer ring. The
// engine's shards are built on it, and so are tools that drive their own rings
// (sseload's client workers). Nothing else calls liburing setup APIs.
//
// Threading: a ring belongs to the thread that created it (SINGLE_ISSUER when
// the kernel allows). Allocation: at construction only.
#include <liburing.h>

#include <cstdint>
#include <string>

namespace ssepush::engine {

struct uring_config {
    unsigned sq_entries = 4096;
    unsigned cq_entries = 32768;
    unsigned files = 20000;  // registered (direct) file table size
};

class uring {
public:
    // Creates the ring on the calling thread (which becomes its only submitter),
    // trying SINGLE_ISSUER|DEFER_TASKRUN, then COOP_TASKRUN, then plain; checks
    // the opcodes and features the engine needs; registers a sparse file table.
    // Throws std::system_error naming what is missing.
    explicit uring(const uring_config& cfg);
    ~uring();
    uring(const uring&) = delete;
    uring& operator=(const uring&) = delete;

    // An SQE, flushing the submission queue to the kernel first if it is full.
    [[nodiscard]] io_uring_sqe* sqe() noexcept;
    [[nodiscard]] io_uring* raw() noexcept { return &ring_; }
    [[nodiscard]] int fd() const noexcept { return ring_.ring_fd; }
    [[nodiscard]] bool defer_taskrun() const noexcept { return defer_taskrun_; }
    [[nodiscard]] bool has_peername() const noexcept { return has_uring_cmd_; }
    [[nodiscard]] const std::string& mode() const noexcept { return mode_; }
    [[nodiscard]] unsigned files() const noexcept { return files_; }

    // Submits and waits for at least `wait_nr` completions or `timeout_ms`.
    int submit_and_wait(unsigned wait_nr, std::uint64_t timeout_ms) noexcept;
    int submit() noexcept;
    // Submits and runs completions the kernel deferred to this thread
    // (DEFER_TASKRUN), without waiting: what a busy loop calls each turn.
    int submit_and_get_events() noexcept;

private:
    io_uring ring_{};
    bool defer_taskrun_ = false;
    bool has_uring_cmd_ = false;
    unsigned files_ = 0;
    std::string mode_;
};

// A provided-buffer ring (IORING_REGISTER_PBUF_RING): `count` buffers of
// `size` bytes that multishot recv fills on demand, so a connection owns no
// read buffer while idle. Buffers are handed back in batches with recycle() +
// commit().
class buf_ring {
public:
    buf_ring(uring& ring, std::uint16_t group, unsigned count, unsigned size);
    ~buf_ring();
    buf_ring(const buf_ring&) = delete;
    buf_ring& operator=(const buf_ring&) = delete;

    [[nodiscard]] std::uint16_t group() const noexcept { return group_; }
    [[nodiscard]] char* buffer(std::uint16_t bid) const noexcept {
        return base_ + std::size_t(bid) * size_;
    }
    [[nodiscard]] unsigned size() const noexcept { return size_; }
    // Queue buffer `bid` to be given back; visible to the kernel after commit().
    void recycle(std::uint16_t bid) noexcept;
    void commit() noexcept;

private:
    uring& ring_;
    io_uring_buf_ring* br_ = nullptr;
    char* base_ = nullptr;
    std::size_t map_len_ = 0;
    std::uint16_t group_;
    unsigned count_;
    unsigned size_;
    unsigned pending_ = 0;
};

}  // namespace ssepush::engine
