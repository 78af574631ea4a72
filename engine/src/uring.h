#pragma once
// Completion identity for the engine's rings: what each CQE is for, packed
// into user_data. The ring itself is ssepush/engine/uring.h.
#include "ssepush/engine/uring.h"

#include <cstdint>
#include <string>

namespace ssepush::engine::detail {

// What a completion is for. Packed with a slot and a generation into
// user_data so dispatch is one switch and needs no per-operation allocation.
enum class op : std::uint8_t {
    none = 0,
    accept,
    recv,
    send,
    peername,
    shutdown,
    close,
    wake,          // IORING_OP_MSG_RING from another shard
    eventfd_read,  // wake-up from a foreign thread
    cancel,
    link_connect,  // outbound link (link.cc): CONNECT, or its POLLOUT fallback
    link_recv,
    link_send,
};

inline std::uint64_t pack(op o, std::uint32_t gen, std::uint32_t slot) noexcept {
    return (std::uint64_t(o) << 56) | (std::uint64_t(gen & 0xffffffu) << 32) | slot;
}
inline op op_of(std::uint64_t ud) noexcept {
    return op(ud >> 56);
}
inline std::uint32_t gen_of(std::uint64_t ud) noexcept {
    return std::uint32_t(ud >> 32) & 0xffffffu;
}
inline std::uint32_t slot_of(std::uint64_t ud) noexcept {
    return std::uint32_t(ud);
}

using engine::buf_ring;
using engine::uring;
using engine::uring_config;

}  // namespace ssepush::engine::detail
