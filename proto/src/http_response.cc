// HTTP/1.1 response heads, chunk headers and IMF-fixdate.
//
// Values given to append_response_head() can carry text that came from a
// client (a 404 reason names the subscription id taken from the query), so
// every control character in them is written as a space: whatever the caller
// passes, the head has exactly the lines it asked for (no response
// splitting). extra_raw is the one exception, since its purpose is to carry
// pre-rendered lines.
#include "ssepush/proto/http_response.h"

#include <charconv>

namespace ssepush::proto {
namespace {

void append_clean(std::string& out, std::string_view s) {
    const std::size_t at = out.size();
    out.append(s);
    for (std::size_t i = at; i < out.size(); ++i) {
        const auto c = static_cast<unsigned char>(out[i]);
        if ((c < 0x20 && c != '\t') || c == 0x7f) out[i] = ' ';
    }
}

void append_decimal(std::string& out, std::uint64_t v) {
    char buf[20];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    append_clean(out, name);
    out.append(": ");
    append_clean(out, value);
    out.append("\r\n");
}

// RFC 9110 §8.6 and RFC 9112 §6.1: no Content-Length or Transfer-Encoding in
// a 1xx or 204 response.
bool may_frame_body(std::uint16_t status) noexcept {
    return status >= 200 && status != 204;
}

}  // namespace

std::string_view status_reason(std::uint16_t status) noexcept {
    // Phrases from RFC 9110 §15 (413 and 422 under their RFC 9110 names).
    switch (status) {
        case 100:
            return "Continue";
        case 101:
            return "Switching Protocols";
        case 103:
            return "Early Hints";
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 202:
            return "Accepted";
        case 203:
            return "Non-Authoritative Information";
        case 204:
            return "No Content";
        case 205:
            return "Reset Content";
        case 206:
            return "Partial Content";
        case 300:
            return "Multiple Choices";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Found";
        case 303:
            return "See Other";
        case 304:
            return "Not Modified";
        case 307:
            return "Temporary Redirect";
        case 308:
            return "Permanent Redirect";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 402:
            return "Payment Required";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 406:
            return "Not Acceptable";
        case 407:
            return "Proxy Authentication Required";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 410:
            return "Gone";
        case 411:
            return "Length Required";
        case 412:
            return "Precondition Failed";
        case 413:
            return "Content Too Large";
        case 414:
            return "URI Too Long";
        case 415:
            return "Unsupported Media Type";
        case 416:
            return "Range Not Satisfiable";
        case 417:
            return "Expectation Failed";
        case 421:
            return "Misdirected Request";
        case 422:
            return "Unprocessable Content";
        case 426:
            return "Upgrade Required";
        case 428:
            return "Precondition Required";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Unknown";
    }
}

void append_response_head(std::string& out, const response_head& head) {
    out.append("HTTP/1.1 ");
    append_decimal(out, head.status);
    out.push_back(' ');
    append_clean(out, head.reason.empty() ? status_reason(head.status) : head.reason);
    out.append("\r\n");
    if (!head.date.empty()) append_field(out, "Date", head.date);
    if (!head.content_type.empty()) append_field(out, "Content-Type", head.content_type);
    if (may_frame_body(head.status)) {
        if (head.chunked) {
            out.append("Transfer-Encoding: chunked\r\n");
        } else if (head.content_length >= 0) {
            out.append("Content-Length: ");
            append_decimal(out, static_cast<std::uint64_t>(head.content_length));
            out.append("\r\n");
        }
    }
    if (head.close) {
        out.append("Connection: close\r\n");
    } else if (head.keep_alive_1_0) {
        out.append("Connection: keep-alive\r\n");
    }
    for (const header& h : head.extra)
        append_field(out, h.name, h.value);
    out.append(head.extra_raw);
    out.append("\r\n");
}

std::size_t chunk_header(std::uint64_t size, char* out) noexcept {
    static constexpr char k_hex[] = "0123456789abcdef";
    std::size_t digits = 1;
    for (std::uint64_t v = size >> 4; v != 0; v >>= 4)
        ++digits;
    for (std::size_t i = digits; i > 0; --i) {
        out[i - 1] = k_hex[size & 15];
        size >>= 4;
    }
    out[digits] = '\r';
    out[digits + 1] = '\n';
    return digits + 2;
}

std::size_t format_http_date(std::int64_t unix_seconds, char* out) noexcept {
    // IMF-fixdate only has four year digits: clamp to 1970-01-01 .. 9999-12-31.
    constexpr std::int64_t k_max = 253402300799;
    if (unix_seconds < 0) unix_seconds = 0;
    if (unix_seconds > k_max) unix_seconds = k_max;

    const std::int64_t days = unix_seconds / 86400;
    const std::int64_t secs = unix_seconds % 86400;

    // Break the day count down in the Gregorian cycles, counted from
    // 0001-01-01 (a Monday, day 0): 400 years are 146097 days, a century
    // 36524 (its last year is not leap, except in the fourth), four years
    // 1461 and a year 365. The last century of a 400-year cycle and the last
    // year of a four-year cycle are one day longer, hence the clamps to 3.
    constexpr std::int64_t k_days_to_1970 = 719162;
    std::int64_t d = days + k_days_to_1970;
    const std::int64_t n400 = d / 146097;
    d %= 146097;
    std::int64_t n100 = d / 36524;
    if (n100 > 3) n100 = 3;
    d -= n100 * 36524;
    const std::int64_t n4 = d / 1461;
    d %= 1461;
    std::int64_t n1 = d / 365;
    if (n1 > 3) n1 = 3;
    d -= n1 * 365;
    const std::int64_t year = 1 + 400 * n400 + 100 * n100 + 4 * n4 + n1;
    const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);

    static constexpr int k_month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int month = 0;
    for (; month < 11; ++month) {
        const int len = k_month_days[month] + (month == 1 && leap ? 1 : 0);
        if (d < len) break;
        d -= len;
    }
    const auto mday = static_cast<int>(d) + 1;

    // 1970-01-01 was a Thursday.
    static constexpr char k_wdays[] = "SunMonTueWedThuFriSat";
    static constexpr char k_months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const auto wday = static_cast<int>((days + 4) % 7);

    auto two = [](char* p, int v) {
        p[0] = static_cast<char>('0' + v / 10);
        p[1] = static_cast<char>('0' + v % 10);
    };
    char* p = out;
    p[0] = k_wdays[wday * 3];
    p[1] = k_wdays[wday * 3 + 1];
    p[2] = k_wdays[wday * 3 + 2];
    p[3] = ',';
    p[4] = ' ';
    two(p + 5, mday);
    p[7] = ' ';
    p[8] = k_months[month * 3];
    p[9] = k_months[month * 3 + 1];
    p[10] = k_months[month * 3 + 2];
    p[11] = ' ';
    const auto y = static_cast<int>(year);
    two(p + 12, y / 100);
    two(p + 14, y % 100);
    p[16] = ' ';
    const auto s = static_cast<int>(secs);
    two(p + 17, s / 3600);
    p[19] = ':';
    two(p + 20, s / 60 % 60);
    p[22] = ':';
    two(p + 23, s % 60);
    p[25] = ' ';
    p[26] = 'G';
    p[27] = 'M';
    p[28] = 'T';
    return 29;
}

}  // namespace ssepush::proto
