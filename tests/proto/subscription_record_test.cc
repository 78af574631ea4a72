// The SubscriptionInfo record of `sse:id:{subId}` (PROTOCOL.md §7.4): what
// ServiceStack stores parsed, ours written as ServiceStack writes it and read
// back, and the leniency a .NET reader has.
#include "ssepush/proto/subscription_record.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ssepush::proto {
namespace {

using namespace std::literals;
using list = std::vector<std::string>;

// PROTOCOL.md §7.4's example, with its "{...same as onConnect...}" filled in.
constexpr std::string_view k_servicestack =
    R"({"createdAt":"\/Date(1719830400123)\/","channels":["home","lobby"],"userId":"-1",)"
    R"("displayName":"user1","sessionId":"...","subscriptionId":"Xq3Zb8Lm2Pf7Tn0Cw5Rk",)"
    R"("userAddress":"10.0.0.7","isAuthenticated":false,)"
    R"("meta":{"userId":"-1","isAuthenticated":"false","displayName":"user1","channels":"home,lobby","createdAt":"1719830400123","profileUrl":"..."},)"
    R"("connectArgs":{"id":"Xq3Zb8Lm2Pf7Tn0Cw5Rk",)"
    R"("unRegisterUrl":"http://localhost:5000/event-unregister?id=Xq3Zb8Lm2Pf7Tn0Cw5Rk",)"
    R"("heartbeatUrl":"http://localhost:5000/event-heartbeat?id=Xq3Zb8Lm2Pf7Tn0Cw5Rk",)"
    R"("updateSubscriberUrl":"http://localhost:5000/event-subscribers/Xq3Zb8Lm2Pf7Tn0Cw5Rk",)"
    R"("heartbeatIntervalMs":"10000","idleTimeoutMs":"30000","userId":"-1",)"
    R"("isAuthenticated":"false","displayName":"user1","channels":"home,lobby",)"
    R"("createdAt":"1719830400123","profileUrl":"..."},"serverArgs":{}})";

constexpr std::int64_t k_created = 1719830400123;  // 2024-07-01T10:40:00.123Z

subscription_record full_record() {
    subscription_record r;
    r.id = "Xq3Zb8Lm2Pf7Tn0Cw5Rk";
    r.channels = {"home", "lobby"};
    r.user_id = "42";
    r.user_name = "ada";
    r.display_name = "Ada Lovelace";
    r.session_id = "s-7Hk2";
    r.user_address = "10.0.0.7";
    r.is_authenticated = true;
    r.created_at_ms = k_created;
    r.meta = {{"userId", "42"},
              {"isAuthenticated", "true"},
              {"displayName", "Ada Lovelace"},
              {"channels", "home,lobby"},
              {"createdAt", "1719830400123"},
              {"profileUrl", "https://x/a.png"}};
    r.connect_args = {{"id", r.id}, {"heartbeatIntervalMs", "10000"}};
    r.server_args = {{"node", "b"}};
    return r;
}

std::string written(const subscription_record& r) {
    std::string out;
    write_subscription_record(r, out);
    return out;
}

std::optional<subscription_record> with_created_at(std::string_view value) {
    std::string json = R"({"subscriptionId":"a","createdAt":)";
    json += value;
    json += '}';
    return parse_subscription_record(json);
}

TEST(subscription_record, writes_servicestacks_names_order_and_date_form) {
    EXPECT_EQ(
        written(full_record()),
        R"({"createdAt":"\/Date(1719830400123)\/","channels":["home","lobby"],)"
        R"("userId":"42","userName":"ada","displayName":"Ada Lovelace","sessionId":"s-7Hk2",)"
        R"("subscriptionId":"Xq3Zb8Lm2Pf7Tn0Cw5Rk","userAddress":"10.0.0.7",)"
        R"("isAuthenticated":true,)"
        R"("meta":{"userId":"42","isAuthenticated":"true","displayName":"Ada Lovelace",)"
        R"("channels":"home,lobby","createdAt":"1719830400123","profileUrl":"https://x/a.png"},)"
        R"("connectArgs":{"id":"Xq3Zb8Lm2Pf7Tn0Cw5Rk","heartbeatIntervalMs":"10000"},)"
        R"("serverArgs":{"node":"b"}})");
}

TEST(subscription_record, anonymous_without_session_omits_user_name_and_session_id) {
    subscription_record r;
    r.id = "abc";
    r.user_id = "-3";
    r.created_at_ms = -62135596800000;  // DateTime.MinValue
    EXPECT_EQ(written(r), R"({"createdAt":"\/Date(-62135596800000)\/","channels":[],"userId":"-3",)"
                          R"("displayName":"","subscriptionId":"abc","userAddress":"",)"
                          R"("isAuthenticated":false,"meta":{},"connectArgs":{},"serverArgs":{}})");
}

TEST(subscription_record, writer_appends) {
    std::string out = "prefix ";
    write_subscription_record(full_record(), out);
    EXPECT_TRUE(out.starts_with("prefix {\"createdAt\""));
    EXPECT_TRUE(out.ends_with("}}"));
}

TEST(subscription_record, full_record_round_trips) {
    const subscription_record r = full_record();
    const auto back = parse_subscription_record(written(r));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, r);

    subscription_record bare;
    bare.id = "x";
    const auto bare_back = parse_subscription_record(written(bare));
    ASSERT_TRUE(bare_back);
    EXPECT_EQ(*bare_back, bare);
}

TEST(subscription_record, extreme_dates_round_trip) {
    for (const std::int64_t ms :
         {std::int64_t{0}, std::int64_t{-1}, k_created, std::numeric_limits<std::int64_t>::min(),
          std::numeric_limits<std::int64_t>::max()}) {
        subscription_record r;
        r.id = "x";
        r.created_at_ms = ms;
        const auto back = parse_subscription_record(written(r));
        ASSERT_TRUE(back) << ms;
        EXPECT_EQ(back->created_at_ms, ms);
    }
}

TEST(subscription_record, parses_servicestacks_example) {
    const auto r = parse_subscription_record(k_servicestack);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->id, "Xq3Zb8Lm2Pf7Tn0Cw5Rk");
    EXPECT_EQ(r->created_at_ms, k_created);
    EXPECT_EQ(r->channels, (list{"home", "lobby"}));
    EXPECT_EQ(r->user_id, "-1");
    EXPECT_EQ(r->user_name, "");
    EXPECT_EQ(r->display_name, "user1");
    EXPECT_EQ(r->session_id, "...");
    EXPECT_EQ(r->user_address, "10.0.0.7");
    EXPECT_FALSE(r->is_authenticated);
    EXPECT_EQ(r->meta, (string_pairs{{"userId", "-1"},
                                     {"isAuthenticated", "false"},
                                     {"displayName", "user1"},
                                     {"channels", "home,lobby"},
                                     {"createdAt", "1719830400123"},
                                     {"profileUrl", "..."}}));
    ASSERT_EQ(r->connect_args.size(), 12u);
    EXPECT_EQ(r->connect_args[0], (std::pair{"id"s, "Xq3Zb8Lm2Pf7Tn0Cw5Rk"s}));
    EXPECT_EQ(r->connect_args[4], (std::pair{"heartbeatIntervalMs"s, "10000"s}));
    EXPECT_TRUE(r->server_args.empty());

    // Written back, it is ServiceStack's text again (same order, no userName).
    std::string expected(k_servicestack);
    EXPECT_EQ(written(*r), expected);
}

TEST(subscription_record, pascal_case_and_any_case_names_match) {
    const auto r = parse_subscription_record(
        R"({"CreatedAt":"\/Date(1719830400123)\/","Channels":["a"],"UserId":"7",)"
        R"("USERNAME":"bob","displayname":"Bob","SessionId":"s","SubscriptionId":"P1",)"
        R"("UserAddress":"::1","IsAuthenticated":true,"Meta":{"UserId":"7"},)"
        R"("ConnectArgs":{"Id":"P1"},"ServerArgs":{"k":"v"}})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->id, "P1");
    EXPECT_EQ(r->created_at_ms, k_created);
    EXPECT_EQ(r->channels, (list{"a"}));
    EXPECT_EQ(r->user_id, "7");
    EXPECT_EQ(r->user_name, "bob");
    EXPECT_EQ(r->display_name, "Bob");
    EXPECT_EQ(r->session_id, "s");
    EXPECT_EQ(r->user_address, "::1");
    EXPECT_TRUE(r->is_authenticated);
    // Dictionary keys are data, not property names: their case is kept.
    EXPECT_EQ(r->meta, (string_pairs{{"UserId", "7"}}));
    EXPECT_EQ(r->connect_args, (string_pairs{{"Id", "P1"}}));
    EXPECT_EQ(r->server_args, (string_pairs{{"k", "v"}}));
}

TEST(subscription_record, wcf_dates_with_zone_suffix_and_sign) {
    EXPECT_EQ(with_created_at(R"("\/Date(1719830400123)\/")")->created_at_ms, k_created);
    EXPECT_EQ(with_created_at(R"("/Date(1719830400123)/")")->created_at_ms, k_created);
    EXPECT_EQ(with_created_at(R"("\/Date(1719830400123+0000)\/")")->created_at_ms, k_created);
    EXPECT_EQ(with_created_at(R"("\/Date(1719830400123-0500)\/")")->created_at_ms, k_created);
    EXPECT_EQ(with_created_at(R"("\/Date(-1000+0100)\/")")->created_at_ms, -1000);
    EXPECT_EQ(with_created_at(R"("\/Date(-62135596800000)\/")")->created_at_ms, -62135596800000);
    // The slashes are optional, as they are to ServiceStack.Text.
    EXPECT_EQ(with_created_at(R"x("\/Date(1)")x")->created_at_ms, 1);
    EXPECT_EQ(with_created_at(R"x("Date(2)")x")->created_at_ms, 2);
    // Not a date: the record still parses, createdAt stays 0.
    for (const auto bad : {R"("\/Date()\/")"sv, R"("\/Date(12a)\/")"sv, R"("\/Date(1+00)\/")"sv,
                           R"("\/Date(99999999999999999999)\/")"sv, R"("Date")"sv, R"("")"sv,
                           R"(1.5)"sv, R"(true)"sv, R"({})"sv}) {
        const auto r = with_created_at(bad);
        ASSERT_TRUE(r) << bad;
        EXPECT_EQ(r->created_at_ms, 0) << bad;
    }
}

TEST(subscription_record, iso_8601_dates) {
    struct row {
        std::string_view text;
        std::int64_t ms;
    };
    for (const row& c : {
             row{R"("2024-07-01T10:40:00.123Z")", k_created},
             row{R"("2024-07-01T10:40:00.1234567Z")", k_created},  // .NET's 7 digits
             row{R"("2024-07-01T10:40:00.1Z")", k_created - 23},
             row{R"("2024-07-01T10:40:00Z")", k_created - 123},
             row{R"("2024-07-01T10:40:00")", k_created - 123},  // no zone: UTC
             row{R"("2024-07-01T12:40:00.123+02:00")", k_created},
             row{R"("2024-07-01T12:40:00.123+0200")", k_created},
             row{R"("2024-07-01T05:10:00.123-05:30")", k_created},
             row{R"("2024-07-01t10:40:00.123z")", k_created},
             row{R"("2024-07-01 10:40")", k_created - 123},
             row{R"("2024-07-01")", k_created - (10 * 3600 + 40 * 60) * 1000 - 123},
             row{R"("1970-01-01T00:00:00Z")", 0},
             row{R"("1969-12-31T23:59:59.999Z")", -1},
             row{R"("2000-02-29T00:00:00Z")", 951782400000},
             row{R"("0001-01-01T00:00:00Z")", -62135596800000},
         }) {
        const auto r = with_created_at(c.text);
        ASSERT_TRUE(r) << c.text;
        EXPECT_EQ(r->created_at_ms, c.ms) << c.text;
    }
    for (const auto bad :
         {R"("2024-13-01T00:00:00Z")"sv, R"("2023-02-29T00:00:00Z")"sv,
          R"("2024-07-01T24:00:00Z")"sv, R"("2024-07-01T10:60:00Z")"sv,
          R"("2024-07-01T10:40:00.Z")"sv, R"("2024-07-01T10:40:00+05:")"sv,
          R"("2024-07-01T10:40:00Zjunk")"sv, R"("2024-7-1")"sv, R"("0000-01-01")"sv}) {
        const auto r = with_created_at(bad);
        ASSERT_TRUE(r) << bad;
        EXPECT_EQ(r->created_at_ms, 0) << bad;
    }
    // An integer is unix ms.
    EXPECT_EQ(with_created_at("1719830400123")->created_at_ms, k_created);
}

TEST(subscription_record, missing_optional_fields_are_empty) {
    const auto r = parse_subscription_record(R"({"subscriptionId":"only"})");
    ASSERT_TRUE(r);
    subscription_record expected;
    expected.id = "only";
    EXPECT_EQ(*r, expected);
}

TEST(subscription_record, null_values_are_absent) {
    const auto r = parse_subscription_record(
        R"({"createdAt":null,"channels":null,"userId":null,"userName":null,)"
        R"("displayName":null,"sessionId":null,"subscriptionId":"n","userAddress":null,)"
        R"("isAuthenticated":null,"meta":{"a":null,"b":"x"},"connectArgs":null,"serverArgs":null})");
    ASSERT_TRUE(r);
    subscription_record expected;
    expected.id = "n";
    expected.meta = {{"b", "x"}};
    EXPECT_EQ(*r, expected);

    // null neither sets nor clears an earlier value.
    const auto again =
        parse_subscription_record(R"({"subscriptionId":"n","userId":"5","userId":null})");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->user_id, "5");
    EXPECT_FALSE(parse_subscription_record(R"({"subscriptionId":null})"));
}

TEST(subscription_record, non_string_values_keep_their_json_text) {
    const auto r = parse_subscription_record(
        R"({"subscriptionId":"v","userId":42,"displayName":true,"channels":["a",7,-1.50,false,null,{"x":1}],)"
        R"("meta":{"n":  1.50e3 ,"i":-7,"t":true,"f":false,"o":{"k": [1, "2"]},"a":[ ],"s":"q"}})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->user_id, "42");
    EXPECT_EQ(r->display_name, "true");
    EXPECT_EQ(r->channels, (list{"a", "7", "-1.50", "false"}));
    EXPECT_EQ(r->meta, (string_pairs{{"n", "1.50e3"},
                                     {"i", "-7"},
                                     {"t", "true"},
                                     {"f", "false"},
                                     {"o", R"({"k": [1, "2"]})"},
                                     {"a", "[ ]"},
                                     {"s", "q"}}));
}

TEST(subscription_record, lenient_booleans_channels_and_duplicates) {
    for (const auto& [text, value] :
         {std::pair{"true"sv, true}, std::pair{"false"sv, false}, std::pair{R"("true")"sv, true},
          std::pair{R"("False")"sv, false}, std::pair{R"("TRUE")"sv, true},
          std::pair{R"("yes")"sv, false}, std::pair{"1"sv, false}}) {
        const auto r = parse_subscription_record(R"({"subscriptionId":"b","isAuthenticated":)" +
                                                 std::string(text) + "}");
        ASSERT_TRUE(r) << text;
        EXPECT_EQ(r->is_authenticated, value) << text;
    }
    auto r = parse_subscription_record(R"({"subscriptionId":"c","channels":"home,,lobby"})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->channels, (list{"home", "", "lobby"}));

    // The last value of a property wins; a dictionary key keeps its first place.
    r = parse_subscription_record(
        R"({"subscriptionId":"old","SubscriptionId":"new","channels":["a"],"channels":["b","c"],)"
        R"("meta":{"x":"1"},"meta":{"k":"1","j":"2","k":"3"},"userId":{"not":"text"}})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->id, "new");
    EXPECT_EQ(r->channels, (list{"b", "c"}));
    EXPECT_EQ(r->meta, (string_pairs{{"k", "3"}, {"j", "2"}}));
    EXPECT_EQ(r->user_id, "");  // an object is not text

    // Unknown properties, nested or not, are skipped.
    r = parse_subscription_record(
        R"({"lastPulseAt":"\/Date(1)\/","extra":{"subscriptionId":"inner"},"subscriptionId":"outer"})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->id, "outer");
    EXPECT_EQ(r->created_at_ms, 0);
}

TEST(subscription_record, rejects_what_is_not_a_record) {
    const std::string_view bad[] = {
        "",
        " ",
        "null",
        "[]",
        R"("subscriptionId")",
        "42",
        "{}",
        R"({"subscriptionId":""})",
        R"({"subscriptionId":{}})",
        R"({"subscriptionId":["a"]})",
        R"({"userId":"-1"})",
        R"({"subscriptionId":"a")",
        R"({"subscriptionId":"a"}})",
        R"({"subscriptionId":"a"} {})",
        R"({"subscriptionId":"a",})",
        R"({subscriptionId:"a"})",
        R"({'subscriptionId':'a'})",
        "{\"subscriptionId\":\"a\xff\"}",          // not UTF-8
        "\xEF\xBB\xBF{\"subscriptionId\":\"a\"}",  // BOM
        R"({"subscriptionId":"\ud800"})",          // lone surrogate
        "{\"subscriptionId\":\"a\0\"}"sv,          // raw NUL
    };
    for (const std::string_view b : bad) {
        EXPECT_FALSE(parse_subscription_record(b)) << b;
        EXPECT_EQ(meta_json_of(b), "") << b;
    }
    // Every prefix of a good record is not one.
    for (std::size_t n = 0; n < k_servicestack.size(); ++n)
        EXPECT_FALSE(parse_subscription_record(k_servicestack.substr(0, n))) << n;
}

TEST(subscription_record, escapes_and_unicode_survive) {
    subscription_record r;
    r.id = "e";
    r.display_name = "quote\" back\\ slash/ tab\t nl\n nul"s + '\0' + " bell\x07 del\x7f";
    r.user_name = "Zoë 日本 😀 c1\xc2\x85";
    r.channels = {"ch\"1", "ü"};
    r.meta = {{"k\"ey\n", "v\x01"}, {"ü", "😀"}};
    const std::string json = written(r);
    EXPECT_NE(json.find(R"(quote\" back\\ slash/ tab\t nl\n nul\u0000 bell\u0007 del\u007F)"),
              std::string::npos)
        << json;
    EXPECT_NE(json.find("Zoë 日本 😀 c1\\u0085"), std::string::npos) << json;
    for (const char c : json)
        EXPECT_GE(static_cast<unsigned char>(c), 0x20) << json;
    const auto back = parse_subscription_record(json);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, r);

    // \u escapes in the input, surrogate pairs included, are decoded.
    const auto u = parse_subscription_record(
        R"({"subscriptionId":"\u0041b","displayName":"\u00fc\ud83d\ude00\/\"","meta":{"\u006b":"\n"}})");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->id, "Ab");
    EXPECT_EQ(u->display_name, "ü😀/\"");
    EXPECT_EQ(u->meta, (string_pairs{{"k", "\n"}}));
}

TEST(subscription_record, meta_json_of_returns_the_stored_text) {
    EXPECT_EQ(meta_json_of(k_servicestack),
              R"({"userId":"-1","isAuthenticated":"false","displayName":"user1",)"
              R"("channels":"home,lobby","createdAt":"1719830400123","profileUrl":"..."})");
    // Exactly as written: whitespace, escapes and order kept; any case of the name.
    EXPECT_EQ(meta_json_of(" {\"Meta\" : { \"a\" : \"\\u0041\" , \"b\":[1,{\"}\":\"]\"}] } } "),
              R"({ "a" : "\u0041" , "b":[1,{"}":"]"}] })");
    // The same member parse_subscription_record reads: the last object-valued one.
    constexpr std::string_view twice =
        R"({"meta":{"a":"1"},"subscriptionId":"x","meta":null,"meta":"no","Meta":{"b":"2"},"meta":7})";
    EXPECT_EQ(meta_json_of(twice), R"({"b":"2"})");
    EXPECT_EQ(parse_subscription_record(twice)->meta, (string_pairs{{"b", "2"}}));
    // Nested "meta" members are not the record's.
    EXPECT_EQ(meta_json_of(R"({"connectArgs":{"meta":{"a":"1"}}})"), "");
    EXPECT_EQ(meta_json_of(R"({"meta":null})"), "");
    EXPECT_EQ(meta_json_of(R"({"meta":"{}"})"), "");
    EXPECT_EQ(meta_json_of(R"({"meta":{}})"), "{}");
    // A record of ours gives the object we wrote.
    const std::string ours = written(full_record());
    const std::string meta = meta_json_of(ours);
    EXPECT_TRUE(meta.starts_with(R"({"userId":"42",)")) << meta;
    EXPECT_TRUE(meta.ends_with(R"("profileUrl":"https://x/a.png"})")) << meta;
}

}  // namespace
}  // namespace ssepush::proto
