#include "ssepush/engine/uring.h"

#include <sys/mman.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "check.h"

namespace ssepush::engine {

namespace {

[[noreturn]] void fail(int err, const std::string& what) {
    throw std::system_error(err, std::system_category(), what);
}

// Opcodes without which the engine cannot work, with the kernel that brought
// the form we use.
struct required_op {
    int opcode;
    const char* name;
};
constexpr required_op k_required_ops[] = {
    {IORING_OP_ACCEPT, "ACCEPT (multishot, direct: 5.19)"},
    {IORING_OP_RECV, "RECV (multishot with provided buffers: 6.0)"},
    {IORING_OP_SEND, "SEND"},
    {IORING_OP_SENDMSG, "SENDMSG"},
    {IORING_OP_SHUTDOWN, "SHUTDOWN (5.11)"},
    {IORING_OP_CLOSE, "CLOSE (direct: 5.15)"},
    {IORING_OP_MSG_RING, "MSG_RING (5.18)"},
    {IORING_OP_READ, "READ"},
    {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"},
};

}  // namespace

uring::uring(const uring_config& cfg) {
    struct attempt {
        unsigned flags;
        const char* name;
    };
    // The preferred setup first; each fallback is explicit and reported by mode().
    const attempt attempts[] = {
        {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, "single_issuer+defer_taskrun"},
        {IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, "coop_taskrun"},
        {0, "plain"},
    };
    int err = 0;
    bool ok = false;
    for (const attempt& a : attempts) {
        io_uring_params p{};
        p.flags = a.flags | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
        p.cq_entries = cfg.cq_entries;
        err = io_uring_queue_init_params(cfg.sq_entries, &ring_, &p);
        if (err == -EINVAL) {  // SUBMIT_ALL is 5.18+; retry without it
            p = io_uring_params{};
            p.flags = a.flags | IORING_SETUP_CQSIZE;
            p.cq_entries = cfg.cq_entries;
            err = io_uring_queue_init_params(cfg.sq_entries, &ring_, &p);
        }
        if (err == 0) {
            const unsigned need = IORING_FEAT_NODROP | IORING_FEAT_FAST_POLL | IORING_FEAT_EXT_ARG;
            if ((p.features & need) != need) {
                io_uring_queue_exit(&ring_);
                fail(ENOTSUP,
                     "io_uring: kernel lacks NODROP/FAST_POLL/EXT_ARG (need Linux >= 5.19)");
            }
            defer_taskrun_ = a.flags & IORING_SETUP_DEFER_TASKRUN;
            mode_ = a.name;
            ok = true;
            break;
        }
        if (err != -EINVAL) break;  // EINVAL: flags unknown to this kernel, try the next
    }
    if (!ok) fail(-err, "io_uring_queue_init_params");

    io_uring_probe* probe = io_uring_get_probe_ring(&ring_);
    if (!probe) {
        io_uring_queue_exit(&ring_);
        fail(ENOTSUP, "io_uring: cannot probe supported opcodes");
    }
    for (const required_op& r : k_required_ops) {
        if (!io_uring_opcode_supported(probe, r.opcode)) {
            io_uring_free_probe(probe);
            io_uring_queue_exit(&ring_);
            fail(ENOTSUP, std::string("io_uring: kernel lacks opcode ") + r.name);
        }
    }
    // Optional: IORING_OP_URING_CMD getsockopt(SO_PEERNAME) on a direct
    // descriptor (6.7) gives the client address without a regular fd.
    has_uring_cmd_ = io_uring_opcode_supported(probe, IORING_OP_URING_CMD);
    io_uring_free_probe(probe);

    // The registered file table is capped by RLIMIT_NOFILE per ring.
    rlimit rl{};
    unsigned files = cfg.files;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && files > rl.rlim_cur)
        files = unsigned(rl.rlim_cur);
    err = io_uring_register_files_sparse(&ring_, files);
    if (err < 0) {
        io_uring_queue_exit(&ring_);
        fail(-err, "io_uring_register_files_sparse(" + std::to_string(files) + ")");
    }
    files_ = files;
    // Fewer fd lookups per io_uring_enter; optional.
    (void)io_uring_register_ring_fd(&ring_);
}

uring::~uring() {
    io_uring_queue_exit(&ring_);
}

io_uring_sqe* uring::sqe() noexcept {
    io_uring_sqe* s = io_uring_get_sqe(&ring_);
    while (!s) {
        (void)io_uring_submit(&ring_);
        s = io_uring_get_sqe(&ring_);
    }
    return s;
}

int uring::submit() noexcept {
    return io_uring_submit(&ring_);
}

int uring::submit_and_get_events() noexcept {
    return io_uring_submit_and_get_events(&ring_);
}

int uring::submit_and_wait(unsigned wait_nr, std::uint64_t timeout_ms) noexcept {
    if (wait_nr == 0) return io_uring_submit(&ring_);
    __kernel_timespec ts{};
    ts.tv_sec = static_cast<long long>(timeout_ms / 1000);
    ts.tv_nsec = static_cast<long long>((timeout_ms % 1000) * 1'000'000);
    io_uring_cqe* cqe = nullptr;
    return io_uring_submit_and_wait_timeout(&ring_, &cqe, wait_nr, &ts, nullptr);
}

buf_ring::buf_ring(uring& ring, std::uint16_t group, unsigned count, unsigned size)
    : ring_(ring), group_(group), count_(count), size_(size) {
    if (count == 0 || (count & (count - 1)) != 0 || count > 32768)
        fail(EINVAL, "recv_buffers must be a power of two <= 32768");
    std::size_t ring_bytes = sizeof(io_uring_buf) * count;
    map_len_ = ring_bytes + std::size_t(count) * size;
    void* mem = mmap(nullptr, map_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) fail(errno, "mmap(provided buffers)");
    br_ = static_cast<io_uring_buf_ring*>(mem);
    base_ = static_cast<char*>(mem) + ring_bytes;
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(br_);
    reg.ring_entries = count;
    reg.bgid = group;
    int err = io_uring_register_buf_ring(ring.raw(), &reg, 0);
    if (err < 0) {
        munmap(mem, map_len_);
        fail(-err, "io_uring_register_buf_ring (need Linux >= 5.19)");
    }
    io_uring_buf_ring_init(br_);
    const int mask = io_uring_buf_ring_mask(count);
    for (unsigned i = 0; i < count; ++i)
        io_uring_buf_ring_add(br_, buffer(std::uint16_t(i)), size, std::uint16_t(i), mask, int(i));
    io_uring_buf_ring_advance(br_, int(count));
}

buf_ring::~buf_ring() {
    (void)io_uring_unregister_buf_ring(ring_.raw(), group_);
    munmap(br_, map_len_);
}

void buf_ring::recycle(std::uint16_t bid) noexcept {
    io_uring_buf_ring_add(br_, buffer(bid), size_, bid, io_uring_buf_ring_mask(count_),
                          int(pending_));
    ++pending_;
}

void buf_ring::commit() noexcept {
    if (pending_) {
        io_uring_buf_ring_advance(br_, int(pending_));
        pending_ = 0;
    }
}

}  // namespace ssepush::engine
