#include "ssepush/engine/frame.h"

#include <new>

#include "check.h"
#include "ssepush/proto/http_response.h"

namespace ssepush::engine {

frame* frame::allocate(std::size_t size, std::uint8_t flags) {
    SSEPUSH_ASSERT(size <= 0xffffffffu - 64);
    void* mem = ::operator new(sizeof(frame) + k_chunk_room + size + 2);
    frame* f = new (mem) frame();
    f->size_ = std::uint32_t(size);
    f->flags_ = flags;
    return f;
}

void frame::seal() noexcept {
    char hdr[proto::k_chunk_header_max];
    std::size_t n = proto::chunk_header(size_, hdr);
    SSEPUSH_ASSERT(n <= k_chunk_room);
    std::memcpy(storage_ + k_chunk_room - n, hdr, n);
    chunk_len_ = std::uint8_t(n);
    storage_[k_chunk_room + size_] = '\r';
    storage_[k_chunk_room + size_ + 1] = '\n';
}

frame* frame::copy_of(std::string_view bytes, std::uint8_t flags) {
    frame* f = allocate(bytes.size(), flags);
    if (!bytes.empty()) std::memcpy(f->data(), bytes.data(), bytes.size());
    f->seal();
    return f;
}

frame* frame::sse(const proto::sse_event& ev) {
    frame* f = allocate(proto::encoded_size(ev));
    std::size_t n = proto::encode(ev, f->data());
    SSEPUSH_ASSERT(n == f->size());
    f->seal();
    return f;
}

frame* frame::make_static(std::string_view bytes, std::uint8_t flags) {
    return copy_of(bytes, std::uint8_t(flags | k_static));
}

void frame::destroy() noexcept {
    this->~frame();
    ::operator delete(static_cast<void*>(this));
}

shared_bytes* shared_bytes::allocate(std::size_t size) {
    void* mem = ::operator new(sizeof(shared_bytes) + size);
    shared_bytes* b = new (mem) shared_bytes();
    b->size_ = std::uint32_t(size);
    return b;
}

shared_bytes* shared_bytes::copy_of(std::string_view bytes) {
    shared_bytes* b = allocate(bytes.size());
    if (!bytes.empty()) std::memcpy(b->data_, bytes.data(), bytes.size());
    return b;
}

void shared_bytes::destroy() noexcept {
    this->~shared_bytes();
    ::operator delete(static_cast<void*>(this));
}

}  // namespace ssepush::engine
