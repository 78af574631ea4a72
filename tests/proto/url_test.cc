// Tests for query-string decoding, parameter lookup and encoding.
#include "ssepush/proto/url.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace ssepush::proto {
namespace {

using namespace std::literals;

std::string decode(std::string_view in, bool plus_is_space = true) {
    std::string out;
    url_decode(in, out, plus_is_space);
    return out;
}

std::string encode(std::string_view in) {
    std::string out;
    url_encode(in, out);
    return out;
}

std::vector<std::pair<std::string, std::string>> params(std::string_view qs) {
    std::vector<std::pair<std::string, std::string>> v;
    for_each_param(qs, [&](std::string_view k, std::string_view val) { v.emplace_back(k, val); });
    return v;
}

TEST(url_decode, plain_text_is_unchanged) {
    EXPECT_EQ(decode(""), "");
    EXPECT_EQ(decode("abc-._~XYZ019"), "abc-._~XYZ019");
}

TEST(url_decode, plus) {
    EXPECT_EQ(decode("a+b"), "a b");
    EXPECT_EQ(decode("++"), "  ");
    EXPECT_EQ(decode("a+b", false), "a+b");
    EXPECT_EQ(decode("a%2Bb"), "a+b");
}

TEST(url_decode, percent_sequences) {
    EXPECT_EQ(decode("a%2Cb"), "a,b");
    EXPECT_EQ(decode("a%2cb"), "a,b");
    EXPECT_EQ(decode("%2a"), "*");
    EXPECT_EQ(decode("%2A"), "*");
    EXPECT_EQ(decode("%20"), " ");
    EXPECT_EQ(decode("%25"), "%");
    EXPECT_EQ(decode("%2525"), "%25");  // decoded once only
    EXPECT_EQ(decode("%ff%FF"), "\xff\xff");
    EXPECT_EQ(decode("%00"), "\0"sv);
    EXPECT_EQ(decode("a%00b"), "a\0b"sv);
}

TEST(url_decode, utf8) {
    EXPECT_EQ(decode("caf%C3%A9"), "caf\xc3\xa9");
    EXPECT_EQ(decode("%E2%82%AC"), "\xe2\x82\xac");  // euro sign
    EXPECT_EQ(decode("%F0%9F%98%80"), "\xf0\x9f\x98\x80");
    // Raw UTF-8 passes through untouched, and truncated sequences are not "repaired".
    EXPECT_EQ(decode("caf\xc3\xa9"), "caf\xc3\xa9");
    EXPECT_EQ(decode("%C3"), "\xc3");
}

TEST(url_decode, malformed_percent_is_literal) {
    EXPECT_EQ(decode("%"), "%");
    EXPECT_EQ(decode("a%"), "a%");
    EXPECT_EQ(decode("%4"), "%4");
    EXPECT_EQ(decode("a%4"), "a%4");
    EXPECT_EQ(decode("%zz"), "%zz");
    EXPECT_EQ(decode("%4g"), "%4g");
    EXPECT_EQ(decode("%g4"), "%g4");
    EXPECT_EQ(decode("100%"), "100%");
    EXPECT_EQ(decode("%%41"), "%A");  // the second '%' starts a valid sequence
    EXPECT_EQ(decode("%+"), "% ");
    EXPECT_EQ(decode("%4+"), "%4 ");
}

TEST(url_decode, appends) {
    std::string out = "x=";
    url_decode("a%20b", out);
    EXPECT_EQ(out, "x=a b");
}

TEST(for_each_param, splits_pairs) {
    using v = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(params(""), v{});
    EXPECT_EQ(params("a=1"), (v{{"a", "1"}}));
    EXPECT_EQ(params("a=1&b=2"), (v{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(params("a=1&&b=2&"), (v{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(params("&&&"), v{});
    EXPECT_EQ(params("flag&x="), (v{{"flag", ""}, {"x", ""}}));
    EXPECT_EQ(params("=v"), (v{{"", "v"}}));
    EXPECT_EQ(params("a=b=c"), (v{{"a", "b=c"}}));
    EXPECT_EQ(params("c%3D=1%262"), (v{{"c%3D", "1%262"}}));  // still encoded
}

TEST(find_param, finds_decoded_values) {
    std::string v;
    ASSERT_TRUE(find_param("channels=a%2Cb,c&t=1", "channels", v));
    EXPECT_EQ(v, "a,b,c");
    ASSERT_TRUE(find_param("channels=a%2Cb,c&t=1", "t", v));
    EXPECT_EQ(v, "1");
    ASSERT_TRUE(find_param("q=hello+world%21", "q", v));
    EXPECT_EQ(v, "hello world!");
    EXPECT_FALSE(find_param("channels=a", "channel", v));
    EXPECT_FALSE(find_param("", "a", v));
    EXPECT_EQ(v, "hello world!") << "untouched when absent";
}

TEST(find_param, first_match_wins) {
    std::string v;
    ASSERT_TRUE(find_param("id=1&id=2", "id", v));
    EXPECT_EQ(v, "1");
}

TEST(find_param, empty_keys_and_values) {
    std::string v = "old";
    ASSERT_TRUE(find_param("a&b=2", "a", v));
    EXPECT_EQ(v, "");
    v = "old";
    ASSERT_TRUE(find_param("a=&b=2", "a", v));
    EXPECT_EQ(v, "");
    ASSERT_TRUE(find_param("x=1&=empty", "", v));
    EXPECT_EQ(v, "empty");
    EXPECT_FALSE(find_param("x=1&&y", "", v));  // empty pairs are not keys
}

TEST(find_param, keys_are_decoded_before_matching) {
    std::string v;
    ASSERT_TRUE(find_param("ss%2Did=abc", "ss-id", v));
    EXPECT_EQ(v, "abc");
    ASSERT_TRUE(find_param("my+key=1", "my key", v));
    EXPECT_EQ(v, "1");
    ASSERT_TRUE(find_param("a%3Db=1", "a=b", v));  // '=' inside an encoded key
    EXPECT_EQ(v, "1");
    EXPECT_FALSE(find_param("channelsX=1", "channels", v));
    EXPECT_FALSE(find_param("chan=1", "channels", v));
    ASSERT_TRUE(find_param("%=1", "%", v));  // malformed escapes match literally
    EXPECT_EQ(v, "1");
}

TEST(find_param, case_insensitive_keys) {
    std::string v;
    EXPECT_FALSE(find_param("Channels=a", "channels", v));
    ASSERT_TRUE(find_param("Channels=a", "channels", v, true));
    EXPECT_EQ(v, "a");
    ASSERT_TRUE(find_param("CHANNELS=b", "channels", v, true));
    EXPECT_EQ(v, "b");
    ASSERT_TRUE(find_param("%43hannels=c", "channels", v, true));  // %43 = 'C'
    EXPECT_EQ(v, "c");
    // Only ASCII letters fold: these are different keys.
    EXPECT_FALSE(find_param("%C3%89=1", "\xc3\xa9", v, true));
}

TEST(url_encode, keeps_unreserved) {
    EXPECT_EQ(encode("AZaz09-._~"), "AZaz09-._~");
    EXPECT_EQ(encode(""), "");
}

TEST(url_encode, escapes_the_rest_in_uppercase) {
    EXPECT_EQ(encode("a b"), "a%20b");
    EXPECT_EQ(encode("a+b"), "a%2Bb");
    EXPECT_EQ(encode("a,b"), "a%2Cb");
    EXPECT_EQ(encode("&=?#/%"), "%26%3D%3F%23%2F%25");
    EXPECT_EQ(encode("caf\xc3\xa9"), "caf%C3%A9");
    EXPECT_EQ(encode("\0\xff"sv), "%00%FF");
}

TEST(url_encode, round_trips_every_byte) {
    std::string all;
    for (int c = 0; c < 256; ++c)
        all.push_back(static_cast<char>(c));
    const std::string enc = encode(all);
    for (char c : enc) {
        EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '%');
    }
    EXPECT_EQ(decode(enc), all);
    EXPECT_EQ(decode(enc, false), all);
    std::string v;
    ASSERT_TRUE(find_param("k=" + enc + "&x=1", "k", v));
    EXPECT_EQ(v, all);
}

}  // namespace
}  // namespace ssepush::proto
