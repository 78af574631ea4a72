#pragma once
// Server-Sent Events encoder (WHATWG HTML "server-sent events").
//
// Encodes one event as field lines ending in a single LF each ("id: 7\n"
// "data: x\n" "\n"), never CR: ServiceStack's C# and Java clients split on LF
// only. Field order: id, event, data, retry, blank line. There is always at
// least one data line: empty data gives "data: \n", and data ending in a line
// break gives a last, empty "data: \n" line (the break is kept). Data containing line breaks (LF,
// CRLF or CR) becomes one "data:" line per line, so a frame can never be cut short by its own
// content. Field values other than data (id, event) must not contain line breaks: they are replaced
// by spaces.
//
// Use `encoded_size()` to size a buffer, then `encode()` to fill it: the
// engine builds each frame once, directly into its final allocation.
//
// Threading: none. Allocation: none.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ssepush::proto {

struct sse_event {
    bool has_id = false;
    std::uint64_t id = 0;    // "id: <decimal>"
    std::string_view event;  // "event: <name>" when non-empty
    std::string_view data;   // one "data:" line per line
    bool has_retry = false;
    std::uint32_t retry_ms = 0;  // "retry: <ms>"
};

// Exact number of bytes encode() writes for `ev`.
[[nodiscard]] std::size_t encoded_size(const sse_event& ev) noexcept;

// Writes the event into `out` (encoded_size(ev) bytes), returns bytes written.
std::size_t encode(const sse_event& ev, char* out) noexcept;

// A comment line ": text\n\n" (keep-alive, padding). Line breaks in text become spaces.
[[nodiscard]] std::size_t comment_size(std::string_view text) noexcept;
std::size_t encode_comment(std::string_view text, char* out) noexcept;

}  // namespace ssepush::proto
