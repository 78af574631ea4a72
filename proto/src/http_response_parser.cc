// HTTP/1.1 response head parsing and chunked body decoding (client side).
//
// The head parser walks complete lines (LF-terminated, one CR before the LF
// stripped) inside the first k_max_response_head bytes, validating each line
// as it goes and filling the result only from lines it has seen whole. A
// line without its LF is never judged, so a longer buffer can only add lines:
// that is what keeps the answer for a prefix consistent with the answer for
// the whole head.
//
// The chunked decoder is a byte-at-a-time state machine for the framing
// (short lines) and hands the payload over in bulk.
#include "ssepush/proto/http_response_parser.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "ascii.h"

namespace ssepush::proto {
namespace {

using detail::iequals;
using detail::is_ows;
using detail::trim_ows;

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) return true;
    return c != '\0' && std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Field values and reason phrases: HTAB, SP, VCHAR, obs-text.
bool is_text(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
}

bool all_text(std::string_view v) noexcept {
    return std::all_of(v.begin(), v.end(), is_text);
}

// Calls fn(element) for each non-empty, trimmed element of a comma-separated list.
template <class Fn>
void for_each_element(std::string_view list, Fn&& fn) {
    while (true) {
        const std::size_t comma = list.find(',');
        const std::string_view element = trim_ows(list.substr(0, comma));
        if (!element.empty()) fn(element);
        if (comma == std::string_view::npos) return;
        list.remove_prefix(comma + 1);
    }
}

// Digits only, at most INT64_MAX. -1 on anything else.
std::int64_t parse_length(std::string_view v) noexcept {
    if (v.empty()) return -1;
    std::int64_t n = 0;
    for (char c : v) {
        if (!is_digit(c)) return -1;
        const std::int64_t d = c - '0';
        if (n > (std::numeric_limits<std::int64_t>::max() - d) / 10) return -1;
        n = n * 10 + d;
    }
    return n;
}

// "HTTP/1.x SSS[ reason]".
bool parse_status_line(std::string_view line, http_response_head& out) noexcept {
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !is_digit(line[7]) ||
        line[8] != ' ' || line[9] < '1' || line[9] > '5' || !is_digit(line[10]) ||
        !is_digit(line[11])) {
        return false;
    }
    out.version_minor = static_cast<std::uint8_t>(line[7] - '0');
    out.status = static_cast<std::uint16_t>((line[9] - '0') * 100 + (line[10] - '0') * 10 +
                                            (line[11] - '0'));
    if (line.size() == 12) return true;  // no reason phrase, no SP: tolerated
    if (line[12] != ' ') return false;
    out.reason = line.substr(13);
    return all_text(out.reason);
}

// Splits a field line into name and trimmed value. False if malformed.
bool split_field(std::string_view line, std::string_view& name, std::string_view& value) noexcept {
    std::size_t k = 0;
    while (k < line.size() && is_tchar(line[k]))
        ++k;
    // An obs-fold (leading whitespace), an empty name, or whitespace before
    // the colon all land here.
    if (k == 0 || k == line.size() || line[k] != ':') return false;
    name = line.substr(0, k);
    const std::string_view raw = line.substr(k + 1);
    if (!all_text(raw)) return false;
    value = trim_ows(raw);
    return true;
}

// The next LF-terminated line in buf[pos, end), without its line end; false if
// there is no LF before `end`.
bool next_line(std::string_view buf, std::size_t& pos, std::size_t end,
               std::string_view& line) noexcept {
    if (pos >= end) return false;
    const void* hit = std::memchr(buf.data() + pos, '\n', end - pos);
    if (hit == nullptr) return false;
    const auto lf = static_cast<std::size_t>(static_cast<const char*>(hit) - buf.data());
    line = buf.substr(pos, lf - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = lf + 1;
    return true;
}

bool is_hex(char c, std::uint64_t& v) noexcept {
    if (c >= '0' && c <= '9') {
        v = static_cast<std::uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
        v = static_cast<std::uint64_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
        v = static_cast<std::uint64_t>(c - 'A' + 10);
    } else {
        return false;
    }
    return true;
}

}  // namespace

response_head_result parse_response_head(std::string_view buf, http_response_head& out) noexcept {
    out = http_response_head{};
    response_head_result r;
    auto bad = [&r] {
        r.status = response_head_status::bad;
        r.consumed = 0;
        return r;
    };

    // Anything that is not a response can be told from its first bytes.
    static constexpr std::string_view k_prefix = "HTTP/1.";
    const std::size_t m = std::min(buf.size(), k_prefix.size());
    if (buf.substr(0, m) != k_prefix.substr(0, m)) return bad();

    const std::size_t end = std::min(buf.size(), k_max_response_head);
    std::size_t pos = 0;
    std::string_view line;
    if (!next_line(buf, pos, end, line)) {
        return buf.size() >= k_max_response_head ? bad() : r;
    }
    if (!parse_status_line(line, out)) return bad();

    bool close = false;
    bool keep_alive = false;
    bool has_content_type = false;
    std::string_view last_coding;
    while (true) {
        if (!next_line(buf, pos, end, line)) {
            out = http_response_head{};  // only meaningful on complete
            return buf.size() >= k_max_response_head ? bad() : r;
        }
        if (line.empty()) break;
        std::string_view name;
        std::string_view value;
        if (!split_field(line, name, value)) return bad();
        switch (name.size()) {
            case 10:
                if (iequals(name, "connection")) {
                    for_each_element(value, [&](std::string_view token) {
                        if (iequals(token, "close")) close = true;
                        if (iequals(token, "keep-alive")) keep_alive = true;
                    });
                }
                break;
            case 12:
                if (iequals(name, "content-type") && !has_content_type) {
                    has_content_type = true;
                    out.content_type = value;
                }
                break;
            case 14:
                if (iequals(name, "content-length")) {
                    const std::int64_t n = parse_length(value);
                    if (n < 0) return bad();
                    if (out.content_length >= 0 && out.content_length != n) return bad();
                    out.content_length = n;
                }
                break;
            case 17:
                if (iequals(name, "transfer-encoding")) {
                    for_each_element(value, [&](std::string_view coding) { last_coding = coding; });
                }
                break;
            default:
                break;
        }
    }

    out.has_transfer_encoding = !last_coding.empty();
    out.chunked = iequals(last_coding, "chunked");
    out.connection_close =
        close || (out.version_minor == 0 && (!keep_alive || out.has_transfer_encoding));
    r.status = response_head_status::complete;
    r.consumed = pos;
    return r;
}

std::string_view find_response_header(std::string_view head, std::string_view name) noexcept {
    std::size_t pos = 0;
    std::string_view line;
    if (!next_line(head, pos, head.size(), line)) return {};  // the status line
    while (next_line(head, pos, head.size(), line) && !line.empty()) {
        std::string_view n;
        std::string_view v;
        if (split_field(line, n, v) && iequals(n, name)) return v;
    }
    return {};
}

body_framing body_framing_of(const http_response_head& head) noexcept {
    if (head.status < 200 || head.status == 204 || head.status == 304) return body_framing::none;
    if (head.has_transfer_encoding) {
        return head.chunked && head.version_minor >= 1 ? body_framing::chunked
                                                       : body_framing::until_close;
    }
    return head.content_length >= 0 ? body_framing::content_length : body_framing::until_close;
}

chunked_result chunked_decoder::feed_impl(std::string_view in, const detail::chunk_sink& sink) {
    chunked_result r;
    if (state_ == state::done || state_ == state::bad) {
        r.status = state_ == state::done ? chunked_status::done : chunked_status::bad;
        return r;
    }
    const char* const p = in.data();
    const std::size_t n = in.size();
    std::size_t pos = 0;
    auto fail = [&] {
        state_ = state::bad;
        r.status = chunked_status::bad;
        r.consumed = pos;
        return r;
    };
    // Counts one byte of a size line or of the trailer section against k_max_line.
    auto count = [this] { return ++line_bytes_ <= k_max_line; };

    while (pos < n) {
        if (state_ == state::data) {
            const std::size_t avail = n - pos;
            const std::size_t take =
                remaining_ < avail ? static_cast<std::size_t>(remaining_) : avail;
            sink.fn(sink.ctx, std::string_view(p + pos, take));
            pos += take;
            remaining_ -= take;
            if (remaining_ == 0) state_ = state::data_end;
            continue;
        }
        const char c = p[pos];
        std::uint64_t digit = 0;
        switch (state_) {
            case state::size_first:
                line_bytes_ = 0;
                if (!is_hex(c, digit)) return fail();
                remaining_ = digit;
                state_ = state::size;
                if (!count()) return fail();
                break;
            case state::size:
                if (!count()) return fail();
                if (is_hex(c, digit)) {
                    remaining_ = remaining_ * 16 + digit;  // <= 2^44: no overflow
                    if (remaining_ > k_max_chunk_size) return fail();
                } else if (is_ows(c)) {
                    state_ = state::size_ws;
                } else if (c == ';') {
                    state_ = state::ext;
                } else if (c == '\r') {
                    state_ = state::size_lf;
                } else if (c == '\n') {
                    state_ = remaining_ == 0 ? state::trailer_start : state::data;
                    line_bytes_ = 0;
                } else {
                    return fail();
                }
                break;
            case state::size_ws:
                if (!count()) return fail();
                if (c == ';') {
                    state_ = state::ext;
                } else if (c == '\r') {
                    state_ = state::size_lf;
                } else if (c == '\n') {
                    state_ = remaining_ == 0 ? state::trailer_start : state::data;
                    line_bytes_ = 0;
                } else if (!is_ows(c)) {
                    return fail();
                }
                break;
            case state::ext:
                if (!count()) return fail();
                if (c == '\r') {
                    state_ = state::size_lf;
                } else if (c == '\n') {
                    state_ = remaining_ == 0 ? state::trailer_start : state::data;
                    line_bytes_ = 0;
                }
                break;
            case state::size_lf:
                if (c != '\n') return fail();
                state_ = remaining_ == 0 ? state::trailer_start : state::data;
                line_bytes_ = 0;
                break;
            case state::data_end:
                if (c == '\r') {
                    state_ = state::data_lf;
                } else if (c == '\n') {
                    state_ = state::size_first;
                } else {
                    return fail();
                }
                break;
            case state::data_lf:
                if (c != '\n') return fail();
                state_ = state::size_first;
                break;
            case state::trailer_start:
                if (!count()) return fail();
                if (c == '\r') {
                    state_ = state::trailer_lf;
                } else if (c == '\n') {
                    state_ = state::done;
                } else {
                    state_ = state::trailer;
                }
                break;
            case state::trailer:
                if (!count()) return fail();
                if (c == '\n') state_ = state::trailer_start;
                break;
            case state::trailer_lf:
                if (c != '\n') return fail();
                state_ = state::done;
                break;
            case state::data:
            case state::done:
            case state::bad:
                break;
        }
        ++pos;
        if (state_ == state::done) {
            r.status = chunked_status::done;
            r.consumed = pos;
            return r;
        }
    }
    r.consumed = n;
    return r;
}

}  // namespace ssepush::proto
