// HTTP/1.1 request parsing.
//
// The work is split in two passes.
//
// The scan looks only for the blank line that ends the header section. It is
// the part that runs again and again while a slow client trickles bytes in, so
// it remembers where it stopped (scanned_) and looks at each byte once. It is
// also the only place that enforces the size limits (431), and it decides them
// from nothing but the positions of line feeds, so a limit is reported as soon
// as a prefix of the input proves it will be exceeded, and a longer buffer can
// never change that answer.
//
// The field parse runs once the whole header section is there: it validates
// the request line and the fields and fills `request`. It depends only on the
// complete header section, so it too cannot depend on how the bytes were split
// across reads. Together: the result for a byte stream is the same whether it
// arrives at once or a byte at a time, which the fuzz target checks.
//
// While the body is still arriving, each call parses the header again (it is
// small, and the caller may have moved its buffer, so old views cannot be
// trusted); the scan is not repeated.
#include "ssepush/proto/http_request.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "ascii.h"

namespace ssepush::proto {
namespace {

using detail::iequals;
using detail::is_ows;
using detail::trim_ows;

// Byte classes, from RFC 9110 §5.6.2 (tchar), §5.5 (field-vchar, obs-text) and
// RFC 9112 §3.2 (request-target: visible ASCII; we also let obs-text through,
// as picohttpparser does, and leave interpretation to the router).
constexpr std::uint8_t k_class_tchar = 1;
constexpr std::uint8_t k_class_value = 2;   // SP, HTAB, VCHAR, obs-text
constexpr std::uint8_t k_class_target = 4;  // VCHAR, obs-text

constexpr std::array<std::uint8_t, 256> make_classes() noexcept {
    std::array<std::uint8_t, 256> t{};
    for (int c = 0; c < 256; ++c) {
        std::uint8_t v = 0;
        const bool visible = c >= 0x21 && c <= 0x7e;
        const bool obs_text = c >= 0x80;
        if (visible || obs_text) v |= k_class_value | k_class_target;
        if (c == ' ' || c == '\t') v |= k_class_value;
        const bool alnum =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (alnum || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                         std::string_view::npos) {
            v |= k_class_tchar;
        }
        t[static_cast<std::size_t>(c)] = v;
    }
    return t;
}

constexpr std::array<std::uint8_t, 256> k_classes = make_classes();

bool is(char c, std::uint8_t cls) noexcept {
    return (k_classes[static_cast<unsigned char>(c)] & cls) != 0;
}

// Static texts for error responses. Every size limit found by the scan shares
// one text on purpose: which of two limits a prefix proves exceeded can differ
// from what the full buffer shows, the fact that one is cannot.
constexpr std::string_view k_why_header_too_large = "request header too large";
constexpr std::string_view k_why_too_many_fields = "too many header fields";
constexpr std::string_view k_why_request_line = "malformed request line";
constexpr std::string_view k_why_target = "malformed request target";
constexpr std::string_view k_why_version = "HTTP version not supported";
constexpr std::string_view k_why_method = "method not implemented";
constexpr std::string_view k_why_field = "malformed header field";
constexpr std::string_view k_why_obs_fold = "obsolete line folding";
constexpr std::string_view k_why_host = "missing or duplicate Host";
constexpr std::string_view k_why_content_length = "invalid Content-Length";
constexpr std::string_view k_why_te_and_cl = "Transfer-Encoding with Content-Length";
constexpr std::string_view k_why_te = "Transfer-Encoding not supported";
constexpr std::string_view k_why_body_too_large = "request body too large";

parse_result fail(std::uint16_t status, std::string_view why) noexcept {
    parse_result r;
    r.status = parse_status::error;
    r.http_status = status;
    r.reason = why;
    return r;
}

parse_result incomplete(std::size_t needed = 0) noexcept {
    parse_result r;
    r.consumed = needed;
    return r;
}

// RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the
// request line (some clients send CRLF after a POST body). We ignore exactly
// one, as picohttpparser does, so a stream of empty lines still ends in an
// error. Returns where the request line starts, or npos while that is unknown.
std::size_t request_start(std::string_view buf) noexcept {
    if (buf.empty()) return std::string_view::npos;
    if (buf[0] == '\n') return 1;
    if (buf[0] != '\r') return 0;
    if (buf.size() < 2) return std::string_view::npos;
    return buf[1] == '\n' ? 2 : 0;
}

bool parse_method(std::string_view m, method& out) noexcept {
    // Case-sensitive (RFC 9110 §9.1).
    static constexpr std::pair<std::string_view, method> k_methods[] = {
        {"GET", method::get},     {"HEAD", method::head},  {"POST", method::post},
        {"PUT", method::put},     {"DELETE", method::del}, {"OPTIONS", method::options},
        {"PATCH", method::patch},
    };
    for (const auto& [name, value] : k_methods) {
        if (m == name) {
            out = value;
            return true;
        }
    }
    return false;
}

// Splits an origin-form remainder ("/p?q", "?q" or "") into path and query.
void split_path(std::string_view rest, request& out) noexcept {
    static constexpr std::string_view k_root = "/";
    std::size_t q = rest.find('?');
    std::string_view path = rest.substr(0, q);
    out.path = path.empty() ? k_root : path;
    out.query = q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1);
}

bool starts_with_icase(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Fills target/path/query. False if the target is not a form we accept.
bool parse_target(std::string_view target, method verb, request& out) noexcept {
    out.target = target;
    if (target.front() == '/') {
        split_path(target, out);
        return true;
    }
    if (target == "*") {  // asterisk-form, RFC 9112 §3.2.4
        if (verb != method::options) return false;
        out.path = target;
        out.query = {};
        return true;
    }
    // absolute-form, RFC 9112 §3.2.2: the server must accept it. The authority
    // is not exposed (Host is still required on 1.1 and routing ignores it).
    std::string_view rest;
    if (starts_with_icase(target, "http://")) {
        rest = target.substr(7);
    } else if (starts_with_icase(target, "https://")) {
        rest = target.substr(8);
    } else {
        return false;
    }
    std::size_t authority_end = std::min(rest.find('/'), rest.find('?'));
    if (authority_end == 0) return false;  // empty authority
    if (authority_end == std::string_view::npos) authority_end = rest.size();
    split_path(rest.substr(authority_end), out);
    return true;
}

// Digits only, no sign, no list (RFC 9110 §8.6). False on anything else or overflow.
bool parse_content_length(std::string_view v, std::uint64_t& out) noexcept {
    if (v.empty()) return false;
    std::uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return false;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (n > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
        n = n * 10 + d;
    }
    out = n;
    return true;
}

// Reads the line starting at `pos` and ending in LF before `end`; strips the LF
// and one CR before it. False if there is no LF before `end`.
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

}  // namespace

std::string_view method_name(method m) noexcept {
    switch (m) {
        case method::get:
            return "GET";
        case method::head:
            return "HEAD";
        case method::post:
            return "POST";
        case method::put:
            return "PUT";
        case method::del:
            return "DELETE";
        case method::options:
            return "OPTIONS";
        case method::patch:
            return "PATCH";
    }
    return {};
}

std::string_view request::find(std::string_view name) const noexcept {
    const std::uint32_t n = std::min(header_count, k_max_headers);
    for (std::uint32_t i = 0; i < n; ++i) {
        if (iequals(headers[i].name, name)) return headers[i].value;
    }
    return {};
}

bool request::has_token(std::string_view name, std::string_view token) const noexcept {
    const std::uint32_t n = std::min(header_count, k_max_headers);
    for (std::uint32_t i = 0; i < n; ++i) {
        if (!iequals(headers[i].name, name)) continue;
        // Every field line with this name contributes its list (RFC 9110 §5.3).
        std::string_view list = headers[i].value;
        while (!list.empty()) {
            const std::size_t comma = list.find(',');
            if (iequals(trim_ows(list.substr(0, comma)), token)) return true;
            if (comma == std::string_view::npos) break;
            list.remove_prefix(comma + 1);
        }
    }
    return false;
}

namespace {

// Validates the complete header section `head` (request line at `start`, blank
// line at the end) and fills `out`; `buf` is the whole buffer, for the body.
parse_result parse_header(std::string_view head, std::size_t start, std::string_view buf,
                          const parser_limits& limits, request& out) noexcept {
    out.verb = method::get;
    out.target = out.path = out.query = out.body = {};
    out.version_minor = 1;
    out.keep_alive = true;
    out.has_content_length = false;
    out.content_length = 0;
    out.header_count = 0;

    // ---- Request line: method SP request-target SP HTTP-version ----------
    std::size_t pos = start;
    std::string_view line;
    if (!next_line(head, pos, head.size(), line)) return fail(400, k_why_request_line);

    std::size_t i = 0;
    while (i < line.size() && is(line[i], k_class_tchar))
        ++i;
    if (i == 0 || i == line.size() || line[i] != ' ') return fail(400, k_why_request_line);
    const std::string_view method_token = line.substr(0, i);
    std::size_t j = i + 1;
    while (j < line.size() && is(line[j], k_class_target))
        ++j;
    if (j == i + 1 || j == line.size() || line[j] != ' ') return fail(400, k_why_request_line);
    const std::string_view target = line.substr(i + 1, j - i - 1);
    const std::string_view version = line.substr(j + 1);
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !digit(version[5]) ||
        version[6] != '.' || !digit(version[7])) {
        return fail(400, k_why_request_line);
    }
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
        return fail(505, k_why_version);
    }
    out.version_minor = static_cast<std::uint8_t>(version[7] - '0');
    if (!parse_method(method_token, out.verb)) return fail(501, k_why_method);
    if (!parse_target(target, out.verb, out)) return fail(400, k_why_target);

    // ---- Header fields -----------------------------------------------------
    const std::uint32_t max_fields = std::min(limits.max_headers, k_max_headers);
    int host_count = 0;
    bool has_transfer_encoding = false;
    bool has_connection = false;
    bool blank_line = false;
    while (next_line(head, pos, head.size(), line)) {
        if (line.empty()) {
            blank_line = true;
            break;
        }
        // A line that starts with whitespace continues the previous one
        // (obs-fold, RFC 9112 §5.2); we reject it rather than unfold.
        if (is_ows(line[0])) return fail(400, k_why_obs_fold);
        std::size_t k = 0;
        while (k < line.size() && is(line[k], k_class_tchar))
            ++k;
        // The colon must follow the name at once: "Name :" is how request
        // smuggling hides a field from one parser and not another (§5.1).
        if (k == 0 || k == line.size() || line[k] != ':') return fail(400, k_why_field);
        const std::string_view raw_value = line.substr(k + 1);
        for (char c : raw_value) {
            if (!is(c, k_class_value)) return fail(400, k_why_field);
        }
        if (out.header_count == max_fields) return fail(431, k_why_too_many_fields);
        header& h = out.headers[out.header_count++];
        h.name = line.substr(0, k);
        h.value = trim_ows(raw_value);

        switch (h.name.size()) {
            case 4:
                if (iequals(h.name, "host")) ++host_count;
                break;
            case 10:
                if (iequals(h.name, "connection")) has_connection = true;
                break;
            case 14:
                if (iequals(h.name, "content-length")) {
                    std::uint64_t n = 0;
                    if (!parse_content_length(h.value, n)) return fail(400, k_why_content_length);
                    if (out.has_content_length && n != out.content_length) {
                        return fail(400, k_why_content_length);
                    }
                    out.has_content_length = true;
                    out.content_length = n;
                }
                break;
            case 17:
                if (iequals(h.name, "transfer-encoding")) has_transfer_encoding = true;
                break;
            default:
                break;
        }
    }
    // Only reachable if the buffer changed under us between calls.
    if (!blank_line) return fail(400, k_why_field);

    // RFC 9112 §3.2: 400 for a 1.1 request without Host, and for any request
    // with more than one.
    if (host_count > 1 || (out.version_minor == 1 && host_count == 0)) {
        return fail(400, k_why_host);
    }
    // RFC 9112 §6.3: both framings at once is a smuggling attempt; chunked
    // request bodies are not something any Server Events client sends.
    if (has_transfer_encoding) {
        return out.has_content_length ? fail(400, k_why_te_and_cl) : fail(501, k_why_te);
    }

    if (has_connection) {
        const bool close = out.has_token("connection", "close");
        out.keep_alive =
            !close && (out.version_minor == 1 || out.has_token("connection", "keep-alive"));
    } else {
        out.keep_alive = out.version_minor == 1;
    }

    // ---- Body ----------------------------------------------------------------
    const std::size_t header_bytes = head.size();
    if (out.content_length > limits.max_body_bytes ||
        out.content_length > std::numeric_limits<std::size_t>::max() - header_bytes) {
        return fail(413, k_why_body_too_large);
    }
    const std::size_t total = header_bytes + static_cast<std::size_t>(out.content_length);
    if (buf.size() < total) return incomplete(total);
    out.body = buf.substr(header_bytes, static_cast<std::size_t>(out.content_length));

    parse_result r;
    r.status = parse_status::complete;
    r.consumed = total;
    return r;
}

}  // namespace

parse_result request_parser::parse(std::string_view buf, const parser_limits& limits,
                                   request& out) noexcept {
    // State from a different (shorter) buffer means the caller forgot reset():
    // start over rather than read past the end.
    if (header_end_ > 1 ? header_end_ > buf.size() : scanned_ > buf.size()) reset();

    const std::size_t start = request_start(buf);
    if (start == std::string_view::npos) return incomplete();

    // ---- Scan for the end of the header section --------------------------
    //
    // header_end_ encodes the scan phase: 0 = the request line has no LF yet,
    // 1 = the request line is done and its length checked, >= 2 = offset just
    // past the blank line. scanned_ is where the next LF search starts; when
    // an LF is too close to the end of the buffer to tell whether a blank line
    // follows, scanned_ stays on it so the next call looks again (this is the
    // "back up" that catches a CRLFCRLF split across reads).
    if (header_end_ < 2) {
        const std::size_t n = buf.size();
        const std::size_t max_header = limits.max_header_bytes;
        const std::size_t max_line = limits.max_request_line;
        const char* const p = buf.data();
        // An LF at or after max_header cannot end a header section that fits,
        // so the search stops there; this also bounds the work on huge buffers.
        const std::size_t search_end = std::min(n, max_header);
        std::size_t pos = std::max<std::size_t>(scanned_, start);
        std::size_t end = 0;
        while (pos < search_end) {
            const void* hit = std::memchr(p + pos, '\n', search_end - pos);
            if (hit == nullptr) {
                pos = search_end;
                break;
            }
            const auto lf = static_cast<std::size_t>(static_cast<const char*>(hit) - p);
            if (header_end_ == 0) {
                std::size_t len = lf - start;
                if (len > 0 && p[lf - 1] == '\r') --len;
                if (len > max_line) return fail(431, k_why_header_too_large);
                header_end_ = 1;
            }
            pos = lf;  // if undecided, the next call starts on this LF
            if (lf + 1 >= n) break;
            if (p[lf + 1] == '\n') {
                end = lf + 2;
                break;
            }
            if (p[lf + 1] == '\r') {
                if (lf + 2 >= n) break;
                if (p[lf + 2] == '\n') {
                    end = lf + 3;
                    break;
                }
            }
            pos = lf + 1;
        }
        if (end == 0) {
            // Not found: the blank line ends at n + 1 or later.
            if (n >= max_header) return fail(431, k_why_header_too_large);
            if (header_end_ == 0) {
                // The request line has at least this many bytes (a CR at the
                // very end may yet turn out to be part of its CRLF).
                const std::size_t at_least = n - start - (p[n - 1] == '\r' ? 1 : 0);
                if (at_least > max_line) return fail(431, k_why_header_too_large);
            }
            scanned_ = static_cast<std::uint32_t>(pos);  // pos <= n < max_header
            return incomplete();
        }
        if (end > max_header) return fail(431, k_why_header_too_large);
        header_end_ = static_cast<std::uint32_t>(end);
        scanned_ = header_end_;
    }
    return parse_header(buf.substr(0, header_end_), start, buf, limits, out);
}

}  // namespace ssepush::proto
