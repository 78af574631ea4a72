#pragma once
// HTTP/1.1 response parsing (client side): the response head, how its body is
// framed, and a decoder for chunked bodies.
//
// The load generator reads SSE streams with these: ssepushd's and pushpin's
// come chunked, nchan's are unframed and end when the connection closes.
//
// parse_response_head() reads a status line and header fields up to the blank
// line. It keeps no state: call it again with a longer buffer (same prefix)
// after `incomplete`; each call reads the buffer from the start, which is
// cheap for a head bounded by k_max_response_head. It decides from complete
// lines only, so the answer for a prefix never contradicts the answer for a
// longer buffer: `bad` stays `bad`, and `complete` stays `complete` with the
// same fields and the same `consumed`. Line ends are CRLF or a bare LF; any
// other control character in a line (a bare CR, NUL), obs-fold, a field name
// followed by whitespace, a malformed or conflicting Content-Length, and a
// head longer than k_max_response_head are `bad`.
//
// chunked_decoder turns a chunked body into payload pieces, zero-copy (each a
// view into the bytes given to that feed() call), whatever the split of the
// input across calls. It accepts chunk extensions (and ignores them), CRLF or
// a bare LF after the size line and after the data, and trailer fields (which
// it skips). Its state is 16 bytes.
//
// Threading: none. Allocation: none. Bad input never throws.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <type_traits>

namespace ssepush::proto {

// ---------------------------------------------------------------------------
// Response head

inline constexpr std::size_t k_max_response_head = 16 * 1024;  // status line through blank line

struct http_response_head {
    std::uint16_t status = 0;        // 100..599
    std::uint8_t version_minor = 1;  // HTTP/1.<minor>
    // The last transfer coding is "chunked" (case-insensitive), over every
    // Transfer-Encoding field line.
    bool chunked = false;
    bool has_transfer_encoding = false;  // a Transfer-Encoding field with a coding
    // "Connection: close", or HTTP/1.0 without "Connection: keep-alive", or
    // HTTP/1.0 with Transfer-Encoding (RFC 9112 §6.1: faulty framing).
    bool connection_close = false;
    std::int64_t content_length = -1;  // -1: no Content-Length
    std::string_view reason;           // may be empty
    std::string_view content_type;     // first Content-Type, trimmed; "" if none
};

enum class response_head_status : std::uint8_t { complete, incomplete, bad };

struct response_head_result {
    response_head_status status = response_head_status::incomplete;
    std::size_t consumed = 0;  // on complete: bytes of the head, blank line included
};

// Parses the response head at the start of `buf`. `out` is reset on every
// call and meaningful on `complete` only; its views point into `buf`.
[[nodiscard]] response_head_result parse_response_head(std::string_view buf,
                                                       http_response_head& out) noexcept;

// The trimmed value of the first field called `name` (ASCII case-insensitive)
// in `head` (a head that parse_response_head() called complete, e.g.
// buf.substr(0, consumed)), or an empty view.
[[nodiscard]] std::string_view find_response_header(std::string_view head,
                                                    std::string_view name) noexcept;

// How the body after the head ends (RFC 9112 §6.3).
enum class body_framing : std::uint8_t {
    content_length,  // after content_length bytes
    chunked,         // with the last chunk (use chunked_decoder)
    until_close,     // when the server closes the connection
    none,            // no body: 1xx, 204, 304
};

// Transfer-Encoding wins over Content-Length; a Transfer-Encoding whose last
// coding is not chunked, or any on HTTP/1.0, means until_close. A response to
// a HEAD request has no body whatever this says.
[[nodiscard]] body_framing body_framing_of(const http_response_head& head) noexcept;

// ---------------------------------------------------------------------------
// Chunked body

enum class chunked_status : std::uint8_t {
    ok,    // all of `in` consumed; more body to come
    done,  // the last chunk and the trailer section are complete
    bad,   // malformed; the connection cannot be trusted any more
};

struct chunked_result {
    chunked_status status = chunked_status::ok;
    // ok: in.size(). done: the bytes up to the end of the body (the rest is
    // not ours). bad: the bytes before the first one found wrong.
    std::size_t consumed = 0;
};

namespace detail {
struct chunk_sink {
    void* ctx = nullptr;
    void (*fn)(void*, std::string_view) = nullptr;
};
}  // namespace detail

class chunked_decoder {
public:
    // Chunk sizes above this are bad (no SSE chunk is anywhere near it).
    static constexpr std::uint64_t k_max_chunk_size = std::uint64_t{1} << 40;
    // Bound on a chunk-size line (extensions included) and on the trailer section.
    static constexpr std::uint32_t k_max_line = 16 * 1024;

    // Feeds the next bytes of the body; calls on_data(std::string_view) with
    // each non-empty piece of payload, in order (views into `in`). After done
    // or bad, every call returns the same status with consumed 0, until reset().
    template <class OnData>
    [[nodiscard]] chunked_result feed(std::string_view in, OnData&& on_data) {
        using fn = std::remove_reference_t<OnData>;
        detail::chunk_sink sink;
        sink.ctx = const_cast<void*>(static_cast<const void*>(std::addressof(on_data)));
        sink.fn = [](void* ctx, std::string_view piece) { (*static_cast<fn*>(ctx))(piece); };
        return feed_impl(in, sink);
    }

    [[nodiscard]] bool done() const noexcept { return state_ == state::done; }

    // Ready for a new body.
    void reset() noexcept {
        remaining_ = 0;
        line_bytes_ = 0;
        state_ = state::size_first;
    }

private:
    enum class state : std::uint8_t {
        size_first,     // the first hex digit of a chunk size
        size,           // more digits, or what ends the size
        size_ws,        // whitespace after the size: ';' or the line end follow
        ext,            // a chunk extension, up to the line end
        size_lf,        // CR seen at the end of the size line
        data,           // remaining_ payload bytes to go
        data_end,       // CRLF or LF after the payload
        data_lf,        // CR seen after the payload
        trailer_start,  // start of a trailer field line or of the final blank line
        trailer,        // inside a trailer field line
        trailer_lf,     // CR seen at the start of a line: the final LF follows
        done,
        bad,
    };

    chunked_result feed_impl(std::string_view in, const detail::chunk_sink& sink);

    std::uint64_t remaining_ = 0;   // the chunk size while reading it, then payload left
    std::uint32_t line_bytes_ = 0;  // of the current size line, or of the trailer section
    state state_ = state::size_first;
};

}  // namespace ssepush::proto
