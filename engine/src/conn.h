#pragma once
// One TCP connection as a shard holds it. Kept small, because a shard holds
// tens of thousands of idle ones: no read buffer unless a request spans
// receives, no out-queue ring unless frames are waiting, one timer node for
// whichever deadline applies in the current state.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "out_queue.h"
#include "ssepush/engine/http.h"
#include "ssepush/engine/timer_wheel.h"
#include "ssepush/engine/types.h"
#include "ssepush/proto/http_request.h"

namespace ssepush::engine::detail {

enum class conn_state : std::uint8_t {
    free,
    reading,    // waiting for / reading a request
    handling,   // a deferred answer is pending; input is held
    streaming,  // a long-lived response is open
    closing,    // close scheduled or in progress
};

// Which deadline the connection's timer stands for.
enum class deadline : std::uint8_t { none, header, idle, write_stall, drain };

// A sendmsg in flight needs its msghdr and iovecs to stay put until it completes.
inline constexpr unsigned k_max_iov = 32;
struct send_ctx {
    msghdr mh{};
    iovec iov[k_max_iov];
};

// The first cache line holds everything a fan-out and a flush touch, so
// queueing a frame on 10,000 streams costs about one line per stream.
struct alignas(64) conn {
    // --- hot ---
    out_queue q;
    std::uint32_t gen = 0;   // bumped when the slot is reused
    std::uint32_t slot = 0;  // index in the shard's slab
    std::int32_t file = -1;  // direct descriptor (registered file index)
    conn_state state = conn_state::free;
    deadline timer_kind = deadline::none;
    std::uint8_t ops = 0;  // completions still owed by the kernel
    bool dirty : 1 = false;
    bool send_inflight : 1 = false;
    bool close_after_flush : 1 = false;
    bool stream_open : 1 = false;  // counted in open_streams; hooks pending
    bool stream_chunked : 1 = false;
    bool keep_alive : 1 = true;        // the answer keeps the connection open
    bool request_seen : 1 = false;     // a request head has started
    bool close_submitted : 1 = false;  // SHUTDOWN + CLOSE are in the ring
    // Streams: when queued bytes last started waiting or moved (shard ms,
    // modulo 2^32; only differences under the write-stall timeout are used).
    std::uint32_t stall_since = 0;

    // --- cold ---
    bool recv_armed = false;
    bool http10 = false;  // the current request is HTTP/1.0
    close_reason why = close_reason::local_close;
    std::uint16_t shard = 0;
    timer_node timer;
    proto::request_parser parser;

    // Bytes of a request that spans receives (null while idle).
    char* rx = nullptr;
    std::uint32_t rx_len = 0;
    std::uint32_t rx_cap = 0;
    std::uint32_t rx_need = 0;  // head parsed, body pending: bytes the request needs

    const stream_hooks* hooks = nullptr;
    void* user = nullptr;
    frame* gap_marker = nullptr;
    send_ctx* send_ctx_ptr = nullptr;  // sendmsg state while a send is in flight
    peer_address peer;
};

static_assert(offsetof(conn, recv_armed) <= 64, "the hot part of conn is one cache line");

// Connections in chunks of stable addresses, recycled through a free list.
class conn_slab {
public:
    static constexpr std::uint32_t k_chunk = 1024;

    [[nodiscard]] conn* allocate() {
        if (free_.empty()) {
            auto chunk = std::make_unique<conn[]>(k_chunk);
            std::uint32_t base = std::uint32_t(chunks_.size()) * k_chunk;
            for (std::uint32_t i = k_chunk; i-- > 0;) {
                chunk[i].slot = base + i;
                free_.push_back(&chunk[i]);
            }
            chunks_.push_back(std::move(chunk));
        }
        conn* c = free_.back();
        free_.pop_back();
        ++live_;
        return c;
    }
    void release(conn* c) noexcept {
        c->gen = (c->gen + 1) & 0xffffffu;
        if (c->gen == 0) c->gen = 1;  // 0 never names a live connection
        c->state = conn_state::free;
        free_.push_back(c);
        --live_;
    }
    [[nodiscard]] conn* at(std::uint32_t slot) const noexcept {
        std::uint32_t ci = slot / k_chunk;
        return ci < chunks_.size() ? &chunks_[ci][slot % k_chunk] : nullptr;
    }
    [[nodiscard]] std::uint32_t live() const noexcept { return live_; }
    template <class Fn>
    void for_each_live(Fn&& fn) {
        for (auto& ch : chunks_)
            for (std::uint32_t i = 0; i < k_chunk; ++i)
                if (ch[i].state != conn_state::free) fn(ch[i]);
    }

private:
    std::vector<std::unique_ptr<conn[]>> chunks_;
    std::vector<conn*> free_;
    std::uint32_t live_ = 0;
};

}  // namespace ssepush::engine::detail
