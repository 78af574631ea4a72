#pragma once
// What a route handler sees: the request, and the three ways to answer it.
//
//   server.route(method_set::of(proto::method::get), "/hello", [](exchange& ex) {
//       ex.respond(200, "text/plain", "hi\n");
//   });
//
// A handler runs on the shard that owns the connection, synchronously, while
// the request's bytes are still in the shard's receive buffer: `request()`
// views are valid only during the call; copy what you keep.
//
// Answers:
//  - `respond()`: a complete response now. Keep-alive and pipelining follow the
//    request (HTTP/1.0 and 1.1 rules).
//  - `open_stream()`: a response head without a length; the connection becomes
//    a long-lived stream that `shard::send()` appends frames to, until either
//    side ends it. Chunked on HTTP/1.1, close-delimited on HTTP/1.0.
//  - `defer()`: answer later from the same shard with `shard::respond()`;
//    pipelined requests behind it wait.
// A handler that returns without answering gets a 500 (and so does one that throws).
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string_view>

#include "ssepush/engine/types.h"
#include "ssepush/proto/http_request.h"

namespace ssepush::engine {

class frame;
class shard;
namespace detail {
struct conn;
}

// A set of methods a route accepts.
struct method_set {
    std::uint8_t bits = 0;
    static constexpr method_set any() noexcept { return {0x7f}; }
    static constexpr method_set of(std::initializer_list<proto::method> ms) noexcept {
        method_set s;
        for (auto m : ms)
            s.bits |= std::uint8_t(1u << unsigned(m));
        return s;
    }
    [[nodiscard]] constexpr bool has(proto::method m) const noexcept {
        return bits & (1u << unsigned(m));
    }
};

// A stream on its own shard. Cheap to copy; becomes stale (alive() == false)
// once the stream closes. Use only on the shard that owns it; to reach it from
// elsewhere, keep its conn_id and `run_on()` the owning shard.
class stream_ref {
public:
    stream_ref() noexcept = default;
    [[nodiscard]] bool alive() const noexcept;
    [[nodiscard]] conn_id id() const noexcept;
    [[nodiscard]] detail::conn* get() const noexcept { return c_; }
    explicit operator bool() const noexcept { return c_ != nullptr; }

private:
    friend class shard;
    stream_ref(detail::conn* c, std::uint32_t gen) noexcept : c_(c), gen_(gen) {}
    detail::conn* c_ = nullptr;
    std::uint32_t gen_ = 0;
};

// Notifications about a stream, called on its shard. `on_close` runs once,
// outside any iteration the application might be doing (closes are deferred
// to the end of the current loop phase), so it may freely unlink the stream
// from the application's own indexes.
struct stream_hooks {
    void (*on_close)(void* user, stream_ref stream, close_reason why) noexcept = nullptr;
};

struct stream_options {
    std::uint16_t status = 200;
    std::string_view content_type = "text/event-stream";
    std::string_view extra_headers;  // "Name: value\r\n" lines, verbatim
    const stream_hooks* hooks = nullptr;
    void* user = nullptr;
    // Under slow_consumer_policy::drop_oldest, queued in place of dropped frames.
    // Default: the SSE comment ": gap\n\n". Not owned (must outlive the stream).
    frame* gap_marker = nullptr;
};

// A complete response. Views are copied before respond() returns.
struct response {
    std::uint16_t status = 200;
    std::string_view content_type;  // empty: no Content-Type
    std::string_view body;
    std::string_view extra_headers;  // "Name: value\r\n" lines, verbatim
    std::string_view reason;         // empty: the standard reason phrase
};

class exchange {
public:
    [[nodiscard]] const proto::request& request() const noexcept { return *req_; }
    [[nodiscard]] shard& owner() const noexcept { return *shard_; }
    [[nodiscard]] const peer_address& peer() const noexcept;
    [[nodiscard]] conn_id connection() const noexcept;
    [[nodiscard]] bool answered() const noexcept { return answered_; }

    // A complete response; the body is copied. `extra_headers` are raw lines.
    void respond(const response& r);
    void respond(std::uint16_t status, std::string_view content_type, std::string_view body,
                 std::string_view extra_headers = {}) {
        respond(response{status, content_type, body, extra_headers, {}});
    }
    // Turns the connection into a stream; see the file comment.
    stream_ref open_stream(const stream_options& opts);
    // Answer later with shard::respond(connection(), ...).
    void defer() noexcept;

    exchange(shard& s, detail::conn& c, const proto::request& r) noexcept
        : shard_(&s), conn_(&c), req_(&r) {}

private:
    shard* shard_;
    detail::conn* conn_;
    const proto::request* req_;
    bool answered_ = false;
};

using handler = std::function<void(exchange&)>;

}  // namespace ssepush::engine
