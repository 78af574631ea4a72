// Tests for the client-side Server-Sent Events parser: the WHATWG examples,
// every line-ending style, splits at every position, the limits, and the
// stream shapes ssepushd, nchan and pushpin actually send.
//
// Every stream fed here is also fed one byte at a time and split at every
// position (two and three pieces for short streams), each piece in its own
// heap copy, and must give exactly the same callbacks.
#include "ssepush/proto/sse_parser.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Counts allocations, so the tests can assert the fast path makes none.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// g++ sees free() meet memory from operator new, not knowing that this
// operator new is the one below that calls malloc (a false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}

namespace ssepush::proto {
namespace {

using namespace std::literals;

static_assert(sizeof(sse_parser) <= 48, "an idle parser must stay small");

struct outcome {
    std::vector<std::string> log;  // "event|data|id" per event, "#text" per comment
    sse_parse_status status = sse_parse_status::ok;
    std::optional<std::uint32_t> retry;
    std::string last_id;

    bool operator==(const outcome&) const = default;
};

std::string describe(const sse_message& m) {
    std::string s(m.event);
    s += '|';
    s += m.data;
    s += '|';
    s += m.last_event_id;
    return s;
}

// Feeds `pieces` in order, each from its own heap copy; stops at too_large.
outcome run(const std::vector<std::string>& pieces, std::uint32_t max = 1u << 20) {
    outcome o;
    sse_parser p(max);
    for (const std::string& piece : pieces) {
        const auto copy = std::make_unique<char[]>(piece.size() + 1);
        piece.copy(copy.get(), piece.size());
        o.status = p.feed(
            std::string_view(copy.get(), piece.size()),
            [&](const sse_message& m) { o.log.push_back(describe(m)); },
            [&](std::string_view text) {
                std::string s = "#";
                s += text;
                o.log.push_back(s);
            });
        if (o.status != sse_parse_status::ok) break;
    }
    o.retry = p.retry_ms();
    o.last_id = std::string(p.last_event_id());
    return o;
}

// The outcome of feeding `stream` whole, after checking that every other way
// of splitting it gives the same.
outcome parse(std::string_view stream, std::uint32_t max = 1u << 20) {
    const outcome whole = run({std::string(stream)}, max);
    std::vector<std::string> bytes;
    for (char c : stream)
        bytes.emplace_back(1, c);
    EXPECT_EQ(run(bytes, max), whole) << "byte by byte";
    for (std::size_t i = 0; i <= stream.size(); ++i) {
        EXPECT_EQ(run({std::string(stream.substr(0, i)), std::string(stream.substr(i))}, max),
                  whole)
            << "split at " << i;
        if (stream.size() > 40) continue;
        for (std::size_t j = i; j <= stream.size(); ++j) {
            EXPECT_EQ(run({std::string(stream.substr(0, i)), std::string(stream.substr(i, j - i)),
                           std::string(stream.substr(j))},
                          max),
                      whole)
                << "split at " << i << ", " << j;
        }
    }
    return whole;
}

std::vector<std::string> events(std::string_view stream) {
    return parse(stream).log;
}

using log_t = std::vector<std::string>;

// ---- WHATWG HTML §9.2.6 examples ------------------------------------------

TEST(sse_parser, whatwg_stock_ticker) {
    EXPECT_EQ(events("data: YHOO\ndata: +2\ndata: 10\n\n"), log_t{"|YHOO\n+2\n10|"});
}

TEST(sse_parser, whatwg_comment_ids_and_spaces) {
    const outcome o = parse(
        ": test stream\n\n"
        "data: first event\nid: 1\n\n"
        "data:second event\nid\n\n"
        "data:  third event\n\n");
    EXPECT_EQ(o.log,
              (log_t{"# test stream", "|first event|1", "|second event|", "| third event|"}));
    EXPECT_EQ(o.last_id, "");
}

TEST(sse_parser, whatwg_empty_data_and_unterminated_tail) {
    // The last "data:" has no blank line after it: never dispatched.
    EXPECT_EQ(events("data\n\ndata\ndata\n\ndata:"), (log_t{"||", "|\n|"}));
}

TEST(sse_parser, whatwg_space_after_colon_is_optional) {
    EXPECT_EQ(events("data:test\n\ndata: test\n\n"), (log_t{"|test|", "|test|"}));
}

// ---- Line endings ----------------------------------------------------------

TEST(sse_parser, every_line_ending_style) {
    const log_t want{"ping|a\nb|7", "|c|7"};
    EXPECT_EQ(events("event: ping\ndata: a\ndata: b\nid: 7\n\ndata: c\n\n"), want);
    EXPECT_EQ(events("event: ping\r\ndata: a\r\ndata: b\r\nid: 7\r\n\r\ndata: c\r\n\r\n"), want);
    EXPECT_EQ(events("event: ping\rdata: a\rdata: b\rid: 7\r\rdata: c\r\r"), want);
    EXPECT_EQ(events("event: ping\r\ndata: a\rdata: b\nid: 7\r\n\rdata: c\n\r\n"), want);
}

TEST(sse_parser, long_lines_with_every_line_ending) {
    // Lines past the inline search window (64 bytes) are found with memchr,
    // with the CR position remembered across lines: mix long and short lines,
    // with CRs only late in the stream.
    const std::string a(100, 'a');
    const std::string b(300, 'b');
    std::string stream;
    for (std::string_view br : {"\n"sv, "\n"sv, "\r\n"sv, "\r"sv, "\n"sv}) {
        stream += "data: ";
        stream += a;
        stream += br;
        stream += "id: ";
        stream += b;
        stream += br;
        stream += "data: x";
        stream += br;
        stream += br;
    }
    std::string want = "|";
    want += a;
    want += "\nx|";
    want += b;
    const outcome o = parse(stream);
    EXPECT_EQ(o.log, log_t(5, want));
}

TEST(sse_parser, cr_then_lf_across_feeds_is_one_break) {
    // If the CR and the LF counted twice, "a" would be dispatched on its own.
    const outcome o = run({"data: a\r", "\ndata: b\r", "\n\r", "\n"});
    EXPECT_EQ(o.log, log_t{"|a\nb|"});
    // A CR at the end of a feed ends its line at once: the event is not held back.
    log_t seen;
    sse_parser p;
    ASSERT_EQ(p.feed("data: x\r\r", [&](const sse_message& m) { seen.push_back(describe(m)); }),
              sse_parse_status::ok);
    EXPECT_EQ(seen, log_t{"|x|"});
    // The LF that follows is swallowed, not taken for another blank line.
    ASSERT_EQ(p.feed("\ndata: y\n\n", [&](const sse_message& m) { seen.push_back(describe(m)); }),
              sse_parse_status::ok);
    EXPECT_EQ(seen, (log_t{"|x|", "|y|"}));
}

TEST(sse_parser, cr_lf_skip_survives_empty_feeds) {
    EXPECT_EQ(run({"data: a\r", "", "", "\n\n"}).log, log_t{"|a|"});
}

TEST(sse_parser, two_crs_are_two_breaks) {
    EXPECT_EQ(events("data: a\r\rdata: b\r\r"), (log_t{"|a|", "|b|"}));
}

// ---- BOM -------------------------------------------------------------------

TEST(sse_parser, leading_bom_is_skipped) {
    EXPECT_EQ(events("\xEF\xBB\xBF"
                     "data: x\n\n"),
              log_t{"|x|"});
    EXPECT_EQ(events("\xEF\xBB\xBF:c\n"), log_t{"#c"});
}

TEST(sse_parser, only_one_bom_and_only_at_the_start) {
    // The second BOM is part of the field name "\xEF\xBB\xBF" "data": ignored.
    EXPECT_EQ(events("\xEF\xBB\xBF\xEF\xBB\xBF"
                     "data: x\n\ndata: y\n\n"),
              log_t{"|y|"});
    EXPECT_EQ(events("data: x\n\n\xEF\xBB\xBF"
                     "data: y\n\n"),
              log_t{"|x|"});
}

TEST(sse_parser, partial_bom_is_ordinary_bytes) {
    EXPECT_EQ(events("\xEF\xBB"
                     "data: x\n\ndata: y\n\n"),
              log_t{"|y|"});
    EXPECT_EQ(events("\xEF\n:z\n"), log_t{"#z"});
    EXPECT_EQ(events("\xEF\xBB\r:z\n"), log_t{"#z"});
    EXPECT_EQ(events(":\xEF\xBB\xBF\n"), log_t{"#\xEF\xBB\xBF"});  // a comment, not a BOM
}

// ---- Comments ----------------------------------------------------------------

TEST(sse_parser, comments_are_reported_in_order) {
    EXPECT_EQ(events(":ok\n\n: hi\ndata: a\n:inside\ndata: b\n\n:\n"),
              (log_t{"#ok", "# hi", "#inside", "|a\nb|", "#"}));
}

TEST(sse_parser, feed_without_comment_callback_ignores_them) {
    log_t seen;
    sse_parser p;
    ASSERT_EQ(
        p.feed(":ok\n\ndata: a\n\n", [&](const sse_message& m) { seen.push_back(describe(m)); }),
        sse_parse_status::ok);
    EXPECT_EQ(seen, log_t{"|a|"});
}

// ---- Fields ------------------------------------------------------------------

TEST(sse_parser, id_persists_across_events) {
    const outcome o = parse("id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n");
    EXPECT_EQ(o.log, (log_t{"|a|1", "|b|1", "|c|2"}));
    EXPECT_EQ(o.last_id, "2");
}

TEST(sse_parser, id_without_dispatch_still_sets_the_buffer) {
    EXPECT_EQ(events("id: 5\n\ndata: x\n\n"), log_t{"|x|5"});
    EXPECT_EQ(events("data: x\nid: 6\n\n"), log_t{"|x|6"});
}

TEST(sse_parser, empty_id_resets_and_nul_id_is_ignored) {
    std::string stream = "id: 1\ndata: a\n\nid: x";
    stream.push_back('\0');
    stream += "y\ndata: b\n\nid\ndata: c\n\nid: 3\nid:\ndata: d\n\n";
    EXPECT_EQ(parse(stream).log, (log_t{"|a|1", "|b|1", "|c|", "|d|"}));
}

TEST(sse_parser, long_ids_and_short_ids_alternate) {
    const std::string long_id(100, 'L');
    std::string stream = "id: ";
    stream += long_id;
    stream += "\ndata: a\n\ndata: b\n\nid: s\ndata: c\n\nid: ";
    stream += long_id;
    stream += "x\ndata: d\n\n";
    const outcome o = parse(stream);
    std::string a = "|a|";
    a += long_id;
    std::string b = "|b|";
    b += long_id;
    std::string d = "|d|";
    d += long_id;
    d += 'x';
    EXPECT_EQ(o.log, (log_t{a, b, "|c|s", d}));
    EXPECT_EQ(o.last_id, long_id + "x");
}

TEST(sse_parser, retry_takes_digits_only) {
    EXPECT_EQ(parse("retry: 3000\n").retry, 3000u);
    EXPECT_EQ(parse("retry: 3000\nretry: 30x0\nretry: \nretry\nretry: -1\n").retry, 3000u);
    EXPECT_EQ(parse("retry: 1 \n").retry, std::nullopt);
    EXPECT_EQ(parse("retry:0\n").retry, 0u);
    EXPECT_EQ(parse("retry: 99999999999999999999999\n").retry, 4294967295u);
    EXPECT_EQ(parse("data: x\nretry: 5\n\n").log, log_t{"|x|"});
    EXPECT_EQ(parse("data: x\n").retry, std::nullopt);
}

TEST(sse_parser, empty_data_dispatches_an_empty_message) {
    EXPECT_EQ(events("data:\n\n"), log_t{"||"});
    EXPECT_EQ(events("data\n\n"), log_t{"||"});
    EXPECT_EQ(events("data: \n\n"), log_t{"||"});
}

TEST(sse_parser, event_without_data_is_dropped_with_its_type) {
    EXPECT_EQ(events("event: x\n\ndata: y\n\n"), log_t{"|y|"});
    EXPECT_EQ(events("event: x\nid: 1\n\nevent: z\ndata: y\n\n"), log_t{"z|y|1"});
}

TEST(sse_parser, multiple_data_lines_join_with_lf) {
    EXPECT_EQ(events("data: a\ndata: b\ndata: c\n\n"), log_t{"|a\nb\nc|"});
    EXPECT_EQ(events("data: a\ndata:\n\n"), log_t{"|a\n|"});
    EXPECT_EQ(events("data:\ndata\ndata:\n\n"), log_t{"|\n\n|"});
    EXPECT_EQ(events("data: a\nevent: e\ndata: b\n\ndata: c\n\n"), (log_t{"e|a\nb|", "|c|"}));
}

TEST(sse_parser, field_parsing_details) {
    EXPECT_EQ(events("data:  two spaces\n\n"), log_t{"| two spaces|"});
    EXPECT_EQ(events("data:\ttab\n\n"), log_t{"|\ttab|"});
    EXPECT_EQ(events("data: a:b: c\n\n"), log_t{"|a:b: c|"});
    EXPECT_EQ(events("Data: x\nDATA: y\ndata : z\n data: w\n\n"), log_t{});  // names are exact
    EXPECT_EQ(events("foo: bar\nevent\ndata: x\n\n"), log_t{"|x|"});      // unknown field ignored
    EXPECT_EQ(events("event: a\nevent: b\ndata: x\n\n"), log_t{"b|x|"});  // the last one wins
    EXPECT_EQ(events("event: a\nevent:\ndata: x\n\n"), log_t{"|x|"});
    std::string nul_data = "data: a";
    nul_data.push_back('\0');
    nul_data += "b\n\n";
    std::string want = "|a";
    want.push_back('\0');
    want += "b|";
    EXPECT_EQ(events(nul_data), log_t{want});  // bytes pass through
}

TEST(sse_parser, unterminated_event_is_not_dispatched) {
    EXPECT_EQ(events("data: a\n"), log_t{});
    EXPECT_EQ(events("data: a\n\ndata: b"), log_t{"|a|"});
    EXPECT_EQ(events(""), log_t{});
}

// ---- Limits ------------------------------------------------------------------

TEST(sse_parser, a_line_of_max_bytes_is_accepted) {
    // "data: " + 10 bytes = 16.
    EXPECT_EQ(parse("data: 0123456789\n\n", 16).log, log_t{"|0123456789|"});
    EXPECT_EQ(parse("data: 0123456789\n\n", 16).status, sse_parse_status::ok);
}

TEST(sse_parser, a_longer_line_is_too_large) {
    const outcome o = parse("data: a\n\n:0123456789abcdef\ndata: b\n\n", 16);
    EXPECT_EQ(o.status, sse_parse_status::too_large);
    EXPECT_EQ(o.log, log_t{"|a|"});  // what came before, and nothing after
    // Also when its end never arrives.
    const outcome tail = parse("data: a\n\ndata: 0123456789abcdef", 16);
    EXPECT_EQ(tail.status, sse_parse_status::too_large);
    EXPECT_EQ(tail.log, log_t{"|a|"});
}

TEST(sse_parser, data_joined_above_max_is_too_large) {
    EXPECT_EQ(parse("data: 0123456\ndata: 0123456\n\n", 15).status, sse_parse_status::ok);
    const outcome o = parse("data: 0123456\ndata: 01234567\n\n", 15);
    EXPECT_EQ(o.status, sse_parse_status::too_large);
    EXPECT_EQ(o.log, log_t{});
}

TEST(sse_parser, too_large_sticks_until_reset) {
    sse_parser p(8);
    int n = 0;
    auto count = [&](const sse_message&) { ++n; };
    EXPECT_EQ(p.feed("data: 0123456789\n\n", count), sse_parse_status::too_large);
    EXPECT_TRUE(p.failed());
    EXPECT_EQ(p.feed("data: x\n\n", count), sse_parse_status::too_large);
    EXPECT_EQ(n, 0);
    p.reset();
    EXPECT_FALSE(p.failed());
    EXPECT_EQ(p.feed("data: x\n\n", count), sse_parse_status::ok);
    EXPECT_EQ(n, 1);
}

// ---- Whole = split ---------------------------------------------------------

TEST(sse_parser, byte_by_byte_equals_whole_on_a_mixed_stream) {
    // parse() checks every split of this; the log is checked here.
    const outcome o = parse(
        "\xEF\xBB\xBF:open\r\nretry: 250\r\nid: 1\revent: a\ndata: x\r\n"
        "data: y\n\r\n"
        "data: z\r\r"
        ":c\nevent: b\nid\ndata\n\n"
        "data: tail");
    EXPECT_EQ(o.log, (log_t{"#open", "a|x\ny|1", "|z|1", "#c", "b||"}));
    EXPECT_EQ(o.retry, 250u);
    EXPECT_EQ(o.last_id, "");
}

// ---- Real servers ----------------------------------------------------------

TEST(sse_parser, nchan_stream) {
    const outcome o = parse(": hi\n\nid: 1795830574:0\ndata: hello one\n\n");
    EXPECT_EQ(o.log, (log_t{"# hi", "|hello one|1795830574:0"}));
    EXPECT_EQ(o.last_id, "1795830574:0");
}

TEST(sse_parser, pushpin_stream) {
    EXPECT_EQ(events(":ok\n\nevent: message\ndata: {\"x\":1}\n\n"),
              (log_t{"#ok", "message|{\"x\":1}|"}));
}

TEST(sse_parser, ssepushd_frames) {
    const outcome o = parse(
        "id: 65\nevent: hello\ndata: cmd.onConnect {\"id\":\"x\"}\n\n"
        "id: 66\ndata: home@cmd.chat {\"message\":\"hi\"}\n\n"
        ": heartbeat\n\n");
    EXPECT_EQ(o.log, (log_t{"hello|cmd.onConnect {\"id\":\"x\"}|65",
                            "|home@cmd.chat {\"message\":\"hi\"}|66", "# heartbeat"}));
}

// ---- Cost ------------------------------------------------------------------

TEST(sse_parser, whole_events_are_views_into_the_input_without_allocation) {
    const std::string in =
        "id: 65\nevent: hello\ndata: cmd.onConnect {}\n\n:c\n\nid: 7\ndata: b\n\n";
    sse_parser p;
    int n = 0;
    bool inside = true;
    auto within = [&](std::string_view v) {
        return v.empty() || (v.data() >= in.data() && v.data() + v.size() <= in.data() + in.size());
    };
    const long before = g_allocations.load();
    const auto st = p.feed(
        in,
        [&](const sse_message& m) {
            ++n;
            inside = inside && within(m.event) && within(m.data) && within(m.last_event_id);
        },
        [&](std::string_view text) { inside = inside && within(text); });
    const long after = g_allocations.load();
    EXPECT_EQ(st, sse_parse_status::ok);
    EXPECT_EQ(n, 2);
    EXPECT_TRUE(inside);
    EXPECT_EQ(after, before);
    EXPECT_EQ(p.last_event_id(), "7");
}

TEST(sse_parser, carry_is_freed_once_the_split_event_is_dispatched) {
    sse_parser p;
    int n = 0;
    auto count = [&](const sse_message& m) {
        ++n;
        EXPECT_EQ(m.data, "a\nb");
    };
    ASSERT_EQ(p.feed("data: a\nda", count), sse_parse_status::ok);
    ASSERT_EQ(p.feed("ta: b\n\n", count), sse_parse_status::ok);
    EXPECT_EQ(n, 1);
    // Nothing is carried any more: the next whole event costs no allocation.
    const long before = g_allocations.load();
    ASSERT_EQ(p.feed("data: c\n\n", [](const sse_message&) {}), sse_parse_status::ok);
    EXPECT_EQ(g_allocations.load(), before);
}

TEST(sse_parser, move_keeps_the_state) {
    sse_parser a;
    int n = 0;
    std::string seen;
    auto rec = [&](const sse_message& m) {
        ++n;
        seen = describe(m);
    };
    std::string long_id(40, 'i');
    std::string first = "retry: 9\nid: ";
    first += long_id;
    first += "\ndata: x";
    ASSERT_EQ(a.feed(first, rec), sse_parse_status::ok);
    sse_parser b(std::move(a));
    ASSERT_EQ(b.feed("\n\n", rec), sse_parse_status::ok);
    EXPECT_EQ(n, 1);
    EXPECT_EQ(seen, "|x|" + long_id);
    EXPECT_EQ(b.retry_ms(), 9u);
    sse_parser c;
    c = std::move(b);
    EXPECT_EQ(c.last_event_id(), long_id);
    ASSERT_EQ(c.feed("data: y\n\n", rec), sse_parse_status::ok);
    EXPECT_EQ(seen, "|y|" + long_id);
}

TEST(sse_parser, reset_forgets_everything) {
    sse_parser p;
    int n = 0;
    auto count = [&](const sse_message&) { ++n; };
    ASSERT_EQ(p.feed("\xEF\xBBretry: 5\nid: 9\ndata: pending", count), sse_parse_status::ok);
    p.reset();
    EXPECT_EQ(p.retry_ms(), std::nullopt);
    EXPECT_EQ(p.last_event_id(), "");
    ASSERT_EQ(p.feed("\n\n\xEF\xBB\xBF"
                     "data: new\n\n",
                     count),
              sse_parse_status::ok);
    EXPECT_EQ(n, 0);  // a stream starting with "\n\n" then a BOM mid-stream: the BOM is not skipped
    p.reset();
    ASSERT_EQ(p.feed("\xEF\xBB\xBF"
                     "data: new\n\n",
                     count),
              sse_parse_status::ok);
    EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace ssepush::proto
