// Tests for ServiceStack-compatible JSON string escaping and the json_writer.
#include "ssepush/proto/json.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace ssepush::proto {
namespace {

using namespace std::literals;

std::string esc(std::string_view s) {
    std::string out;
    json_escape(s, out);
    return out;
}

std::string json_str(std::string_view s) {
    std::string out;
    json_string(s, out);
    return out;
}

// Parses `json` (a single JSON string literal) back into its bytes.
bool parse_string(const std::string& json, std::string& value) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::element doc;
    if (parser.parse(padded).get(doc) != simdjson::SUCCESS) return false;
    std::string_view s;
    if (doc.get(s) != simdjson::SUCCESS) return false;
    value.assign(s);
    return true;
}

bool valid_json(const std::string& json) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::element doc;
    return parser.parse(padded).get(doc) == simdjson::SUCCESS;
}

TEST(json_escape, every_control_character) {
    const char* expected[32] = {
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
        "\\b",     "\\t",     "\\n",     "\\u000B", "\\f",     "\\r",     "\\u000E", "\\u000F",
        "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
        "\\u0018", "\\u0019", "\\u001A", "\\u001B", "\\u001C", "\\u001D", "\\u001E", "\\u001F",
    };
    for (int c = 0; c < 32; ++c) {
        const std::string in(1, static_cast<char>(c));
        EXPECT_EQ(esc(in), expected[c]) << "char " << c;
        std::string back;
        ASSERT_TRUE(parse_string(json_str(in), back)) << "char " << c;
        EXPECT_EQ(back, in);
    }
}

TEST(json_escape, quote_backslash_and_slash) {
    EXPECT_EQ(esc("\""), "\\\"");
    EXPECT_EQ(esc("\\"), "\\\\");
    EXPECT_EQ(esc("/"), "/");  // ServiceStack does not escape '/'
    EXPECT_EQ(esc("a\"b\\c/d"), "a\\\"b\\\\c/d");
    EXPECT_EQ(esc("\\/Date(1719830400123)\\/"), "\\\\/Date(1719830400123)\\\\/");
    EXPECT_EQ(json_str("say \"hi\""), "\"say \\\"hi\\\"\"");
}

TEST(json_escape, printable_ascii_is_unchanged) {
    std::string all;
    for (int c = 0x20; c < 0x7f; ++c) {
        if (c != '"' && c != '\\') all.push_back(static_cast<char>(c));
    }
    EXPECT_EQ(esc(all), all);
    EXPECT_EQ(esc("<script>&='"), "<script>&='");  // no HTML escaping (EscapeHtmlChars off)
    EXPECT_EQ(esc(""), "");
    EXPECT_EQ(json_str(""), "\"\"");
}

TEST(json_escape, del_and_c1_controls_like_dotnet_char_is_control) {
    EXPECT_EQ(esc("\x7f"), "\\u007F");
    EXPECT_EQ(esc("\xc2\x80"), "\\u0080");
    EXPECT_EQ(esc("\xc2\x85"), "\\u0085");  // NEL
    EXPECT_EQ(esc("\xc2\x9f"), "\\u009F");
    EXPECT_EQ(esc("a\xc2\x9f"
                  "b"),
              "a\\u009Fb");
    EXPECT_EQ(esc("\xc2\xa0"), "\xc2\xa0");  // NBSP is not a control: raw
    EXPECT_EQ(esc("\xc2\xa9"), "\xc2\xa9");  // (c)
    for (int c = 0x80; c <= 0x9f; ++c) {
        const std::string in = "\xc2"s + static_cast<char>(c);
        std::string back;
        ASSERT_TRUE(parse_string(json_str(in), back)) << c;
        EXPECT_EQ(back, in);
    }
}

TEST(json_escape, multibyte_utf8_is_raw) {
    EXPECT_EQ(esc("caf\xc3\xa9"), "caf\xc3\xa9");
    EXPECT_EQ(esc("\xe2\x82\xac"), "\xe2\x82\xac");          // euro sign
    EXPECT_EQ(esc("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");  // emoji
    EXPECT_EQ(esc("\xe2\x80\xa8"), "\xe2\x80\xa8");          // U+2028 raw, as ServiceStack
    EXPECT_EQ(esc("\xe4\xb8\xad\xe6\x96\x87\n"), "\xe4\xb8\xad\xe6\x96\x87\\n");
    std::string back;
    ASSERT_TRUE(parse_string(json_str("h\xc3\xa9llo \xf0\x9f\x98\x80 \xe2\x82\xac"), back));
    EXPECT_EQ(back, "h\xc3\xa9llo \xf0\x9f\x98\x80 \xe2\x82\xac");
}

TEST(json_escape, invalid_utf8_is_kept_but_controls_never_raw) {
    EXPECT_EQ(esc("\xff\xfe"), "\xff\xfe");
    EXPECT_EQ(esc("\x80"), "\x80");  // lone continuation byte
    EXPECT_EQ(esc("\xc2"), "\xc2");  // truncated at the end
    EXPECT_EQ(esc("\xc2"
                  "A"),
              "\xc2"
              "A");                                 // lead byte without continuation
    EXPECT_EQ(esc("\xc2\xc2\x85"), "\xc2\\u0085");  // the second 0xC2 pairs with 0x85
    EXPECT_EQ(esc("\xc2\n"), "\xc2\\n");
    EXPECT_EQ(esc("\xe2\x0a"), "\xe2\\n");
    const std::string out = esc("\xc3\x00\x1f\xff\x7f"s);
    for (const char c : out) {
        const auto b = static_cast<unsigned char>(c);
        EXPECT_FALSE(b < 0x20 || b == 0x7f);
    }
}

TEST(json_escape, appends_to_existing_text) {
    std::string out = "prefix:";
    json_escape("a\nb", out);
    json_string("c", out);
    EXPECT_EQ(out, "prefix:a\\nb\"c\"");
}

TEST(json_escape, long_mixed_text_round_trips) {
    std::string in;
    for (int i = 0; i < 1000; ++i) {
        in += "line ";
        in += static_cast<char>(i % 32);
        in += "\"\\/\xc3\xa9";
    }
    std::string back;
    ASSERT_TRUE(parse_string(json_str(in), back));
    EXPECT_EQ(back, in);
}

// ---------------------------------------------------------------------------

TEST(json_writer, flat_object) {
    std::string out;
    json_writer w(out);
    w.begin_object()
        .member("userId", "-1")
        .member("isAuthenticated", "false")
        .member("id", 7)
        .member("private", false)
        .end_object();
    EXPECT_TRUE(w.complete());
    EXPECT_EQ(out, R"({"userId":"-1","isAuthenticated":"false","id":7,"private":false})");
}

TEST(json_writer, empty_containers) {
    std::string out;
    json_writer w(out);
    w.begin_array().begin_object().end_object().begin_array().end_array().end_array();
    EXPECT_TRUE(w.complete());
    EXPECT_EQ(out, "[{},[]]");
}

TEST(json_writer, commas_in_nested_structures) {
    std::string out;
    json_writer w(out);
    w.begin_object();
    w.key("a").begin_array().value(1).value(2).begin_object().end_object().end_array();
    w.key("b").begin_object().key("c").null().key("d").begin_array().end_array().end_object();
    w.key("e").value("x");
    w.end_object();
    EXPECT_TRUE(w.complete());
    EXPECT_EQ(out, R"({"a":[1,2,{}],"b":{"c":null,"d":[]},"e":"x"})");
    EXPECT_TRUE(valid_json(out));
}

TEST(json_writer, array_of_objects) {
    std::string out;
    json_writer w(out);
    w.begin_array();
    for (int i = 0; i < 3; ++i)
        w.begin_object().member("n", i).member("s", std::to_string(i)).end_object();
    w.end_array();
    EXPECT_TRUE(w.complete());
    EXPECT_EQ(out, R"([{"n":0,"s":"0"},{"n":1,"s":"1"},{"n":2,"s":"2"}])");
}

TEST(json_writer, scalars) {
    std::string out;
    json_writer w(out);
    w.begin_array();
    w.value(std::numeric_limits<std::int64_t>::min());
    w.value(std::numeric_limits<std::uint64_t>::max());
    w.value(-3).value(3u).value(static_cast<short>(-4)).value(static_cast<unsigned char>(5));
    w.value(true).value(false).null();
    w.value(0.5).value(1.0).value(-0.0).value(1e21).value(0.1);
    w.value(std::nan("")).value(std::numeric_limits<double>::infinity());
    w.value("s").value(std::string("t")).value("u"sv);
    w.raw(R"({"k":[1]})");
    w.end_array();
    EXPECT_TRUE(w.complete());
    EXPECT_EQ(out,
              "[-9223372036854775808,18446744073709551615,-3,3,-4,5,true,false,null,"
              "0.5,1,-0,1e+21,0.1,null,null,\"s\",\"t\",\"u\",{\"k\":[1]}]");
    EXPECT_TRUE(valid_json(out));
}

TEST(json_writer, huge_doubles_use_exponent_form) {
    // A plain 22-digit integer would overflow 64-bit JSON readers.
    std::string out;
    json_writer w(out);
    w.begin_array().value(-4.268556780410216e21).value(9007199254740992.0);
    w.value(9007199254740991.0).value(123456.0).value(1e300).end_array();
    EXPECT_EQ(out, "[-4.268556780410216e+21,9.007199254740992e+15,9007199254740991,123456,1e+300]");
    EXPECT_TRUE(valid_json(out));
}

TEST(json_writer, keys_and_strings_are_escaped) {
    std::string out;
    json_writer w(out);
    w.begin_object().member("a\"b", "line\nbreak\t/").end_object();
    EXPECT_EQ(out, R"({"a\"b":"line\nbreak\t/"})");
}

TEST(json_writer, top_level_scalar) {
    std::string out;
    json_writer w(out);
    EXPECT_FALSE(w.complete());
    w.value("arg");
    EXPECT_TRUE(w.complete());
    EXPECT_EQ(out, "\"arg\"");
}

TEST(json_writer, misuse_sets_the_error_and_stops_writing) {
    {
        std::string out;
        json_writer w(out);
        w.begin_object().value(1);  // value without key
        EXPECT_FALSE(w.ok());
        w.end_object();
        EXPECT_EQ(out, "{");
    }
    {
        std::string out;
        json_writer w(out);
        w.begin_array().key("k");  // key in an array
        EXPECT_FALSE(w.ok());
    }
    {
        std::string out;
        json_writer w(out);
        w.key("k");  // key at the top level
        EXPECT_FALSE(w.ok());
        EXPECT_EQ(out, "");
    }
    {
        std::string out;
        json_writer w(out);
        w.begin_object().key("a").key("b");  // two keys in a row
        EXPECT_FALSE(w.ok());
    }
    {
        std::string out;
        json_writer w(out);
        w.begin_object().key("a").end_object();  // key without value
        EXPECT_FALSE(w.ok());
    }
    {
        std::string out;
        json_writer w(out);
        w.begin_array().end_object();  // mismatched end
        EXPECT_FALSE(w.ok());
    }
    {
        std::string out;
        json_writer w(out);
        w.end_array();  // nothing open
        EXPECT_FALSE(w.ok());
    }
    {
        std::string out;
        json_writer w(out);
        w.value(1).value(2);  // two top-level values
        EXPECT_FALSE(w.ok());
        EXPECT_EQ(out, "1");
    }
    {
        std::string out;
        json_writer w(out);
        w.begin_array().raw("");  // empty raw is no value
        EXPECT_FALSE(w.ok());
    }
    {
        std::string out;
        json_writer w(out);
        w.begin_array();
        EXPECT_TRUE(w.ok());
        EXPECT_FALSE(w.complete());  // still open
    }
}

TEST(json_writer, depth_limit) {
    std::string out;
    json_writer w(out);
    for (std::size_t i = 0; i < json_writer::k_max_depth; ++i)
        w.begin_array();
    EXPECT_TRUE(w.ok());
    EXPECT_EQ(w.depth(), json_writer::k_max_depth);
    w.value(1);
    for (std::size_t i = 0; i < json_writer::k_max_depth; ++i)
        w.end_array();
    EXPECT_TRUE(w.complete());
    EXPECT_TRUE(valid_json(out));

    std::string deep;
    json_writer d(deep);
    for (std::size_t i = 0; i < json_writer::k_max_depth; ++i)
        d.begin_object().key("k");
    EXPECT_TRUE(d.ok());
    d.begin_object();  // one too many
    EXPECT_FALSE(d.ok());
    const std::size_t size = deep.size();
    for (int i = 0; i < 100; ++i)
        d.begin_array().value(1).end_array().end_object();
    EXPECT_EQ(deep.size(), size);  // nothing written after the error
    EXPECT_FALSE(d.complete());
}

}  // namespace
}  // namespace ssepush::proto
