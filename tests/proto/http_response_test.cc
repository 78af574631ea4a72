// Tests for response heads, reason phrases, chunk headers and HTTP dates.
#include "ssepush/proto/http_response.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

namespace ssepush::proto {
namespace {

std::string head_str(const response_head& h) {
    std::string out;
    append_response_head(out, h);
    return out;
}

std::string date_str(std::int64_t t) {
    char buf[k_http_date_size + 1];
    buf[k_http_date_size] = '#';
    EXPECT_EQ(format_http_date(t, buf), k_http_date_size);
    EXPECT_EQ(buf[k_http_date_size], '#') << "wrote past 29 bytes";
    return std::string(buf, k_http_date_size);
}

std::string chunk_str(std::uint64_t n) {
    char buf[k_chunk_header_max + 1];
    buf[k_chunk_header_max] = '#';
    const std::size_t len = chunk_header(n, buf);
    EXPECT_LE(len, k_chunk_header_max);
    EXPECT_EQ(buf[k_chunk_header_max], '#');
    return std::string(buf, len);
}

TEST(status_reason, known_codes) {
    const std::pair<std::uint16_t, std::string_view> cases[] = {
        {100, "Continue"},
        {101, "Switching Protocols"},
        {200, "OK"},
        {201, "Created"},
        {202, "Accepted"},
        {204, "No Content"},
        {206, "Partial Content"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {304, "Not Modified"},
        {307, "Temporary Redirect"},
        {308, "Permanent Redirect"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {410, "Gone"},
        {411, "Length Required"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {415, "Unsupported Media Type"},
        {416, "Range Not Satisfiable"},
        {426, "Upgrade Required"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
    };
    for (const auto& [code, reason] : cases)
        EXPECT_EQ(status_reason(code), reason) << code;
}

TEST(status_reason, unknown_codes) {
    EXPECT_EQ(status_reason(0), "Unknown");
    EXPECT_EQ(status_reason(299), "Unknown");
    EXPECT_EQ(status_reason(999), "Unknown");
    EXPECT_EQ(status_reason(65535), "Unknown");
}

TEST(response_head, defaults) {
    EXPECT_EQ(head_str({}), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST(response_head, event_stream_head) {
    const header extra[] = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};
    response_head h;
    h.content_type = "text/event-stream";
    h.content_length = -1;
    h.chunked = true;
    h.date = "Sun, 06 Nov 1994 08:49:37 GMT";
    h.extra = extra;
    h.extra_raw = "Vary: Accept\r\n";
    EXPECT_EQ(head_str(h),
              "HTTP/1.1 200 OK\r\n"
              "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
              "Content-Type: text/event-stream\r\n"
              "Transfer-Encoding: chunked\r\n"
              "Cache-Control: no-cache\r\n"
              "X-Accel-Buffering: no\r\n"
              "Vary: Accept\r\n"
              "\r\n");
}

TEST(response_head, field_order_with_everything) {
    const header extra[] = {{"A", "1"}};
    response_head h;
    h.status = 404;
    h.reason = "Subscription 'x' does not exist";
    h.content_type = "application/json";
    h.content_length = 12345;
    h.close = true;
    h.date = "D";
    h.extra = extra;
    h.extra_raw = "B: 2\r\n";
    EXPECT_EQ(head_str(h),
              "HTTP/1.1 404 Subscription 'x' does not exist\r\n"
              "Date: D\r\nContent-Type: application/json\r\nContent-Length: 12345\r\n"
              "Connection: close\r\nA: 1\r\nB: 2\r\n\r\n");
}

TEST(response_head, chunked_wins_over_length_and_minus_one_omits_it) {
    response_head h;
    h.chunked = true;
    h.content_length = 10;
    EXPECT_EQ(head_str(h), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    h.chunked = false;
    h.content_length = -1;
    h.close = true;
    EXPECT_EQ(head_str(h), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
}

TEST(response_head, connection_fields) {
    response_head h;
    h.keep_alive_1_0 = true;
    EXPECT_EQ(head_str(h),
              "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");
    h.close = true;  // close wins
    EXPECT_EQ(head_str(h), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST(response_head, no_body_framing_for_1xx_and_204) {
    response_head h;
    h.status = 204;
    EXPECT_EQ(head_str(h), "HTTP/1.1 204 No Content\r\n\r\n");
    h.chunked = true;
    EXPECT_EQ(head_str(h), "HTTP/1.1 204 No Content\r\n\r\n");
    const header up[] = {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}};
    response_head s;
    s.status = 101;
    s.extra = up;
    EXPECT_EQ(
        head_str(s),
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    response_head n;
    n.status = 304;
    EXPECT_EQ(head_str(n), "HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\n\r\n");
}

TEST(response_head, control_characters_cannot_split_the_response) {
    const header extra[] = {{"X-\r\nEvil", "a\r\nSet-Cookie: x=1"}};
    response_head h;
    h.status = 404;
    h.reason = "Subscription 'a\r\n\r\n<script>' does not exist";
    h.content_type = "text/plain\r\nX: y";
    h.extra = extra;
    EXPECT_EQ(head_str(h),
              "HTTP/1.1 404 Subscription 'a    <script>' does not exist\r\n"
              "Content-Type: text/plain  X: y\r\nContent-Length: 0\r\n"
              "X-  Evil: a  Set-Cookie: x=1\r\n\r\n");
    const header tab[] = {{"X", "a\tb\x01\x7f"}};
    response_head t;
    t.extra = tab;
    EXPECT_EQ(head_str(t), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: a\tb  \r\n\r\n");
}

TEST(response_head, appends_to_existing_text) {
    std::string out = "previous";
    response_head h;
    h.status = 503;
    h.content_length = 0;
    append_response_head(out, h);
    EXPECT_EQ(out, "previousHTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
}

TEST(response_head, unknown_status) {
    response_head h;
    h.status = 599;
    EXPECT_EQ(head_str(h), "HTTP/1.1 599 Unknown\r\nContent-Length: 0\r\n\r\n");
}

TEST(chunk_header, lowercase_hex_without_leading_zeros) {
    EXPECT_EQ(chunk_str(0), "0\r\n");
    EXPECT_EQ(chunk_str(1), "1\r\n");
    EXPECT_EQ(chunk_str(9), "9\r\n");
    EXPECT_EQ(chunk_str(10), "a\r\n");
    EXPECT_EQ(chunk_str(15), "f\r\n");
    EXPECT_EQ(chunk_str(16), "10\r\n");
    EXPECT_EQ(chunk_str(255), "ff\r\n");
    EXPECT_EQ(chunk_str(256), "100\r\n");
    EXPECT_EQ(chunk_str(0xabcdef), "abcdef\r\n");
    EXPECT_EQ(chunk_str(0x1000000000000000ull), "1000000000000000\r\n");
    EXPECT_EQ(chunk_str(~0ull), "ffffffffffffffff\r\n");
    EXPECT_EQ(k_last_chunk, "0\r\n\r\n");
}

TEST(http_date, known_dates) {
    EXPECT_EQ(date_str(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(date_str(86399), "Thu, 01 Jan 1970 23:59:59 GMT");
    EXPECT_EQ(date_str(86400), "Fri, 02 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(date_str(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110's example
    EXPECT_EQ(date_str(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");  // 400-year leap
    EXPECT_EQ(date_str(951868800), "Wed, 01 Mar 2000 00:00:00 GMT");
    EXPECT_EQ(date_str(978220800), "Sun, 31 Dec 2000 00:00:00 GMT");  // day 366
    EXPECT_EQ(date_str(978307200), "Mon, 01 Jan 2001 00:00:00 GMT");
    EXPECT_EQ(date_str(1709164800), "Thu, 29 Feb 2024 00:00:00 GMT");
    EXPECT_EQ(date_str(1709251199), "Thu, 29 Feb 2024 23:59:59 GMT");
    EXPECT_EQ(date_str(1709251200), "Fri, 01 Mar 2024 00:00:00 GMT");
    EXPECT_EQ(date_str(1735689599), "Tue, 31 Dec 2024 23:59:59 GMT");
    EXPECT_EQ(date_str(1677542400), "Tue, 28 Feb 2023 00:00:00 GMT");
    EXPECT_EQ(date_str(1677628800), "Wed, 01 Mar 2023 00:00:00 GMT");  // no 29 Feb in 2023
    EXPECT_EQ(date_str(2147483647), "Tue, 19 Jan 2038 03:14:07 GMT");
    EXPECT_EQ(date_str(4107542400), "Mon, 01 Mar 2100 00:00:00 GMT");  // 2100 is not leap
    EXPECT_EQ(date_str(4107456000), "Sun, 28 Feb 2100 00:00:00 GMT");
    EXPECT_EQ(date_str(253402300799), "Fri, 31 Dec 9999 23:59:59 GMT");
}

TEST(http_date, out_of_range_is_clamped) {
    EXPECT_EQ(date_str(-1), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(date_str(INT64_MIN), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(date_str(253402300800), "Fri, 31 Dec 9999 23:59:59 GMT");
    EXPECT_EQ(date_str(INT64_MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
}

// Independent reference: walk day by day from 1970 with the textbook leap rule
// and check the formatter on the first second and last second of every day
// across several 400-year-cycle landmarks.
TEST(http_date, matches_a_day_by_day_walk) {
    static constexpr const char* k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    static constexpr const char* k_wdays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    auto leap = [](int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
    auto month_len = [&](int y, int m) {
        static constexpr int k_len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        return k_len[m] + (m == 1 && leap(y) ? 1 : 0);
    };
    int y = 1970;
    int m = 0;
    int d = 1;
    for (std::int64_t day = 0; day < 2932897; ++day) {  // through 9999-12-31
        const bool check = y <= 2110 || (y >= 2390 && y <= 2410) || y >= 9990 || day % 997 == 0;
        if (check) {
            char want[40];
            std::snprintf(want, sizeof want, "%s, %02d %s %04d 00:00:00 GMT", k_wdays[day % 7], d,
                          k_months[m], y);
            ASSERT_EQ(date_str(day * 86400), want);
            std::snprintf(want, sizeof want, "%s, %02d %s %04d 23:59:59 GMT", k_wdays[day % 7], d,
                          k_months[m], y);
            ASSERT_EQ(date_str(day * 86400 + 86399), want);
        }
        if (++d > month_len(y, m)) {
            d = 1;
            if (++m == 12) {
                m = 0;
                ++y;
            }
        }
    }
    EXPECT_EQ(y, 10000);
}

}  // namespace
}  // namespace ssepush::proto
