#pragma once
// HTTP/1.1 response head writer.
//
// Writes a status line and header fields into a caller-provided std::string.
// The engine builds every response head with this, including the head of
// long-lived SSE streams. Bodies are the caller's business; `chunk_header()`
// frames one chunk of a chunked body.
//
// Threading: none. Allocation: only growth of the caller's string.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ssepush/proto/http_request.h"

namespace ssepush::proto {

// Standard reason phrase ("OK", "Not Found", ...), or "Unknown" for an unlisted code.
[[nodiscard]] std::string_view status_reason(std::uint16_t status) noexcept;

struct response_head {
    std::uint16_t status = 200;
    std::string_view reason;        // empty: status_reason(status)
    std::string_view content_type;  // empty: no Content-Type field
    // >= 0: "Content-Length: n"; -1: no Content-Length (chunked or close-delimited)
    std::int64_t content_length = 0;
    bool chunked = false;           // "Transfer-Encoding: chunked"
    bool close = false;             // "Connection: close"
    bool keep_alive_1_0 = false;    // "Connection: keep-alive" (answering an HTTP/1.0 keep-alive)
    std::string_view date;          // preformatted IMF-fixdate; empty: no Date field
    std::span<const header> extra;  // written in order (control characters as spaces)
    std::string_view extra_raw;     // pre-rendered "Name: value\r\n" lines, appended as is
};

// Appends "HTTP/1.1 <status> <reason>\r\n<fields>\r\n" to `out`. Field order:
// Date, Content-Type, Content-Length or Transfer-Encoding, Connection, extra,
// extra_raw. Control characters other than HTAB in the reason, content_type,
// date and extra names/values are written as spaces, so text that came from a
// client cannot add lines. A 1xx or 204 response gets neither Content-Length
// nor Transfer-Encoding (RFC 9110 §8.6, RFC 9112 §6.1), whatever `head` says.
void append_response_head(std::string& out, const response_head& head);

// Writes "<hex size>\r\n" into `out` (at most k_chunk_header_max bytes), returns its length.
inline constexpr std::size_t k_chunk_header_max = 18;  // 16 hex digits + CRLF
std::size_t chunk_header(std::uint64_t size, char* out) noexcept;

inline constexpr std::string_view k_last_chunk = "0\r\n\r\n";

// Formats `unix_seconds` as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into
// `out` (29 bytes, not NUL-terminated). Returns 29. Proleptic Gregorian; values
// outside 1970-01-01 .. 9999-12-31 23:59:59 are clamped to that range.
inline constexpr std::size_t k_http_date_size = 29;
std::size_t format_http_date(std::int64_t unix_seconds, char* out) noexcept;

}  // namespace ssepush::proto
