// Tests for the Server-Sent Events encoder. Every encode here also checks
// that encoded_size() announced exactly the bytes written, and that nothing
// was written past them.
#include "ssepush/proto/sse.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace ssepush::proto {
namespace {

using namespace std::literals;

std::string encode_str(const sse_event& ev) {
    const std::size_t size = encoded_size(ev);
    std::string buf(size + 8, '#');  // guard bytes
    const std::size_t n = encode(ev, buf.data());
    EXPECT_EQ(n, size);
    EXPECT_EQ(buf.substr(size), "########") << "wrote past encoded_size()";
    buf.resize(n);
    EXPECT_EQ(buf.find('\r'), std::string::npos);
    return buf;
}

std::string data_only(std::string_view data) {
    sse_event ev;
    ev.data = data;
    return encode_str(ev);
}

std::string comment_str(std::string_view text) {
    const std::size_t size = comment_size(text);
    std::string buf(size + 8, '#');
    const std::size_t n = encode_comment(text, buf.data());
    EXPECT_EQ(n, size);
    EXPECT_EQ(buf.substr(size), "########");
    buf.resize(n);
    return buf;
}

TEST(sse, servicestack_frame) {
    sse_event ev;
    ev.has_id = true;
    ev.id = 7;
    ev.data = R"(cmd.onConnect {"id":"abc","channels":"home"})";
    EXPECT_EQ(encode_str(ev),
              "id: 7\ndata: cmd.onConnect {\"id\":\"abc\",\"channels\":\"home\"}\n\n");
}

TEST(sse, empty_data_is_one_empty_line) {
    EXPECT_EQ(data_only(""), "data: \n\n");
    sse_event ev;
    EXPECT_EQ(encoded_size(ev), 8u);
}

TEST(sse, data_splits_on_every_line_break) {
    EXPECT_EQ(data_only("a\nb"), "data: a\ndata: b\n\n");
    EXPECT_EQ(data_only("a\r\nb"), "data: a\ndata: b\n\n");
    EXPECT_EQ(data_only("a\rb"), "data: a\ndata: b\n\n");
    EXPECT_EQ(data_only("a\n\nb"), "data: a\ndata: \ndata: b\n\n");
    EXPECT_EQ(data_only("a\r\rb"), "data: a\ndata: \ndata: b\n\n");
    EXPECT_EQ(data_only("a\n\rb"), "data: a\ndata: \ndata: b\n\n");  // LF then CR: two breaks
    EXPECT_EQ(data_only("a\r\n\r\nb"), "data: a\ndata: \ndata: b\n\n");
}

TEST(sse, trailing_and_leading_breaks_give_empty_lines) {
    EXPECT_EQ(data_only("a\n"), "data: a\ndata: \n\n");
    EXPECT_EQ(data_only("a\r\n"), "data: a\ndata: \n\n");
    EXPECT_EQ(data_only("a\r"), "data: a\ndata: \n\n");
    EXPECT_EQ(data_only("\n"), "data: \ndata: \n\n");
    EXPECT_EQ(data_only("\r"), "data: \ndata: \n\n");
    EXPECT_EQ(data_only("\r\n"), "data: \ndata: \n\n");
    EXPECT_EQ(data_only("\na"), "data: \ndata: a\n\n");
}

TEST(sse, data_keeps_other_bytes) {
    EXPECT_EQ(data_only("caf\xc3\xa9 \t:x"), "data: caf\xc3\xa9 \t:x\n\n");
    EXPECT_EQ(data_only("a\0b"sv), "data: a\0b\n\n"sv);
    EXPECT_EQ(data_only(" lead"), "data:  lead\n\n");
}

TEST(sse, all_fields_in_order) {
    sse_event ev;
    ev.has_id = true;
    ev.id = 42;
    ev.event = "message";
    ev.data = "x";
    ev.has_retry = true;
    ev.retry_ms = 3000;
    EXPECT_EQ(encode_str(ev), "id: 42\nevent: message\ndata: x\nretry: 3000\n\n");
}

TEST(sse, ids_and_retry_at_their_extremes) {
    sse_event ev;
    ev.has_id = true;
    ev.id = 0;
    EXPECT_EQ(encode_str(ev), "id: 0\ndata: \n\n");
    ev.id = std::numeric_limits<std::uint64_t>::max();
    EXPECT_EQ(encode_str(ev), "id: 18446744073709551615\ndata: \n\n");
    for (std::uint64_t id : {9ull, 10ull, 99ull, 100ull, 999999999ull, 1000000000ull}) {
        ev.id = id;
        EXPECT_EQ(encode_str(ev), "id: " + std::to_string(id) + "\ndata: \n\n");
    }
    sse_event r;
    r.has_retry = true;
    r.retry_ms = 0;
    EXPECT_EQ(encode_str(r), "data: \nretry: 0\n\n");
    r.retry_ms = std::numeric_limits<std::uint32_t>::max();
    EXPECT_EQ(encode_str(r), "data: \nretry: 4294967295\n\n");
}

TEST(sse, event_name_line_breaks_become_spaces) {
    sse_event ev;
    ev.event = "a\nb\r\nc\rd";
    ev.data = "x";
    EXPECT_EQ(encode_str(ev), "event: a b  c d\ndata: x\n\n");
}

TEST(sse, empty_event_name_is_omitted) {
    sse_event ev;
    ev.event = "";
    ev.data = "x";
    EXPECT_EQ(encode_str(ev), "data: x\n\n");
}

TEST(sse, size_matches_on_many_shapes) {
    const std::string_view pieces[] = {"", "a", "\n", "\r", "\r\n", "json {\"k\":1}", "\n\r"};
    // Every sequence of up to four pieces, with and without optional fields.
    for (std::size_t mask = 0; mask < 7 * 7 * 7 * 7; ++mask) {
        std::string data;
        for (std::size_t m = mask, k = 0; k < 4; ++k, m /= 7)
            data += pieces[m % 7];
        sse_event ev;
        ev.data = data;
        ev.has_id = mask % 2 == 0;
        ev.id = mask;
        ev.event = mask % 3 == 0 ? data : std::string_view{};
        ev.has_retry = mask % 5 == 0;
        ev.retry_ms = static_cast<std::uint32_t>(mask * 7);
        const std::string out = encode_str(ev);
        ASSERT_TRUE(out.ends_with("\n\n") || out == "\n");
    }
}

TEST(sse, many_lines_stay_linear) {
    // 200k CRs then one LF (200001 lines): searching afresh for the next LF on every line
    // would be quadratic (minutes); this must finish in milliseconds.
    std::string data(200000, '\r');
    data.push_back('\n');
    sse_event ev;
    ev.data = data;
    const std::size_t size = encoded_size(ev);
    EXPECT_EQ(size, 200001 * 7 + 1);  // the last CR pairs with the LF
    std::string out(size, '\0');
    EXPECT_EQ(encode(ev, out.data()), size);
    EXPECT_EQ(out.substr(0, 14), "data: \ndata: \n");
}

TEST(sse, comments) {
    EXPECT_EQ(comment_str("keep-alive"), ": keep-alive\n\n");
    EXPECT_EQ(comment_str(""), ": \n\n");
    EXPECT_EQ(comment_str("a\nb\r\nc"), ": a b  c\n\n");
    EXPECT_EQ(comment_size(std::string(2048, ' ')), 2052u);
}

}  // namespace
}  // namespace ssepush::proto
