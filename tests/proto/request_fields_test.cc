// Tests for ServiceStack-style request binding, channel lists and cookies.
#include "ssepush/proto/request_fields.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace ssepush::proto {
namespace {

using namespace std::literals;
using list = std::vector<std::string>;

constexpr std::string_view k_json = "application/json";
constexpr std::string_view k_form = "application/x-www-form-urlencoded";

request_fields parsed(std::string_view query, std::string_view content_type = {},
                      std::string_view body = {}) {
    request_fields f;
    f.parse(query, content_type, body);
    return f;
}

TEST(request_fields, query_values_are_decoded) {
    const auto f = parsed("id=Vf8jZ2&channels=home%2Croom+2&t=1700000000000");
    EXPECT_EQ(f.get("id"), "Vf8jZ2");
    EXPECT_EQ(f.get("channels"), "home,room 2");
    EXPECT_EQ(f.get("t"), "1700000000000");
    EXPECT_EQ(f.get("missing"), std::nullopt);
    EXPECT_EQ(f.error(), "");
    EXPECT_EQ(f.body(), body_format::none);
}

TEST(request_fields, names_match_ignoring_ascii_case) {
    for (const auto q : {"Channels=A"sv, "channels=A"sv, "CHANNELS=A"sv, "%43hannels=A"sv}) {
        const auto f = parsed(q);
        EXPECT_EQ(f.get("channels"), "A") << q;
        EXPECT_EQ(f.get("Channels"), "A") << q;
        EXPECT_EQ(f.get("cHANNELS"), "A") << q;
    }
    EXPECT_EQ(parsed("", k_json, R"({"SubscribeChannels":["B"]})").get_list("subscribeChannels"),
              list{"B"});
}

TEST(request_fields, leading_question_mark_and_empty_pieces) {
    const auto f = parsed("?id=1&&flag&=x&empty=");
    EXPECT_EQ(f.get("id"), "1");
    EXPECT_EQ(f.get("flag"), "");
    EXPECT_EQ(f.get("empty"), "");
    EXPECT_EQ(f.get(""), "x");
}

TEST(request_fields, repeated_parameters_are_joined_with_commas) {
    // ASP.NET's NameValueCollection (case-insensitive) joins repeated keys.
    const auto f = parsed("channels=A&Channels=B&x=1&CHANNELS=");
    EXPECT_EQ(f.get("channels"), "A,B,");
    EXPECT_EQ(f.get_list("channels"), (list{"A", "B", ""}));
}

TEST(request_fields, form_over_query_over_json) {
    {
        const auto f = parsed("id=q&only_query=1", k_form, "id=f&only_form=2");
        EXPECT_EQ(f.body(), body_format::form);
        EXPECT_EQ(f.get("id"), "f");
        EXPECT_EQ(f.get("only_query"), "1");
        EXPECT_EQ(f.get("only_form"), "2");
    }
    {
        // ServiceStack deserializes the JSON body, then copies query parameters over it.
        const auto f = parsed("id=q", k_json, R"({"id":"j","only_json":"3"})");
        EXPECT_EQ(f.body(), body_format::json);
        EXPECT_EQ(f.get("id"), "q");
        EXPECT_EQ(f.get("only_json"), "3");
    }
    {
        // A JSON null does not hide anything and is absent itself.
        const auto f = parsed("a=q", k_json, R"({"a":null,"b":null})");
        EXPECT_EQ(f.get("a"), "q");
        EXPECT_EQ(f.get("b"), std::nullopt);
        EXPECT_EQ(f.type("b"), field_type::absent);
        EXPECT_EQ(f.get_raw("b"), std::nullopt);
    }
}

TEST(request_fields, json_scalars) {
    const auto f = parsed("", k_json,
                          R"({"s":"a\"b\\c\u00e9\n","i":-42,"u":18446744073709551615,)"
                          R"("d":1.50e2,"t":true,"f":false,"e":""})");
    EXPECT_EQ(f.error(), "");
    EXPECT_EQ(f.get("s"), "a\"b\\c\xc3\xa9\n");
    EXPECT_EQ(f.get_raw("s"), R"("a\"b\\c\u00e9\n")");
    EXPECT_EQ(f.type("s"), field_type::string);
    EXPECT_EQ(f.get("i"), "-42");
    EXPECT_EQ(f.get("u"), "18446744073709551615");
    EXPECT_EQ(f.get("d"), "1.50e2");  // the text as written
    EXPECT_EQ(f.type("d"), field_type::number);
    EXPECT_EQ(f.get("t"), "true");
    EXPECT_EQ(f.get("f"), "false");
    EXPECT_EQ(f.type("f"), field_type::boolean);
    EXPECT_EQ(f.get("e"), "");
}

TEST(request_fields, json_nested_values_keep_their_text) {
    const std::string_view body = R"({
        "toUserId": null,
        "channel" : "home",
        "customType": { "id": 1, "name": "Foo, \"Bar\" }" },
        "setterType":{"id":2,"name":"[x]","list":[1,{"a":[]}]},
        "empty": {}
    })";
    const auto f = parsed("", k_json, body);
    EXPECT_EQ(f.error(), "");
    EXPECT_EQ(f.get("channel"), "home");
    EXPECT_EQ(f.type("customType"), field_type::object);
    EXPECT_EQ(f.get_raw("customType"), R"({ "id": 1, "name": "Foo, \"Bar\" }" })");
    EXPECT_EQ(f.get("customType"), f.get_raw("customType"));
    EXPECT_EQ(f.get_raw("setterType"), R"({"id":2,"name":"[x]","list":[1,{"a":[]}]})");
    EXPECT_EQ(f.get_raw("EMPTY"), "{}");
    EXPECT_EQ(f.get_list("customType"), list{});
    EXPECT_EQ(f.get("toUserId"), std::nullopt);
}

TEST(request_fields, json_last_duplicate_wins) {
    const auto f = parsed("", k_json, R"({"id":"first","ID":"second"})");
    EXPECT_EQ(f.get("id"), "second");
    const auto g = parsed("", k_json, R"({"id":"first","id":null})");
    EXPECT_EQ(g.get("id"), std::nullopt);
}

TEST(request_fields, lists_in_every_encoding) {
    // jQuery's form post to updateSubscriberUrl.
    auto f = parsed("", k_form, "SubscribeChannels=B%2CC&UnsubscribeChannels=A");
    EXPECT_EQ(f.get_list("subscribeChannels"), (list{"B", "C"}));
    EXPECT_EQ(f.get_list("unsubscribeChannels"), list{"A"});
    // Query string, as the C# client lists subscribers.
    f = parsed("Channels=A%2CB");
    EXPECT_EQ(f.get_list("channels"), (list{"A", "B"}));
    // JSON array (TS client).
    f = parsed("", k_json, R"({"id":"x","subscribeChannels":["B","C"],"unsubscribeChannels":[]})");
    EXPECT_EQ(f.get_list("subscribeChannels"), (list{"B", "C"}));
    EXPECT_EQ(f.get_list("unsubscribeChannels"), list{});
    EXPECT_EQ(f.type("subscribeChannels"), field_type::array);
    EXPECT_EQ(f.get_raw("subscribeChannels"), R"(["B","C"])");
    // JSON string holding a comma list.
    f = parsed("", k_json, R"({"subscribeChannels":"B,C"})");
    EXPECT_EQ(f.get_list("subscribeChannels"), (list{"B", "C"}));
    // JSV list form, in a query, a form and a JSON string.
    EXPECT_EQ(parsed("channels=[B,C]").get_list("channels"), (list{"B", "C"}));
    EXPECT_EQ(parsed("channels=%5BB%2CC%5D").get_list("channels"), (list{"B", "C"}));
    EXPECT_EQ(parsed("", k_form, "channels=[B]").get_list("channels"), list{"B"});
    EXPECT_EQ(parsed("", k_json, R"({"channels":"[B,C]"})").get_list("channels"), (list{"B", "C"}));
}

TEST(request_fields, list_edge_cases) {
    EXPECT_EQ(parsed("c=").get_list("c"), list{});
    EXPECT_EQ(parsed("c").get_list("c"), list{});
    EXPECT_EQ(parsed("c=[]").get_list("c"), list{});
    EXPECT_EQ(parsed("c=[,]").get_list("c"), (list{"", ""}));
    EXPECT_EQ(parsed("c=,").get_list("c"), (list{"", ""}));
    EXPECT_EQ(parsed("c=A,,B,").get_list("c"), (list{"A", "", "B", ""}));
    EXPECT_EQ(parsed("c=+A+,B").get_list("c"), (list{" A ", "B"}));  // no trimming
    EXPECT_EQ(parsed("c=A,A").get_list("c"), (list{"A", "A"}));      // no de-duplication
    EXPECT_EQ(parsed("c=[A").get_list("c"), list{"[A"});
    EXPECT_EQ(parsed("c=[[A]]").get_list("c"), list{"[A]"});  // one pair of brackets only
    EXPECT_EQ(parsed("c=*").get_list("c"), list{"*"});
    EXPECT_EQ(parsed("").get_list("c"), list{});
    EXPECT_EQ(parsed("", k_json, R"({"c":""})").get_list("c"), list{});
    EXPECT_EQ(parsed("", k_json, R"({"c":7})").get_list("c"), list{"7"});
    EXPECT_EQ(parsed("", k_json, R"({"c":null})").get_list("c"), list{});
    // Array items that are not strings are their JSON text.
    EXPECT_EQ(
        parsed("", k_json, R"({"c":["a\"",1, true ,null,{"x":[1,2]},[],"",2.50]})").get_list("c"),
        (list{"a\"", "1", "true", "null", R"({"x":[1,2]})", "[]", "", "2.50"}));
}

TEST(request_fields, content_types) {
    const std::string_view body = R"({"id":"x"})";
    EXPECT_EQ(parsed("", "application/json; charset=utf-8", body).get("id"), "x");
    EXPECT_EQ(parsed("", "Application/JSON", body).get("id"), "x");
    EXPECT_EQ(parsed("", " text/json ", body).get("id"), "x");
    EXPECT_EQ(parsed("", "", body).get("id"), "x");  // no type, starts with '{'
    EXPECT_EQ(parsed("", "", "\r\n\t {\"id\":\"x\"}").get("id"), "x");
    EXPECT_EQ(parsed("", "", "\xEF\xBB\xBF{\"id\":\"x\"}").get("id"), "x");  // BOM
    EXPECT_EQ(parsed("", k_json, "\xEF\xBB\xBF{\"id\":\"x\"}").get("id"), "x");
    // Bodies of other types are ignored.
    EXPECT_EQ(parsed("", "text/plain", body).get("id"), std::nullopt);
    EXPECT_EQ(parsed("", "text/plain", body).body(), body_format::none);
    EXPECT_EQ(parsed("", "", "id=x").get("id"), std::nullopt);
    EXPECT_EQ(parsed("", "multipart/form-data; boundary=x", "id=x").get("id"), std::nullopt);
    EXPECT_EQ(parsed("", "application/x-www-form-urlencoded; charset=UTF-8", "id=x").get("id"),
              "x");
    EXPECT_EQ(parsed("", "APPLICATION/X-WWW-FORM-URLENCODED", "id=x").get("id"), "x");
    // A JSON type with an empty body (a POST with no content) is not an error.
    EXPECT_EQ(parsed("", k_json, "").error(), "");
    EXPECT_EQ(parsed("", k_json, " \n").error(), "");
    // A form type with a JSON-looking body is a form.
    EXPECT_EQ(parsed("", k_form, body).get(R"({"id":"x"})"), "");
}

TEST(request_fields, malformed_json_sets_the_error) {
    for (const auto body : {R"({"id":"x")"sv, R"({"id":"x",})"sv, R"({"id":x})"sv, "{"sv,
                            R"({"id":"x"} trailing)"sv, "{\"id\":\"\xff\"}"sv,
                            R"({"id":"\ud800"})"sv, R"({"n":123456789012345678901234567890})"sv,
                            R"({"id":"tab	inside"})"sv, "{\"a\":\"\0\"}"sv}) {
        const auto f = parsed("id=q", k_json, body);
        EXPECT_FALSE(f.error().empty()) << body;
        EXPECT_EQ(f.get("id"), "q") << body;  // the query still binds
        EXPECT_EQ(f.get("a"), std::nullopt) << body;
    }
    for (const auto body : {"[1,2]"sv, "\"s\""sv, "7"sv, "null"sv}) {
        const auto f = parsed("", k_json, body);
        EXPECT_EQ(f.error(), "body is not a JSON object") << body;
    }
    EXPECT_NE(parsed("", "", "{oops").error(), "");
}

TEST(request_fields, parse_replaces_everything) {
    request_fields f;
    f.parse("a=1", k_json, "{");
    EXPECT_NE(f.error(), "");
    f.parse("b=2", k_form, "c=3");
    EXPECT_EQ(f.error(), "");
    EXPECT_EQ(f.get("a"), std::nullopt);
    EXPECT_EQ(f.get("b"), "2");
    EXPECT_EQ(f.get("c"), "3");
    f.clear();
    EXPECT_EQ(f.get("b"), std::nullopt);
    EXPECT_EQ(f.body(), body_format::none);
}

TEST(request_fields, raw_and_type_of_query_and_form_values) {
    const auto f = parsed("msg=say+%22hi%22%0A", k_form, "n=5");
    EXPECT_EQ(f.get_raw("msg"), R"("say \"hi\"\n")");
    EXPECT_EQ(f.type("msg"), field_type::string);
    EXPECT_EQ(f.get_raw("n"), R"("5")");
    EXPECT_EQ(f.type("n"), field_type::string);
    EXPECT_EQ(f.type("nothing"), field_type::absent);
}

TEST(request_fields, typical_client_requests) {
    // TS client: POST /api/UpdateEventSubscriber.
    auto f = parsed("", "application/json",
                    R"({"id":"Xq3Zb8Lm2Pf7Tn0Cw5Rk","subscribeChannels":["B","C"]})");
    EXPECT_EQ(f.get("Id"), "Xq3Zb8Lm2Pf7Tn0Cw5Rk");
    EXPECT_EQ(f.get_list("SubscribeChannels"), (list{"B", "C"}));
    EXPECT_EQ(f.get_list("UnsubscribeChannels"), list{});
    // C# client: PascalCase.
    f = parsed("", "application/json; charset=utf-8",
               R"({"Id":"Xq3Zb8Lm2Pf7Tn0Cw5Rk","UnsubscribeChannels":["A"]})");
    EXPECT_EQ(f.get("id"), "Xq3Zb8Lm2Pf7Tn0Cw5Rk");
    EXPECT_EQ(f.get_list("unsubscribeChannels"), list{"A"});
    // PostChatToChannel from the TS tests.
    f = parsed("", "application/json",
               R"({"from":"Xq3Zb8Lm2Pf7Tn0Cw5Rk","channel":"*","message":"msg1",)"
               R"("selector":"cmd.chat"})");
    EXPECT_EQ(f.get("From"), "Xq3Zb8Lm2Pf7Tn0Cw5Rk");
    EXPECT_EQ(f.get("Channel"), "*");
    EXPECT_EQ(f.get("toUserId"), std::nullopt);
    // Heartbeat POST: text/plain, no body; the id is in the query.
    f = parsed("id=Xq3Zb8Lm2Pf7Tn0Cw5Rk", "text/plain", "");
    EXPECT_EQ(f.get("id"), "Xq3Zb8Lm2Pf7Tn0Cw5Rk");
}

// ---------------------------------------------------------------------------

TEST(split_channels, edge_cases) {
    EXPECT_EQ(split_channels(""), list{});
    EXPECT_EQ(split_channels("A"), list{"A"});
    EXPECT_EQ(split_channels("A,B,C"), (list{"A", "B", "C"}));
    EXPECT_EQ(split_channels(","), (list{"", ""}));
    EXPECT_EQ(split_channels("A,,B"), (list{"A", "", "B"}));
    EXPECT_EQ(split_channels(",A"), (list{"", "A"}));
    EXPECT_EQ(split_channels("A,"), (list{"A", ""}));
    EXPECT_EQ(split_channels(" A , B "), (list{" A ", " B "}));
    EXPECT_EQ(split_channels("A,A"), (list{"A", "A"}));
    EXPECT_EQ(split_channels("[A,B]"), (list{"[A", "B]"}));  // no JSV here
    EXPECT_EQ(split_channels("a;b"), list{"a;b"});
}

TEST(cookie, finds_the_first_match) {
    const std::string_view h = "ss-id=JaOi1bQk; ss-pid=Hk2a9xYz;ss-opt=perm;  other = x y ";
    EXPECT_EQ(cookie(h, "ss-id"), "JaOi1bQk");
    EXPECT_EQ(cookie(h, "ss-pid"), "Hk2a9xYz");
    EXPECT_EQ(cookie(h, "ss-opt"), "perm");
    EXPECT_EQ(cookie(h, "other"), "x y");
    EXPECT_EQ(cookie(h, "missing"), std::nullopt);
    EXPECT_EQ(cookie(h, "SS-ID"), std::nullopt);  // names are case-sensitive
    EXPECT_EQ(cookie("a=1; a=2", "a"), "1");
}

TEST(cookie, edge_cases) {
    EXPECT_EQ(cookie("", "a"), std::nullopt);
    EXPECT_EQ(cookie(";;;", "a"), std::nullopt);
    EXPECT_EQ(cookie("a", "a"), std::nullopt);  // no '='
    EXPECT_EQ(cookie("a=", "a"), "");
    EXPECT_EQ(cookie("a=b=c", "a"), "b=c");
    EXPECT_EQ(cookie("a=\"quoted\"", "a"), "\"quoted\"");  // no decoding
    EXPECT_EQ(cookie("a=%41", "a"), "%41");
    EXPECT_EQ(cookie("\ta\t=\t1\t", "a"), "1");
    EXPECT_EQ(cookie("xa=1; a=2", "a"), "2");
    EXPECT_EQ(cookie("=v", ""), "v");
    const std::string_view h = "k=value";
    const auto v = cookie(h, "k");
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->data(), h.data() + 2);  // a view into the header
}

}  // namespace
}  // namespace ssepush::proto
