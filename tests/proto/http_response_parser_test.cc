// Tests for the client side of HTTP/1.1: response heads as nchan, pushpin and
// ssepushd send them, body framing, and chunked decoding under every split.
#include "ssepush/proto/http_response_parser.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ssepush/proto/http_response.h"
#include "ssepush/proto/sse_parser.h"

namespace ssepush::proto {
namespace {

using namespace std::literals;

static_assert(sizeof(chunked_decoder) <= 16);

response_head_result parse(std::string_view buf, http_response_head& out) {
    // Every shorter prefix must be incomplete, or bad if the whole is bad.
    const response_head_result whole = parse_response_head(buf, out);
    const http_response_head whole_head = out;
    const std::size_t stop =
        whole.status == response_head_status::complete ? whole.consumed : buf.size();
    for (std::size_t i = 0; i < stop; ++i) {
        http_response_head h;
        const auto r = parse_response_head(buf.substr(0, i), h);
        if (whole.status == response_head_status::bad && r.status == response_head_status::bad) {
            continue;
        }
        EXPECT_EQ(r.status, response_head_status::incomplete) << "prefix " << i;
    }
    out = whole_head;
    return whole;
}

response_head_status status_of(std::string_view buf) {
    http_response_head h;
    return parse(buf, h).status;
}

// ---- Heads from real servers ------------------------------------------------

TEST(response_head, nchan) {
    const std::string head =
        "HTTP/1.1 200 OK\r\n"
        "Server: nginx/1.25.3\r\n"
        "Date: Tue, 04 Jun 2024 10:00:00 GMT\r\n"
        "Content-Type: text/event-stream; charset=utf-8\r\n"
        "Connection: keep-alive\r\n"
        "Cache-Control: no-cache\r\n"
        "X-Accel-Buffering: no\r\n"
        "\r\n";
    std::string buf = head;
    buf += ": hi\n\n";
    http_response_head h;
    const auto r = parse(buf, h);
    ASSERT_EQ(r.status, response_head_status::complete);
    EXPECT_EQ(r.consumed, head.size());
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.reason, "OK");
    EXPECT_EQ(h.version_minor, 1);
    EXPECT_EQ(h.content_length, -1);
    EXPECT_FALSE(h.chunked);
    EXPECT_FALSE(h.has_transfer_encoding);
    EXPECT_FALSE(h.connection_close);
    EXPECT_EQ(h.content_type, "text/event-stream; charset=utf-8");
    EXPECT_EQ(body_framing_of(h), body_framing::until_close);
    EXPECT_EQ(
        find_response_header(std::string_view(buf).substr(0, r.consumed), "x-accel-buffering"),
        "no");
    EXPECT_EQ(find_response_header(std::string_view(buf).substr(0, r.consumed), "Set-Cookie"), "");
}

TEST(response_head, pushpin) {
    const std::string head =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream\r\n"
        "Transfer-Encoding: chunked\r\n"
        "Connection: Transfer-Encoding\r\n"
        "\r\n";
    std::string buf = head;
    buf += "5\r\n:ok\n\n\r\n";
    http_response_head h;
    const auto r = parse(buf, h);
    ASSERT_EQ(r.status, response_head_status::complete);
    EXPECT_EQ(r.consumed, head.size());
    EXPECT_TRUE(h.chunked);
    EXPECT_FALSE(h.connection_close);
    EXPECT_EQ(h.content_type, "text/event-stream");
    EXPECT_EQ(body_framing_of(h), body_framing::chunked);
}

TEST(response_head, ssepushd_head_round_trips) {
    response_head w;
    w.status = 200;
    w.content_type = "text/event-stream; charset=UTF-8";
    w.content_length = -1;
    w.chunked = true;
    w.date = "Tue, 04 Jun 2024 10:00:00 GMT";
    std::string buf;
    append_response_head(buf, w);
    const std::size_t size = buf.size();
    buf += "id: 65\n";
    http_response_head h;
    const auto r = parse(buf, h);
    ASSERT_EQ(r.status, response_head_status::complete);
    EXPECT_EQ(r.consumed, size);
    EXPECT_EQ(h.status, 200);
    EXPECT_TRUE(h.chunked);
    EXPECT_EQ(h.content_type, "text/event-stream; charset=UTF-8");
    EXPECT_EQ(body_framing_of(h), body_framing::chunked);
}

TEST(response_head, bare_lf_and_no_reason) {
    http_response_head h;
    auto r = parse("HTTP/1.1 204\nContent-Length: 0\n\n", h);
    ASSERT_EQ(r.status, response_head_status::complete);
    EXPECT_EQ(r.consumed, 32u);
    EXPECT_EQ(h.status, 204);
    EXPECT_EQ(h.reason, "");
    EXPECT_EQ(h.content_length, 0);
    EXPECT_EQ(body_framing_of(h), body_framing::none);
    r = parse("HTTP/1.1 404 \r\n\n", h);
    ASSERT_EQ(r.status, response_head_status::complete);
    EXPECT_EQ(h.status, 404);
    EXPECT_EQ(h.reason, "");
    r = parse("HTTP/1.1 500 Internal\tServer Error\xff\r\n\r\n", h);
    ASSERT_EQ(r.status, response_head_status::complete);
    EXPECT_EQ(h.reason, "Internal\tServer Error\xff");
}

TEST(response_head, reparsing_is_stable) {
    const std::string buf = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    http_response_head a;
    http_response_head b;
    const auto r1 = parse_response_head(buf, a);
    const auto r2 = parse_response_head(buf, b);
    EXPECT_EQ(r1.status, r2.status);
    EXPECT_EQ(r1.consumed, r2.consumed);
    EXPECT_EQ(a.content_length, b.content_length);
    EXPECT_EQ(a.content_length, 5);
    EXPECT_EQ(body_framing_of(a), body_framing::content_length);
}

// ---- Connection --------------------------------------------------------------

TEST(response_head, connection_close) {
    http_response_head h;
    ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", h).status,
              response_head_status::complete);
    EXPECT_TRUE(h.connection_close);
    ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\n\r\n", h).status,
              response_head_status::complete);
    EXPECT_TRUE(h.connection_close);
    ASSERT_EQ(parse("HTTP/1.0 200 OK\r\n\r\n", h).status, response_head_status::complete);
    EXPECT_EQ(h.version_minor, 0);
    EXPECT_TRUE(h.connection_close);
    ASSERT_EQ(parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n", h).status,
              response_head_status::complete);
    EXPECT_FALSE(h.connection_close);
    ASSERT_EQ(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n\r\n", h).status,
              response_head_status::complete);
    EXPECT_TRUE(h.connection_close);
    ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n", h).status,
              response_head_status::complete);
    EXPECT_FALSE(h.connection_close);
}

// ---- Framing -----------------------------------------------------------------

TEST(response_head, transfer_encoding_last_coding_decides) {
    http_response_head h;
    ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", h).status,
              response_head_status::complete);
    EXPECT_TRUE(h.chunked);
    ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", h).status,
              response_head_status::complete);
    EXPECT_FALSE(h.chunked);
    EXPECT_TRUE(h.has_transfer_encoding);
    EXPECT_EQ(body_framing_of(h), body_framing::until_close);
    ASSERT_EQ(
        parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\ntransfer-encoding: CHUNKED ,\r\n\r\n",
              h)
            .status,
        response_head_status::complete);
    EXPECT_TRUE(h.chunked);
    // Transfer-Encoding wins over Content-Length.
    ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", h)
                  .status,
              response_head_status::complete);
    EXPECT_EQ(h.content_length, 3);
    EXPECT_EQ(body_framing_of(h), body_framing::chunked);
    // HTTP/1.0 with Transfer-Encoding: faulty framing, read to close.
    ASSERT_EQ(
        parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n", h)
            .status,
        response_head_status::complete);
    EXPECT_EQ(body_framing_of(h), body_framing::until_close);
    EXPECT_TRUE(h.connection_close);
}

TEST(response_head, framing_by_status) {
    http_response_head h;
    h.content_length = 10;
    for (std::uint16_t s : {100, 101, 199, 204, 304}) {
        h.status = s;
        EXPECT_EQ(body_framing_of(h), body_framing::none) << s;
    }
    h.status = 200;
    EXPECT_EQ(body_framing_of(h), body_framing::content_length);
    h.content_length = -1;
    EXPECT_EQ(body_framing_of(h), body_framing::until_close);
    h.status = 404;
    h.has_transfer_encoding = h.chunked = true;
    EXPECT_EQ(body_framing_of(h), body_framing::chunked);
}

TEST(response_head, content_length) {
    http_response_head h;
    ASSERT_EQ(
        parse("HTTP/1.1 200 OK\r\nContent-Length: 42\r\ncontent-length: 42\r\n\r\n", h).status,
        response_head_status::complete);
    EXPECT_EQ(h.content_length, 42);
    ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n", h).status,
              response_head_status::complete);
    EXPECT_EQ(h.content_length, 9223372036854775807);
    EXPECT_EQ(status_of("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n"),
              response_head_status::bad);
    EXPECT_EQ(status_of("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
              response_head_status::bad);
    EXPECT_EQ(status_of("HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\n"),
              response_head_status::bad);
    EXPECT_EQ(status_of("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
              response_head_status::bad);
    EXPECT_EQ(status_of("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n"), response_head_status::bad);
    EXPECT_EQ(status_of("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n"),
              response_head_status::bad);
}

// ---- Bad heads ---------------------------------------------------------------

TEST(response_head, not_a_response_is_bad_at_once) {
    http_response_head h;
    EXPECT_EQ(parse_response_head("G", h).status, response_head_status::bad);
    EXPECT_EQ(parse_response_head("HTTP/2", h).status, response_head_status::bad);
    EXPECT_EQ(parse_response_head("HTTP/1", h).status, response_head_status::incomplete);
    EXPECT_EQ(parse_response_head("", h).status, response_head_status::incomplete);
}

TEST(response_head, malformed_lines_are_bad) {
    const std::string_view cases[] = {
        "GET / HTTP/1.1\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 600 Nope\r\n\r\n",
        "HTTP/1.1 099 Nope\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "HTTP/1.x 200 OK\r\n\r\n",
        "HTTP/2.0 200 OK\r\n\r\n",
        "\r\nHTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 O\rK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n  folded\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: a\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX\x01: a\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\r\n",
    };
    for (std::string_view c : cases)
        EXPECT_EQ(status_of(c), response_head_status::bad) << c;
    std::string nul = "HTTP/1.1 200 OK\r\nX: a";
    nul.push_back('\0');
    nul += "\r\n\r\n";
    EXPECT_EQ(status_of(nul), response_head_status::bad);
}

TEST(response_head, size_limit) {
    auto head_of = [](std::size_t size) {
        std::string h = "HTTP/1.1 200 OK\r\nX: ";
        const std::size_t fixed = h.size() + 4;  // + "\r\n\r\n"
        h.append(size - fixed, 'a');
        h += "\r\n\r\n";
        return h;
    };
    http_response_head h;
    std::string at_limit = head_of(k_max_response_head);
    ASSERT_EQ(at_limit.size(), k_max_response_head);
    auto r = parse_response_head(at_limit, h);
    EXPECT_EQ(r.status, response_head_status::complete);
    EXPECT_EQ(r.consumed, k_max_response_head);
    at_limit += "body";
    EXPECT_EQ(parse_response_head(at_limit, h).status, response_head_status::complete);
    const std::string over = head_of(k_max_response_head + 1);
    EXPECT_EQ(parse_response_head(over, h).status, response_head_status::bad);
    // Undecided below the limit, bad as soon as the limit is reached without an end.
    EXPECT_EQ(
        parse_response_head(std::string_view(over).substr(0, k_max_response_head - 1), h).status,
        response_head_status::incomplete);
    EXPECT_EQ(parse_response_head(std::string_view(over).substr(0, k_max_response_head), h).status,
              response_head_status::bad);
}

// ---- Chunked ---------------------------------------------------------------

struct decoded {
    std::string payload;
    chunked_status status = chunked_status::ok;
    std::size_t consumed = 0;  // over all feeds
    bool operator==(const decoded&) const = default;
};

decoded decode_pieces(const std::vector<std::string_view>& pieces) {
    decoded d;
    chunked_decoder dec;
    for (std::string_view piece : pieces) {
        const auto copy = std::make_unique<char[]>(piece.size() + 1);
        piece.copy(copy.get(), piece.size());
        const std::string_view in(copy.get(), piece.size());
        const chunked_result r = dec.feed(in, [&](std::string_view p) {
            EXPECT_FALSE(p.empty());
            EXPECT_TRUE(p.data() >= in.data() && p.data() + p.size() <= in.data() + in.size());
            d.payload.append(p);
        });
        d.status = r.status;
        d.consumed += r.consumed;
        if (r.status != chunked_status::ok) {
            EXPECT_LE(r.consumed, in.size());
            break;
        }
        EXPECT_EQ(r.consumed, in.size());
    }
    return d;
}

// Decodes `body` whole, after checking that byte-by-byte and every split into
// two or three pieces give the same.
decoded decode(std::string_view body) {
    const decoded whole = decode_pieces({body});
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < body.size(); ++i)
        bytes.push_back(body.substr(i, 1));
    EXPECT_EQ(decode_pieces(bytes), whole) << "byte by byte";
    for (std::size_t i = 0; i <= body.size(); ++i) {
        EXPECT_EQ(decode_pieces({body.substr(0, i), body.substr(i)}), whole) << "split at " << i;
        if (body.size() > 60) continue;
        for (std::size_t j = i; j <= body.size(); ++j) {
            EXPECT_EQ(decode_pieces({body.substr(0, i), body.substr(i, j - i), body.substr(j)}),
                      whole)
                << "split at " << i << ", " << j;
        }
    }
    return whole;
}

TEST(chunked_decoder, simple_body) {
    const decoded d = decode("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    EXPECT_EQ(d.payload, "hello world");
    EXPECT_EQ(d.status, chunked_status::done);
    EXPECT_EQ(d.consumed, 26u);
}

TEST(chunked_decoder, extensions_and_hex_case) {
    const decoded d = decode(
        "5;name=val\r\nhello\r\n"
        "6 ; a=\"b c\" ;x\r\n world\r\n"
        "A\r\n0123456789\r\n"
        "b\r\nabcdefghijk\r\n"
        "0000;last\r\n\r\n");
    EXPECT_EQ(d.payload, "hello world0123456789abcdefghijk");
    EXPECT_EQ(d.status, chunked_status::done);
}

TEST(chunked_decoder, bare_lf_everywhere) {
    const decoded d = decode("5\nhello\n3\r\nabc\n0\n\n");
    EXPECT_EQ(d.payload, "helloabc");
    EXPECT_EQ(d.status, chunked_status::done);
}

TEST(chunked_decoder, trailers_are_skipped) {
    const decoded d = decode("3\r\nabc\r\n0\r\nExpires: never\r\nX-Trace: 1\n\r\n");
    EXPECT_EQ(d.payload, "abc");
    EXPECT_EQ(d.status, chunked_status::done);
}

TEST(chunked_decoder, done_leaves_the_rest_and_stays_done) {
    const std::string body = "2\r\nhi\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n";
    chunked_decoder dec;
    std::string payload;
    auto r = dec.feed(body, [&](std::string_view p) { payload.append(p); });
    EXPECT_EQ(r.status, chunked_status::done);
    EXPECT_EQ(r.consumed, 12u);
    EXPECT_TRUE(dec.done());
    r = dec.feed("3\r\nabc\r\n", [&](std::string_view p) { payload.append(p); });
    EXPECT_EQ(r.status, chunked_status::done);
    EXPECT_EQ(r.consumed, 0u);
    EXPECT_EQ(payload, "hi");
    dec.reset();
    r = dec.feed("3\r\nabc\r\n", [&](std::string_view p) { payload.append(p); });
    EXPECT_EQ(r.status, chunked_status::ok);
    EXPECT_EQ(payload, "hiabc");
}

TEST(chunked_decoder, pushpin_stream_into_the_sse_parser) {
    const std::string body = "5\r\n:ok\n\n\r\n17\r\nid: 1\ndata: hello one\n\n\r\n";
    sse_parser sse;
    std::vector<std::string> log;
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
        chunked_decoder dec;
        sse.reset();
        log.clear();
        for (std::string_view part :
             {std::string_view(body).substr(0, cut), std::string_view(body).substr(cut)}) {
            const auto r = dec.feed(part, [&](std::string_view piece) {
                const auto st = sse.feed(
                    piece,
                    [&](const sse_message& m) {
                        std::string s(m.data);
                        s += '|';
                        s += m.last_event_id;
                        log.push_back(s);
                    },
                    [&](std::string_view c) { log.emplace_back(c); });
                EXPECT_EQ(st, sse_parse_status::ok);
            });
            EXPECT_EQ(r.status, chunked_status::ok);
        }
        EXPECT_EQ(log, (std::vector<std::string>{"ok", "hello one|1"})) << "cut at " << cut;
    }
}

TEST(chunked_decoder, bad_framing) {
    struct bad_case {
        std::string_view body;
        std::size_t consumed;  // where the first wrong byte is
    };
    const bad_case cases[] = {
        {"x\r\n", 0},         {"\r\n", 0},    {";ext\r\n", 0},         {"5\r\nhelloX", 8},
        {"5\r\nhello\rX", 9}, {"5\rX", 2},    {"5 x\r\n", 2},          {"5 5\r\n", 2},
        {"-5\r\n", 0},        {"0x5\r\n", 1}, {"10000000001\r\n", 10},  // 2^40 + 1
        {"0\r\n\rX", 4},
    };
    for (const bad_case& c : cases) {
        const decoded d = decode(c.body);
        EXPECT_EQ(d.status, chunked_status::bad) << c.body;
        EXPECT_EQ(d.consumed, c.consumed) << c.body;
    }
    chunked_decoder dec;
    auto ignore = [](std::string_view) {};
    EXPECT_EQ(dec.feed("zz", ignore).status, chunked_status::bad);
    EXPECT_EQ(dec.feed("5\r\n", ignore).status, chunked_status::bad);
    EXPECT_EQ(dec.feed("5\r\n", ignore).consumed, 0u);
}

TEST(chunked_decoder, size_limits) {
    chunked_decoder dec;
    auto ignore = [](std::string_view) {};
    // 2^40 itself is accepted, with any number of leading zeros.
    EXPECT_EQ(dec.feed("000000000010000000000\r\nabc", ignore).status, chunked_status::ok);
    dec.reset();
    std::string long_ext = "5;";
    long_ext.append(chunked_decoder::k_max_line, 'e');
    long_ext += "\r\n";
    EXPECT_EQ(dec.feed(long_ext, ignore).status, chunked_status::bad);
    dec.reset();
    std::string trailers = "0\r\n";
    while (trailers.size() < 2 * chunked_decoder::k_max_line)
        trailers += "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    EXPECT_EQ(dec.feed(trailers, ignore).status, chunked_status::bad);
    dec.reset();
    // Many small extensions within the limit are fine.
    std::string ok_ext = "3";
    ok_ext.append(1000, ';');
    ok_ext += "\r\nabc\r\n0\r\n\r\n";
    std::string payload;
    EXPECT_EQ(dec.feed(ok_ext, [&](std::string_view p) { payload.append(p); }).status,
              chunked_status::done);
    EXPECT_EQ(payload, "abc");
}

}  // namespace
}  // namespace ssepush::proto
