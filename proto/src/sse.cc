// Server-Sent Events encoding.
//
// Sizing and writing walk the data with the same line splitter, so the two
// cannot disagree about where lines break: encoded_size() is what encode()
// writes, for every input (the fuzz target checks it). Field order is id,
// event, data lines, retry, then the blank line that dispatches the event.
#include "ssepush/proto/sse.h"

#include <cstring>

namespace ssepush::proto {
namespace {

constexpr std::string_view k_id = "id: ";
constexpr std::string_view k_event = "event: ";
constexpr std::string_view k_data = "data: ";
constexpr std::string_view k_retry = "retry: ";

std::size_t decimal_size(std::uint64_t v) noexcept {
    std::size_t n = 1;
    while (v >= 10) {
        v /= 10;
        ++n;
    }
    return n;
}

char* put(char* out, std::string_view s) noexcept {
    if (!s.empty()) std::memcpy(out, s.data(), s.size());
    return out + s.size();
}

char* put_decimal(char* out, std::uint64_t v) noexcept {
    const std::size_t n = decimal_size(v);
    for (std::size_t i = n; i > 0; --i) {
        out[i - 1] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    return out + n;
}

// Copies a single-line field value, with CR and LF turned into spaces.
char* put_single_line(char* out, std::string_view s) noexcept {
    for (char c : s)
        *out++ = (c == '\r' || c == '\n') ? ' ' : c;
    return out;
}

// Calls fn(line) for each line of `data`, split on LF, CRLF and CR. Always at
// least one line; a trailing break gives a final empty line.
//
// The next LF and the next CR are searched with memchr (much faster than a byte
// loop on long JSON lines, the common case, which rarely contain a break) and
// remembered until passed, so each byte is searched at most once per kind:
// O(n) even for data like "\r\r\r...\n", where searching afresh for both
// on every line would be quadratic.
template <class Fn>
void for_each_line(std::string_view data, Fn&& fn) noexcept {
    const char* const p = data.data();
    const std::size_t n = data.size();
    auto find = [&](char c, std::size_t from) {
        if (from >= n) return n;
        const void* hit = std::memchr(p + from, c, n - from);
        return hit == nullptr ? n : static_cast<std::size_t>(static_cast<const char*>(hit) - p);
    };
    std::size_t pos = 0;
    std::size_t lf = find('\n', 0);
    std::size_t cr = find('\r', 0);
    for (;;) {
        if (lf < pos) lf = find('\n', pos);
        if (cr < pos) cr = find('\r', pos);
        const std::size_t brk = lf < cr ? lf : cr;
        fn(data.substr(pos, brk - pos));
        if (brk == n) return;
        pos = brk + ((p[brk] == '\r' && brk + 1 < n && p[brk + 1] == '\n') ? 2 : 1);
    }
}

}  // namespace

std::size_t encoded_size(const sse_event& ev) noexcept {
    std::size_t n = 1;  // the blank line that ends the event
    if (ev.has_id) n += k_id.size() + decimal_size(ev.id) + 1;
    if (!ev.event.empty()) n += k_event.size() + ev.event.size() + 1;
    for_each_line(ev.data, [&](std::string_view line) { n += k_data.size() + line.size() + 1; });
    if (ev.has_retry) n += k_retry.size() + decimal_size(ev.retry_ms) + 1;
    return n;
}

std::size_t encode(const sse_event& ev, char* out) noexcept {
    char* p = out;
    if (ev.has_id) {
        p = put(p, k_id);
        p = put_decimal(p, ev.id);
        *p++ = '\n';
    }
    if (!ev.event.empty()) {
        p = put(p, k_event);
        p = put_single_line(p, ev.event);
        *p++ = '\n';
    }
    for_each_line(ev.data, [&](std::string_view line) {
        p = put(p, k_data);
        p = put(p, line);
        *p++ = '\n';
    });
    if (ev.has_retry) {
        p = put(p, k_retry);
        p = put_decimal(p, ev.retry_ms);
        *p++ = '\n';
    }
    *p++ = '\n';
    return static_cast<std::size_t>(p - out);
}

std::size_t comment_size(std::string_view text) noexcept {
    return 2 + text.size() + 2;
}

std::size_t encode_comment(std::string_view text, char* out) noexcept {
    char* p = out;
    *p++ = ':';
    *p++ = ' ';
    p = put_single_line(p, text);
    *p++ = '\n';
    *p++ = '\n';
    return static_cast<std::size_t>(p - out);
}

}  // namespace ssepush::proto
