#pragma once
// HTTP/1.1 request parser: incremental, zero-copy, total.
//
// The caller keeps the bytes received so far for the current request in one
// contiguous buffer and calls `request_parser::parse()` each time more arrive.
// The parser remembers how far it has scanned, so a client that dribbles one
// byte at a time costs O(n) overall, not O(n^2). On `complete`, `request`
// holds views into the caller's buffer (valid as long as the buffer is) and
// `consumed` says how many bytes the request used, body included: anything
// after that is the next pipelined request.
//
// Every input gives a result: `complete`, `incomplete`, or `error` with the
// HTTP status to answer (then close the connection):
//   400 malformed syntax, bad Content-Length, obs-fold, missing Host on 1.1 or
//       more than one Host, Transfer-Encoding together with Content-Length
//   413 Content-Length above `limits.max_body_bytes` (known before the body arrives)
//   431 request line above `max_request_line`, header section above
//       `max_header_bytes`, or more than `max_headers` fields
//   501 a method we do not implement, or any Transfer-Encoding (request bodies
//       are Content-Length only)
//   505 an HTTP version other than 1.0 / 1.1
//
// When several apply, the first in this order wins: 431 (sizes) > 400 request
// line > 505 > 501 method > 400 target > 400/431 fields > 400 Host > 400/501
// Transfer-Encoding > 413. The size limits are decided from line-break
// positions alone, so the answer never depends on how the bytes were split
// across calls. Line ends are CRLF or a bare LF; one empty line before the
// request line is skipped (RFC 9112 §2.2) and counted in `consumed`.
//
// Threading: none. Allocation: none. The parser state is 8 bytes, so it can
// live in every connection.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ssepush::proto {

enum class method : std::uint8_t { get, head, post, put, del, options, patch };

[[nodiscard]] std::string_view method_name(method m) noexcept;

struct header {
    std::string_view name;   // as sent (compare case-insensitively)
    std::string_view value;  // leading/trailing spaces and tabs removed
};

struct parser_limits {
    std::uint32_t max_request_line = 8 * 1024;   // bytes of the request line, without CRLF
    std::uint32_t max_header_bytes = 16 * 1024;  // request line + fields + CRLFs, through
                                                 // the blank line (a limit of n accepts n)
    std::uint32_t max_headers = 64;              // at most k_max_headers
    std::uint64_t max_body_bytes = 1024 * 1024;
};

inline constexpr std::uint32_t k_max_headers = 64;

// A parsed request. Views point into the buffer given to parse().
struct request {
    method verb = method::get;
    std::string_view target;         // as sent: "/a/b?x=1", "http://h/a", "*"
    std::string_view path;           // target without query; absolute-form reduced to its path
                                     // ("http://h" and "http://h?q" give a static "/")
    std::string_view query;          // after '?', without it; empty if none
    std::uint8_t version_minor = 1;  // HTTP/1.<minor>, 0 or 1
    bool keep_alive = true;          // 1.1: unless "Connection: close"; 1.0: only with "keep-alive"
    bool has_content_length = false;
    std::uint64_t content_length = 0;
    std::string_view body;  // content_length bytes
    std::uint32_t header_count = 0;
    header headers[k_max_headers];

    // First field with this name (ASCII case-insensitive), or empty view.
    [[nodiscard]] std::string_view find(std::string_view name) const noexcept;
    // True if the comma-separated field `name` contains `token` (case-insensitive),
    // e.g. has_token("connection", "close").
    [[nodiscard]] bool has_token(std::string_view name, std::string_view token) const noexcept;
};

enum class parse_status : std::uint8_t { complete, incomplete, error };

struct parse_result {
    parse_status status = parse_status::incomplete;
    std::uint16_t http_status = 0;  // on error: 400, 413, 431, 501, 505
    std::string_view reason;        // on error: short static text for the response body
    // On complete: bytes of this request, body included. On incomplete after the
    // header is complete: the bytes the whole request needs (do not call again
    // before that many are there); 0 while the header is still arriving.
    std::size_t consumed = 0;
};

class request_parser {
public:
    explicit request_parser() noexcept = default;

    // Parses the request at the start of `buf` (all bytes received so far for it).
    // Call again with a longer buffer (same prefix) after `incomplete`; the buffer
    // may have moved. `out` is filled on `complete` only. Once the header is
    // complete, each call re-reads it (O(header)), the search is not repeated.
    [[nodiscard]] parse_result parse(std::string_view buf, const parser_limits& limits,
                                     request& out) noexcept;

    // Forget progress; call before parsing the next request.
    void reset() noexcept {
        scanned_ = 0;
        header_end_ = 0;
    }

private:
    std::uint32_t scanned_ = 0;  // bytes already searched for the end of the header
    // 0: request line not terminated yet; 1: request line seen and within its
    // limit; >= 2: offset just past the blank line, once found.
    std::uint32_t header_end_ = 0;
};

}  // namespace ssepush::proto
