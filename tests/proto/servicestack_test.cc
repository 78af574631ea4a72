// Tests for ServiceStack message formats: selectors, channels, data lines,
// subscription ids and the default profile URL.
#include "ssepush/proto/servicestack.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "ssepush/proto/json.h"
#include "ssepush/proto/url.h"

namespace ssepush::proto {
namespace {

using namespace std::literals;

TEST(valid_selector, accepts_what_clients_understand) {
    EXPECT_TRUE(valid_selector("cmd.onConnect"));
    EXPECT_TRUE(valid_selector("cmd.chat"));
    EXPECT_TRUE(valid_selector("cmd.toggle$#channels"));
    EXPECT_TRUE(valid_selector("css.background-image$#top"));
    EXPECT_TRUE(valid_selector("trigger.customEvent"));
    EXPECT_TRUE(valid_selector("test.fooMethod"));
    EXPECT_TRUE(valid_selector("a.b.c"));  // the target may contain dots
    EXPECT_TRUE(valid_selector("x."));     // empty target
    EXPECT_TRUE(valid_selector("css.color$div%20p"));
    EXPECT_TRUE(valid_selector("cmd.caf\xc3\xa9"));
}

TEST(valid_selector, rejects) {
    EXPECT_FALSE(valid_selector(""));
    EXPECT_FALSE(valid_selector("cmd"));      // no '.'
    EXPECT_FALSE(valid_selector(".onJoin"));  // empty op
    EXPECT_FALSE(valid_selector("."));
    EXPECT_FALSE(valid_selector("home@cmd.chat"));
    EXPECT_FALSE(valid_selector("cmd.chat@home"));
    EXPECT_FALSE(valid_selector("cmd.a b"));
    EXPECT_FALSE(valid_selector("cmd.a\tb"));
    EXPECT_FALSE(valid_selector("cmd.a\nb"));
    EXPECT_FALSE(valid_selector("cmd.a\rb"));
    EXPECT_FALSE(valid_selector("cmd.a\x7f"));
    EXPECT_FALSE(valid_selector("cmd.a\0"sv));
    EXPECT_FALSE(valid_selector(" cmd.a"));
}

TEST(check_channel, results) {
    EXPECT_EQ(check_channel("home", 64), channel_check::ok);
    EXPECT_EQ(check_channel("", 64), channel_check::ok);  // ServiceStack keeps ""
    EXPECT_EQ(check_channel("*", 64), channel_check::ok);
    EXPECT_EQ(check_channel("room 2", 64), channel_check::ok);
    EXPECT_EQ(check_channel("caf\xc3\xa9", 64), channel_check::ok);
    EXPECT_EQ(check_channel("a.b$c/d", 64), channel_check::ok);
    EXPECT_EQ(check_channel("abcd", 4), channel_check::ok);
    EXPECT_EQ(check_channel("abcde", 4), channel_check::too_long);
    EXPECT_EQ(check_channel("a@b", 64), channel_check::has_at);
    EXPECT_EQ(check_channel("a,b", 64), channel_check::has_comma);
    EXPECT_EQ(check_channel("a\nb", 64), channel_check::has_control);
    EXPECT_EQ(check_channel("a\0"sv, 64), channel_check::has_control);
    EXPECT_EQ(check_channel("\x7f", 64), channel_check::has_control);
    // Length first, then the first offending byte from the left.
    EXPECT_EQ(check_channel("@,\n@", 3), channel_check::too_long);
    EXPECT_EQ(check_channel("@,", 64), channel_check::has_at);
    EXPECT_EQ(check_channel(",@", 64), channel_check::has_comma);
    EXPECT_EQ(check_channel("\t@", 64), channel_check::has_control);
}

std::string line_of(const data_line& l) {
    std::string out(data_line_size(l), '?');
    EXPECT_EQ(write_data_line(l, out.data()), out.size());
    return out;
}

TEST(data_line, formats) {
    std::string out;
    append_data_line(out, "cmd.onConnect", R"({"id":"x"})");
    EXPECT_EQ(out, R"(cmd.onConnect {"id":"x"})");

    out.clear();
    append_channel_data_line(out, "home", "cmd.onJoin", R"({"userId":"-1"})");
    EXPECT_EQ(out, R"(home@cmd.onJoin {"userId":"-1"})");

    // A null message: the space stays.
    out.clear();
    append_data_line(out, "cmd.toggle$#channels", "");
    EXPECT_EQ(out, "cmd.toggle$#channels ");

    out.clear();
    append_channel_data_line(out, "A", "cmd.announce", "");
    EXPECT_EQ(out, "A@cmd.announce ");

    // The "" channel is written as ServiceStack does: "@selector".
    out.clear();
    append_channel_data_line(out, "", "cmd.chat", "1");
    EXPECT_EQ(out, "@cmd.chat 1");

    // Appends.
    out = "data: ";
    append_data_line(out, "cmd.x", "\"arg\"");
    EXPECT_EQ(out, "data: cmd.x \"arg\"");
}

TEST(data_line, line_breaks_become_spaces) {
    std::string out;
    append_data_line(out, "cmd.chat", "{\n  \"a\": 1,\r\n  \"b\": 2\r}");
    EXPECT_EQ(out, "cmd.chat {   \"a\": 1,    \"b\": 2 }");
    EXPECT_EQ(out.find_first_of("\r\n"), std::string::npos);

    out.clear();
    append_channel_data_line(out, "a\nb", "cmd.\rx", "\n");
    EXPECT_EQ(out, "a b@cmd. x  ");
}

TEST(data_line, size_matches_what_is_written) {
    const std::array<data_line, 5> lines{{
        {false, {}, "cmd.x", ""},
        {true, "", "cmd.x", ""},
        {true, "channel", "cmd.onLeave", R"({"a":"b"})"},
        {false, "ignored", "s.t", "\r\n"},
        {true, "c\r", "", ""},
    }};
    for (const auto& l : lines) {
        const std::string s = line_of(l);
        EXPECT_EQ(s.find('?'), std::string::npos) << s;
    }
    EXPECT_EQ(line_of(lines[3]), "s.t   ");
    EXPECT_EQ(line_of(lines[4]), "c @ ");
}

// ---------------------------------------------------------------------------

// Hands out a fixed byte sequence, then repeats it.
class fake_source final : public random_source {
public:
    explicit fake_source(std::vector<unsigned char> bytes) : bytes_(std::move(bytes)) {}
    void fill(void* p, std::size_t n) override {
        auto* d = static_cast<unsigned char*>(p);
        for (std::size_t i = 0; i < n; ++i)
            d[i] = bytes_[pos_++ % bytes_.size()];
        ++calls_;
    }
    std::size_t calls_ = 0;

private:
    std::vector<unsigned char> bytes_;
    std::size_t pos_ = 0;
};

// splitmix64: deterministic, statistically good bytes for the uniformity test.
class splitmix_source final : public random_source {
public:
    explicit splitmix_source(std::uint64_t seed) : state_(seed) {}
    void fill(void* p, std::size_t n) override {
        auto* d = static_cast<unsigned char*>(p);
        while (n > 0) {
            std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            z ^= z >> 31;
            const std::size_t take = std::min<std::size_t>(n, 8);
            std::memcpy(d, &z, take);
            d += take;
            n -= take;
        }
    }

private:
    std::uint64_t state_;
};

bool in_alphabet(char c) {
    return k_subscription_id_alphabet.find(c) != std::string_view::npos;
}

TEST(subscription_id, length_alphabet_and_shard_round_trip) {
    splitmix_source random(1);
    for (unsigned shard = 0; shard < k_subscription_id_max_shards; ++shard) {
        const std::string id = make_subscription_id(shard, random);
        ASSERT_EQ(id.size(), k_subscription_id_length);
        for (const char c : id)
            EXPECT_TRUE(in_alphabet(c)) << id;
        EXPECT_EQ(id.front(), k_subscription_id_alphabet[shard]);
        EXPECT_EQ(shard_of_subscription_id(id), shard) << id;
    }
    EXPECT_EQ(shard_of_subscription_id("Xq3Zb8Lm2Pf7Tn0Cw5Rk"), 23u);  // 'X'
    EXPECT_EQ(shard_of_subscription_id("0q3Zb8Lm2Pf7Tn0Cw5Rk"), 52u);
}

TEST(subscription_id, shard_out_of_range) {
    fake_source random({1, 2, 3});
    EXPECT_EQ(make_subscription_id(k_subscription_id_max_shards, random), "");
    EXPECT_EQ(make_subscription_id(UINT_MAX, random), "");
    EXPECT_EQ(random.calls_, 0u);
}

TEST(subscription_id, deterministic_with_a_fake_source) {
    std::vector<unsigned char> bytes;
    for (int i = 0; i < 24; ++i)
        bytes.push_back(static_cast<unsigned char>(i));
    fake_source a(bytes);
    fake_source b(bytes);
    const std::string id = make_subscription_id(3, a);
    EXPECT_EQ(id, make_subscription_id(3, b));
    // Byte i picks alphabet[i % 62].
    EXPECT_EQ(id, "D" + std::string(k_subscription_id_alphabet.substr(0, 19)));
    EXPECT_EQ(a.calls_, 1u);
}

TEST(subscription_id, rejects_biased_bytes) {
    // 248..255 would favour the first 8 characters under `% 62`: they are skipped.
    std::vector<unsigned char> bytes;
    for (int i = 0; i < 24; ++i)
        bytes.push_back(static_cast<unsigned char>(i % 2 == 0 ? 248 + i % 8 : 61 + 62 * (i % 4)));
    fake_source random(bytes);
    const std::string id = make_subscription_id(0, random);
    ASSERT_EQ(id.size(), k_subscription_id_length);
    // Only the accepted bytes (123 and 247, both index 61) were used.
    EXPECT_EQ(id, "A" + std::string(19, '9'));
    EXPECT_EQ(random.calls_, 2u);  // 12 accepted per batch of 24

    fake_source all_rejected_then_ok({255, 255, 255, 0});
    EXPECT_EQ(make_subscription_id(1, all_rejected_then_ok), "B" + std::string(19, 'A'));
}

TEST(subscription_id, malformed_ids) {
    EXPECT_EQ(shard_of_subscription_id(""), UINT_MAX);
    EXPECT_EQ(shard_of_subscription_id("Xq3Zb8Lm2Pf7Tn0Cw5R"), UINT_MAX);    // 19
    EXPECT_EQ(shard_of_subscription_id("Xq3Zb8Lm2Pf7Tn0Cw5Rkk"), UINT_MAX);  // 21
    EXPECT_EQ(shard_of_subscription_id("Xq3Zb8Lm2Pf7Tn0Cw5R+"), UINT_MAX);
    EXPECT_EQ(shard_of_subscription_id("Xq3Zb8Lm2Pf7Tn0Cw5R/"), UINT_MAX);
    EXPECT_EQ(shard_of_subscription_id("-q3Zb8Lm2Pf7Tn0Cw5Rk"), UINT_MAX);
    EXPECT_EQ(shard_of_subscription_id("Xq3Zb8Lm2Pf7Tn0Cw5R\0"sv), UINT_MAX);
    EXPECT_EQ(shard_of_subscription_id("Xq3Zb8Lm2Pf7Tn0Cw5R\xc3"), UINT_MAX);
}

TEST(subscription_id, characters_are_uniform) {
    // Chi-square over the 62 characters of positions 1..19 of 20000 ids
    // (380000 draws, ~6129 per bin). With 61 degrees of freedom the statistic
    // has mean 61 and standard deviation ~11; 130 is beyond p = 1e-5. Also per
    // position (19 tests, 20000 draws each) with the same bound.
    splitmix_source random(0x5eed);
    constexpr int k_ids = 20000;
    std::vector<std::array<std::uint32_t, 62>> per_position(k_subscription_id_length);
    std::array<std::uint32_t, 62> total{};
    for (int i = 0; i < k_ids; ++i) {
        const std::string id = make_subscription_id(static_cast<unsigned>(i % 62), random);
        ASSERT_EQ(id.size(), k_subscription_id_length);
        for (std::size_t p = 1; p < id.size(); ++p) {
            const auto idx = k_subscription_id_alphabet.find(id[p]);
            ASSERT_NE(idx, std::string_view::npos);
            ++per_position[p][idx];
            ++total[idx];
        }
    }
    auto chi_square = [](const std::array<std::uint32_t, 62>& counts) {
        double n = 0;
        for (const auto c : counts)
            n += c;
        const double expected = n / 62.0;
        double chi = 0;
        for (const auto c : counts)
            chi += (c - expected) * (c - expected) / expected;
        return chi;
    };
    EXPECT_LT(chi_square(total), 130.0);
    for (std::size_t p = 1; p < k_subscription_id_length; ++p)
        EXPECT_LT(chi_square(per_position[p]), 130.0) << "position " << p;
}

TEST(csprng_source, gives_distinct_ids) {
    csprng_source random;
    std::set<std::string> ids;
    for (int i = 0; i < 2000; ++i) {
        const std::string id = make_subscription_id(static_cast<unsigned>(i % 7), random);
        ASSERT_EQ(shard_of_subscription_id(id), static_cast<unsigned>(i % 7));
        ids.insert(id);
    }
    EXPECT_EQ(ids.size(), 2000u);
}

TEST(csprng_source, fills_any_size) {
    csprng_source random;
    for (const std::size_t n : {1u, 7u, 4095u, 4096u, 4097u, 20000u}) {
        std::vector<unsigned char> buf(n, 0);
        random.fill(buf.data(), n);
        if (n >= 64) {
            std::set<unsigned char> seen(buf.begin(), buf.end());
            EXPECT_GT(seen.size(), 16u) << n;
        }
    }
}

// ---------------------------------------------------------------------------

TEST(default_profile_url, is_a_percent_encoded_svg_data_uri) {
    const std::string_view url = k_default_profile_url;
    ASSERT_TRUE(url.starts_with("data:image/svg+xml,"));
    const std::string_view allowed =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/:'=,()%+";
    for (std::size_t i = 0; i < url.size(); ++i) {
        ASSERT_NE(allowed.find(url[i]), std::string_view::npos) << i;
        if (url[i] == '%') {
            ASSERT_LT(i + 2, url.size());
            EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(url[i + 1])) &&
                        std::isxdigit(static_cast<unsigned char>(url[i + 2])));
        }
    }
    std::string svg;
    url_decode(url.substr(url.find(',') + 1), svg, false);
    EXPECT_TRUE(svg.starts_with("<svg xmlns='http://www.w3.org/2000/svg'")) << svg;
    EXPECT_TRUE(svg.ends_with("</svg>")) << svg;
    EXPECT_EQ(svg.find_first_of("\"%\n"), std::string::npos);
    // Goes into onConnect JSON unchanged.
    std::string escaped;
    json_escape(url, escaped);
    EXPECT_EQ(escaped, url);
}

}  // namespace
}  // namespace ssepush::proto
