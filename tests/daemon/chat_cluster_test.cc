// ssepushd's chat services (tools/ssepushd/chat.cc) on two nodes sharing a
// real redis-server: the sender and a private message's target are looked up
// on every node, not only on the one that took the POST.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "chat.h"
#include "ssepush/events/redis_provider.h"
#include "ssepush/events/server_events.h"
#include "ssepush/proto/url.h"
#include "support/redis_node.h"

using namespace ssepush::testing;
using namespace std::chrono_literals;
namespace events = ssepush::events;
namespace eng = ssepush::engine;
namespace proto = ssepush::proto;

namespace {

// A form field value, percent-encoded.
std::string form_encode(std::string_view s) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char ch : s) {
        if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out.push_back(char(ch));
        } else {
            out.push_back('%');
            out.push_back(k_hex[ch >> 4]);
            out.push_back(k_hex[ch & 15]);
        }
    }
    return out;
}

std::string post_request(const std::string& target, const std::string& body) {
    return "POST " + target +
           " HTTP/1.1\r\nHost: test.local\r\nContent-Type: "
           "application/x-www-form-urlencoded\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

test_client::response post(std::uint16_t port, const std::string& target, const std::string& body) {
    test_client c(port);
    c.send(post_request(target, body));
    auto r = c.read_response();
    return r ? *r : test_client::response{};
}

// A node with ssepushd's chat services.
std::unique_ptr<redis_node> chat_node(const redis_server& redis) {
    redis_node::settings s;
    s.install = [](eng::server& srv, events::server_events& ev) {
        ssepushd::install_chat(srv, ev);
    };
    return std::make_unique<redis_node>(redis, std::move(s));
}

class chat_cluster : public ::testing::Test {
protected:
    void SetUp() override {
        n1 = chat_node(redis);
        n2 = chat_node(redis);
        ASSERT_TRUE(n1->wait_linked());
        ASSERT_TRUE(n2->wait_linked());
        a = subscriber(n1->port(), "channels=home&user=alice");
        b = subscriber(n2->port(), "channels=home&user=bob");
        ASSERT_FALSE(a->id().empty());
        ASSERT_FALSE(b->id().empty());
        // Each is known to the other node (its record reached Redis).
        ASSERT_TRUE(
            eventually([&] { return n2->ev().get_subscription_info(a->id()).has_value(); }));
        ASSERT_TRUE(
            eventually([&] { return n1->ev().get_subscription_info(b->id()).has_value(); }));
        ASSERT_TRUE(eventually(
            [&] { return !n1->ev().get_subscription_infos_by_user_id("u-bob").empty(); }));
    }
    void TearDown() override {
        a.reset();
        b.reset();
        n1.reset();
        n2.reset();
    }

    redis_server redis;
    std::unique_ptr<redis_node> n1, n2;
    std::unique_ptr<sse_client> a, b;  // a on n1, b on n2
};

TEST_F(chat_cluster, a_sender_held_by_the_other_node_chats_to_a_channel) {
    const std::string a_uid = a->info().at("userId");
    EXPECT_EQ(a_uid, "u-alice");
    auto r = post(n2->port(), "/channels/home/chat",
                  "from=" + form_encode(a->id()) + "&message=hi%20all");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers["content-type"], "application/json; charset=utf-8");
    const flat_json body = parse_flat_json(r.body);
    EXPECT_EQ(body.at("fromUserId"), a_uid);
    EXPECT_EQ(body.at("channel"), "home");
    EXPECT_EQ(body.at("message"), "hi all");
    EXPECT_EQ(body.at("private"), "false");

    for (sse_client* c : {a.get(), b.get()}) {
        auto f = next_message(*c);
        ASSERT_TRUE(f) << "no chat frame";
        EXPECT_EQ(f->channel, "home");
        EXPECT_EQ(f->selector, "cmd.chat");
        EXPECT_EQ(f->json().at("fromUserId"), a_uid);
        EXPECT_EQ(f->json().at("message"), "hi all");
        EXPECT_EQ(f->json().at("id"), body.at("id"));
    }

    // The /api/ form and PostRawToChannel too (the raw one answers 204).
    r = post(n2->port(), "/api/PostChatToChannel",
             "from=" + form_encode(a->id()) + "&channel=home&message=again");
    ASSERT_EQ(r.status, 200) << r.body;
    r = post(n2->port(), "/channels/home/raw",
             "from=" + form_encode(a->id()) + "&selector=cmd.announce&message=raw");
    EXPECT_EQ(r.status, 204) << r.body;
    for (sse_client* c : {a.get(), b.get()}) {
        auto f = next_message(*c);
        ASSERT_TRUE(f);
        EXPECT_EQ(f->json().at("message"), "again");
        f = next_message(*c);
        ASSERT_TRUE(f);
        EXPECT_EQ(f->channel, "home");
        EXPECT_EQ(f->selector, "cmd.announce");
        EXPECT_EQ(f->body, "\"raw\"");
    }
}

TEST_F(chat_cluster, a_private_message_reaches_the_target_on_the_other_node_and_echoes_back) {
    const std::string b_name = b->info().at("displayName");
    auto r = post(n1->port(), "/channels/home/chat",
                  "from=" + form_encode(a->id()) + "&toUserId=u-bob&message=psst");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(parse_flat_json(r.body).at("private"), "true");
    EXPECT_EQ(parse_flat_json(r.body).at("message"), "psst");

    auto to_b = next_message(*b);
    ASSERT_TRUE(to_b);
    EXPECT_EQ(to_b->selector, "cmd.chat");
    EXPECT_EQ(to_b->json().at("message"), "psst");
    EXPECT_EQ(to_b->json().at("fromUserId"), "u-alice");
    EXPECT_EQ(to_b->json().at("private"), "true");

    // The sender sees it once per subscription of the target (one, on n2).
    auto echo = next_message(*a);
    ASSERT_TRUE(echo) << "no echo to the sender";
    EXPECT_EQ(echo->selector, "cmd.chat");
    EXPECT_EQ(echo->json().at("message"), "@" + b_name + ": psst");
    EXPECT_EQ(echo->json().at("private"), "true");
    EXPECT_FALSE(next_message(*a, 300ms)) << "one echo only";
}

TEST_F(chat_cluster, an_unknown_sender_is_404_on_either_node) {
    for (redis_node* n : {n1.get(), n2.get()}) {
        auto r = post(n->port(), "/channels/home/chat", "from=nope&message=hi");
        EXPECT_EQ(r.status, 404);
        EXPECT_NE(r.body.find("\"errorCode\":\"NotFound\""), std::string::npos) << r.body;
        EXPECT_NE(r.body.find("Subscription nope does not exist"), std::string::npos) << r.body;
        r = post(n->port(), "/channels/home/raw", "from=nope&selector=cmd.x");
        EXPECT_EQ(r.status, 404);
    }
    // A known sender without a target: 400, after the lookup.
    auto r = post(n2->port(), "/api/PostChatToChannel", "from=" + form_encode(a->id()));
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("channel or toUserId is required"), std::string::npos) << r.body;
    EXPECT_FALSE(next_message(*b, 200ms)) << "nothing was sent";
}

TEST_F(chat_cluster, deferred_answers_keep_the_connection_alive_in_order) {
    // Two requests pipelined on one connection, both waiting on Redis (neither
    // sender is held by n2), then a third once they are answered.
    test_client c(n2->port());
    const std::string from = "from=" + form_encode(a->id());
    c.send(post_request("/channels/home/chat", from + "&message=one") +
           post_request("/channels/home/chat", "from=nope&message=two"));
    auto r1 = c.read_response();
    ASSERT_TRUE(r1);
    auto r2 = c.read_response();
    ASSERT_TRUE(r2);
    EXPECT_EQ(r1->status, 200);
    EXPECT_EQ(parse_flat_json(r1->body).at("message"), "one");
    EXPECT_EQ(r2->status, 404);
    c.send(post_request("/channels/home/chat", from + "&message=three"));
    auto r3 = c.read_response();
    ASSERT_TRUE(r3);
    EXPECT_EQ(r3->status, 200);
    EXPECT_EQ(parse_flat_json(r3->body).at("message"), "three");
    for (const char* m : {"one", "three"}) {
        auto f = next_message(*b);
        ASSERT_TRUE(f);
        EXPECT_EQ(f->json().at("message"), m);
    }
}

// Pipelined requests that each wait on Redis are answered in order, the ones
// behind them too (http_test has the engine-level case).
TEST_F(chat_cluster, three_pipelined_requests_waiting_on_redis_are_all_answered) {
    test_client c(n2->port());
    const std::string from = "from=" + form_encode(a->id());
    c.send(post_request("/channels/home/chat", from + "&message=one") +
           post_request("/channels/home/chat", "from=nope&message=two") +
           post_request("/channels/home/chat", from + "&message=three"));
    for (int status : {200, 404, 200}) {
        auto r = c.read_response();
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, status);
    }
}

}  // namespace
