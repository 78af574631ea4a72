// ServiceStack Server Events over real sockets: every endpoint, system
// message and notify target, the event order, expiry, the IP check, limits,
// hooks and bad input (PROTOCOL.md).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "ssepush/proto/url.h"
#include "support/events_server.h"
#include "support/sse_client.h"

using namespace ssepush::testing;
using namespace std::chrono_literals;
namespace events = ssepush::events;
namespace eng = ssepush::engine;

namespace {

test_client::response http(std::uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body = {}, const std::string& headers = {},
                           const char* src = nullptr) {
    test_client c(port, src);
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: test.local\r\n" + headers;
    if (!body.empty() || method == "POST")
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    c.send(req);
    auto r = c.read_response();
    return r ? *r : test_client::response{};
}

bool is_id(const std::string& id) {
    if (id.size() != 20) return false;
    for (char ch : id)
        if (!std::isalnum(static_cast<unsigned char>(ch))) return false;
    return true;
}

// --- connect ----------------------------------------------------------------------

TEST(events_connect, on_connect_is_first_and_carries_every_field_as_a_string) {
    events_server s;
    s.start();
    sse_client a(s.port(), "channels=home,lobby");
    ASSERT_EQ(a.status(), 200);
    EXPECT_NE(a.head().find("Content-Type: text/event-stream\r\n"), std::string::npos);
    EXPECT_NE(a.head().find("Cache-Control: no-cache\r\n"), std::string::npos);
    EXPECT_NE(a.head().find("X-Accel-Buffering: no\r\n"), std::string::npos);
    auto f = a.next();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->selector, "cmd.onConnect");
    EXPECT_FALSE(f->has_channel);
    EXPECT_GT(std::stoull(f->id), 0u);
    // Every value is a JSON string (PROTOCOL 3.1).
    EXPECT_EQ(f->body.find(":true"), std::string::npos);
    EXPECT_EQ(f->body.find(":1"), std::string::npos);
    auto j = f->json();
    EXPECT_TRUE(is_id(j["id"]));
    const std::string base = "http://test.local:" + std::to_string(s.port());
    EXPECT_EQ(j["heartbeatUrl"], base + "/event-heartbeat?id=" + j["id"]);
    EXPECT_EQ(j["unRegisterUrl"], base + "/event-unregister?id=" + j["id"]);
    EXPECT_EQ(j["updateSubscriberUrl"], base + "/event-subscribers/" + j["id"]);
    EXPECT_EQ(j["heartbeatIntervalMs"], "10000");
    EXPECT_EQ(j["idleTimeoutMs"], "30000");
    EXPECT_EQ(j["isAuthenticated"], "false");
    EXPECT_EQ(j["channels"], "home,lobby");
    EXPECT_EQ(j["userId"].rfind("-", 0), 0u);
    EXPECT_EQ(j["displayName"], "user" + j["userId"].substr(1));
    EXPECT_GT(std::stoll(j["createdAt"]), 1'700'000'000'000LL);
    EXPECT_EQ(j["profileUrl"].rfind("data:image/svg+xml,", 0), 0u);
    // Then its own joins, in channel order.
    auto j1 = a.next(), j2 = a.next();
    ASSERT_TRUE(j1 && j2);
    EXPECT_EQ(j1->data.substr(0, 17), "home@cmd.onJoin {");
    EXPECT_EQ(j2->channel, "lobby");
    EXPECT_EQ(j2->selector, "cmd.onJoin");
    EXPECT_EQ(j2->json()["displayName"], j["displayName"]);
    EXPECT_EQ(j2->json().count("id"), 0u) << "Meta never carries the subscription id";
    EXPECT_GT(std::stoull(j2->id), std::stoull(j1->id)) << "ids increase";
}

TEST(events_connect, no_channels_means_the_plain_channel_star_and_channel_is_read_before_channels) {
    events_server s;
    s.start();
    sse_client a(s.port(), "");
    ASSERT_TRUE(a.connect());
    EXPECT_EQ(a.info().at("channels"), "*");
    sse_client b(s.port(), "channel=x&channels=y,z");
    ASSERT_TRUE(b.connect());
    EXPECT_EQ(b.info().at("channels"), "x,y,z");
    // `*` is a channel like any other: a notify to "home" does not reach it.
    s.ev().notify_channel("home", "cmd.chat", "{}");
    s.ev().notify_channel("*", "cmd.chat", R"({"to":"star"})");
    auto f = a.wait_for("cmd.chat");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->channel, "*");
    EXPECT_EQ(f->json()["to"], "star");
}

TEST(events_connect, urls_follow_forwarded_headers_and_base_url) {
    events_server s;
    s.start();
    sse_client a(s.port(), "channels=a", nullptr,
                 "X-Forwarded-Proto: https\r\nX-Forwarded-Host: push.example.com\r\n");
    ASSERT_TRUE(a.connect());
    EXPECT_EQ(a.info().at("heartbeatUrl").rfind("https://push.example.com/event-heartbeat?id=", 0),
              0u);
    events::options o;
    o.base_url = "https://edge.example.net/sse";
    o.heartbeat_path = "";  // disabled: absent from onConnect, 404 on the wire
    events_server s2(o);
    s2.start();
    sse_client b(s2.port(), "channels=a");
    ASSERT_TRUE(b.connect());
    EXPECT_EQ(b.info().count("heartbeatUrl"), 0u);
    EXPECT_EQ(
        b.info().at("unRegisterUrl").rfind("https://edge.example.net/sse/event-unregister?id=", 0),
        0u);
    EXPECT_EQ(http(s2.port(), "POST", "/event-heartbeat?id=" + b.id()).status, 404);
}

// --- joins and leaves -------------------------------------------------------------

TEST(events_joins, a_second_client_is_announced_and_its_leave_too) {
    events_server s;
    s.start();
    sse_client a(s.port(), "channels=A");
    ASSERT_TRUE(a.connect());
    ASSERT_TRUE(a.wait_for("cmd.onJoin"));  // its own
    sse_client b(s.port(), "channels=A,B");
    ASSERT_TRUE(b.connect());
    auto join = a.wait_for("cmd.onJoin");
    ASSERT_TRUE(join);
    EXPECT_EQ(join->channel, "A");
    EXPECT_EQ(join->json()["displayName"], b.info().at("displayName"));
    // b unregisters (as TS stop() does): 200 + its Meta, a hears the leave, b's stream ends.
    auto r = http(s.port(), "POST", "/event-unregister?id=" + b.id());
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["content-type"].rfind("application/json", 0), 0u);
    EXPECT_EQ(parse_flat_json(r.body)["userId"], b.info().at("userId"));
    auto leave = a.wait_for("cmd.onLeave");
    ASSERT_TRUE(leave);
    EXPECT_EQ(leave->channel, "A");
    EXPECT_EQ(leave->json()["userId"], b.info().at("userId"));
    EXPECT_TRUE(b.ended());
    // A second unregister: 404 with ServiceStack's error body.
    r = http(s.port(), "GET", "/event-unregister?id=" + b.id());
    EXPECT_EQ(r.status, 404);
    EXPECT_NE(r.body.find("\"errorCode\":\"NotFound\""), std::string::npos);
    EXPECT_NE(r.body.find("Subscription '" + b.id() + "' does not exist"), std::string::npos);
}

TEST(events_joins, a_client_that_disconnects_is_announced_as_leaving) {
    events_server s;
    s.start();
    sse_client a(s.port(), "channels=room");
    ASSERT_TRUE(a.connect());
    std::string bid;
    {
        sse_client b(s.port(), "channels=room");
        ASSERT_TRUE(b.connect());
        bid = b.info().at("userId");
        ASSERT_TRUE(a.wait_for("cmd.onJoin"));
    }
    for (;;) {
        auto leave = a.wait_for("cmd.onLeave");
        ASSERT_TRUE(leave);
        if (leave->json()["userId"] == bid) break;
    }
    EXPECT_TRUE(s.ev().get_subscriptions_details({"room"}).size() == 1);
}

TEST(events_joins, without_notices_no_join_leave_or_update_is_sent) {
    events::options o;
    o.notify_channel_of_subscriptions = false;
    events_server s(o);
    s.start();
    sse_client a(s.port(), "channels=q");
    ASSERT_TRUE(a.connect());
    {
        sse_client b(s.port(), "channels=q");
        ASSERT_TRUE(b.connect());
        ASSERT_EQ(
            http(s.port(), "POST", "/event-subscribers/" + b.id() + "?SubscribeChannels=r").status,
            200);
    }
    s.settle();
    s.ev().notify_channel("q", "cmd.ping", "{}");
    auto f = a.next();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->selector, "cmd.ping") << "no onJoin, onUpdate or onLeave came first";
}

// --- heartbeats, IP check, expiry ----------------------------------------------------

TEST(events_heartbeat, get_and_post_pulse_and_send_on_heartbeat) {
    events_server s;
    s.start();
    sse_client a(s.port(), "channels=h");
    ASSERT_TRUE(a.connect());
    for (const char* m : {"POST", "GET"}) {
        auto r = http(s.port(), m, "/event-heartbeat?id=" + a.id());
        EXPECT_EQ(r.status, 200) << m;
        EXPECT_TRUE(r.body.empty());
        auto hb = a.wait_for("cmd.onHeartbeat");
        ASSERT_TRUE(hb) << m;
        EXPECT_FALSE(hb->has_channel);
        EXPECT_EQ(hb->json()["userId"], a.info().at("userId"));
    }
}

TEST(events_heartbeat, unknown_ids_get_404_with_the_reason_phrase) {
    events_server s;
    s.start();
    for (std::string id : {"nope", "AAAAAAAAAAAAAAAAAAAA", "", "%00%0d%0a"}) {
        test_client c(s.port());
        c.send("POST /event-heartbeat?id=" + id +
               " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        auto r = c.read_response();
        ASSERT_TRUE(r) << id;
        EXPECT_EQ(r->status, 404);
        EXPECT_NE(r->head.find(" does not exist\r\n"), std::string::npos) << r->head;
        EXPECT_TRUE(r->body.empty()) << "a heartbeat's 404 has no body (PROTOCOL 1.2)";
        EXPECT_EQ(r->head.find("\r\n\r\n"), r->head.size() - 4) << "no header injection";
    }
}

TEST(events_heartbeat, another_address_is_refused_unless_the_check_is_off) {
    events_server s;
    s.start();
    sse_client a(s.port(), "channels=h", "127.0.0.1");
    ASSERT_TRUE(a.connect());
    auto r = http(s.port(), "POST", "/event-heartbeat?id=" + a.id(), {}, {}, "127.0.0.3");
    EXPECT_EQ(r.status, 403);
    EXPECT_NE(r.head.find("403 Invalid User Address"), std::string::npos);
    r = http(s.port(), "POST", "/event-unregister?id=" + a.id(), {}, {}, "127.0.0.3");
    EXPECT_EQ(r.status, 403);
    EXPECT_NE(r.body.find("is forbidden"), std::string::npos);
    r = http(s.port(), "POST", "/event-subscribers/" + a.id(), "SubscribeChannels=x",
             "Content-Type: application/x-www-form-urlencoded\r\n", "127.0.0.3");
    EXPECT_EQ(r.status, 403);
    events::options o;
    o.validate_user_address = false;
    events_server s2(o);
    s2.start();
    sse_client b(s2.port(), "channels=h", "127.0.0.1");
    ASSERT_TRUE(b.connect());
    EXPECT_EQ(http(s2.port(), "POST", "/event-heartbeat?id=" + b.id(), {}, {}, "127.0.0.3").status,
              200);
}

TEST(events_heartbeat, heartbeats_landing_on_any_shard_reach_the_owner) {
    events_server s;
    s.start();
    sse_client a(s.port(), "channels=h");
    ASSERT_TRUE(a.connect());
    // Many connections: SO_REUSEPORT puts some on each shard.
    for (int i = 0; i < 40; ++i) {
        auto r = http(s.port(), "POST", "/event-heartbeat?id=" + a.id());
        ASSERT_EQ(r.status, 200) << i;
    }
    int beats = 0;
    while (beats < 40 && a.wait_for("cmd.onHeartbeat"))
        ++beats;
    EXPECT_EQ(beats, 40);
}

TEST(events_heartbeat, every_shard_refuses_another_address_and_forgets_a_gone_subscription) {
    // A heartbeat is answered by whichever shard its connection landed on:
    // the owner itself, or another shard reading the owner's index. Many
    // connections (SO_REUSEPORT spreads them) exercise both.
    events_server s;
    s.start();
    sse_client a(s.port(), "channels=h", "127.0.0.1");
    ASSERT_TRUE(a.connect());
    for (int i = 0; i < 20; ++i) {
        auto r = http(s.port(), "POST", "/event-heartbeat?id=" + a.id(), {}, {}, "127.0.0.3");
        ASSERT_EQ(r.status, 403) << i;
        ASSERT_NE(r.head.find("403 Invalid User Address"), std::string::npos) << r.head;
    }
    ASSERT_EQ(http(s.port(), "POST", "/event-unregister?id=" + a.id()).status, 200);
    for (int i = 0; i < 20; ++i) {
        auto r = http(s.port(), "POST", "/event-heartbeat?id=" + a.id());
        ASSERT_EQ(r.status, 404) << i;
        ASSERT_TRUE(r.body.empty());
    }
}

TEST(events_expiry, a_subscription_without_heartbeat_expires_on_the_timer_and_others_hear_it) {
    events_server s({}, events_server::default_options(), true);
    s.start();
    sse_client a(s.port(), "channels=e");
    ASSERT_TRUE(a.connect());
    sse_client b(s.port(), "channels=e");
    ASSERT_TRUE(b.connect());
    ASSERT_TRUE(a.wait_for("cmd.onJoin"));
    // a pulses every 10 s (virtual); b never does.
    for (int t = 0; t < 3; ++t) {
        s.advance(10'000);
        ASSERT_EQ(http(s.port(), "POST", "/event-heartbeat?id=" + a.id()).status, 200);
        s.settle();
    }
    s.advance(1'000);  // 31 s since b connected
    auto leave = a.wait_for("cmd.onLeave");
    ASSERT_TRUE(leave);
    EXPECT_EQ(leave->json()["userId"], b.info().at("userId"));
    EXPECT_TRUE(b.ended());
    EXPECT_EQ(http(s.port(), "POST", "/event-heartbeat?id=" + b.id()).status, 404);
    EXPECT_EQ(http(s.port(), "POST", "/event-heartbeat?id=" + a.id()).status, 200);
}

// --- notify targets ---------------------------------------------------------------

TEST(events_notify, every_target_reaches_exactly_its_subscriptions) {
    events::options o;
    o.authenticate = [](const eng::exchange& ex) {
        events::identity who;
        std::string user;
        if (ssepush::proto::find_param(ex.request().query, "user", user)) {
            who.user_id = "uid-" + user;
            who.user_name = user;
            who.is_authenticated = true;
            who.session_id = "sess-" + user;
        }
        return who;
    };
    events_server s(o);
    s.start();
    sse_client alice(s.port(), "channels=a,b&user=alice");
    sse_client bob(s.port(), "channels=b&user=bob");
    sse_client anon(s.port(), "channels=a");
    for (auto* c : {&alice, &bob, &anon})
        ASSERT_TRUE(c->connect());
    EXPECT_EQ(alice.info().at("isAuthenticated"), "true");
    EXPECT_EQ(alice.info().at("userId"), "uid-alice");
    EXPECT_EQ(alice.info().at("displayName"), "alice");
    s.settle();

    auto expect_only = [&](std::vector<sse_client*> to, const std::string& tag, bool prefixed) {
        for (auto* c : {&alice, &bob, &anon}) {
            bool want = std::find(to.begin(), to.end(), c) != to.end();
            bool got = false;
            // Drain up to the marker that follows every notification.
            for (;;) {
                auto f = c->next(2000ms);
                if (!f) break;
                if (f->selector == "cmd.mark") break;
                if (f->selector == "cmd.t" && f->json()["tag"] == tag) {
                    got = true;
                    EXPECT_EQ(f->has_channel, prefixed) << tag;
                }
            }
            EXPECT_EQ(got, want) << tag << " for " << c->info().at("userId");
        }
    };
    auto mark = [&] { s.ev().notify_all("cmd.mark", "{}"); };

    s.ev().notify_all("cmd.t", R"({"tag":"all"})");
    mark();
    expect_only({&alice, &bob, &anon}, "all", false);
    s.ev().notify_channel("a", "cmd.t", R"({"tag":"chan"})");
    mark();
    expect_only({&alice, &anon}, "chan", true);
    s.ev().notify_subscription(bob.id(), "cmd.t", R"({"tag":"sub"})");
    mark();
    expect_only({&bob}, "sub", false);
    s.ev().notify_subscription(bob.id(), "cmd.t", R"({"tag":"sub-filtered"})", "a");
    mark();
    expect_only({}, "sub-filtered", false);
    s.ev().notify_user_id("uid-alice", "cmd.t", R"({"tag":"uid"})");
    mark();
    expect_only({&alice}, "uid", false);
    s.ev().notify_user_id(anon.info().at("userId"), "cmd.t", R"({"tag":"anon-uid"})");
    mark();
    expect_only({&anon}, "anon-uid", false);
    s.ev().notify_user_name("bob", "cmd.t", R"({"tag":"uname"})", "b");
    mark();
    expect_only({&bob}, "uname", false);
    s.ev().notify_session("sess-alice", "cmd.t", R"({"tag":"session"})");
    mark();
    expect_only({&alice}, "session", false);
    s.ev().notify_channel("nobody", "cmd.t", R"({"tag":"none"})");  // a silent no-op
    mark();
    expect_only({}, "none", false);
}

TEST(events_notify, null_and_string_bodies_and_bad_arguments) {
    events_server s;
    s.start();
    sse_client a(s.port(), "channels=n");
    ASSERT_TRUE(a.connect());
    s.settle();
    s.ev().notify_channel("n", "cmd.toggle$#channels", "");
    auto f = a.wait_for("cmd.toggle$#channels");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->data, "n@cmd.toggle$#channels ") << "one space even with no body";
    EXPECT_THROW(s.ev().notify_channel("n", "noselector", "{}"), std::invalid_argument);
    EXPECT_THROW(s.ev().notify_channel("a@b", "cmd.x", "{}"), std::invalid_argument);
    EXPECT_THROW(s.ev().notify_all("cmd x", "{}"), std::invalid_argument);
}

TEST(events_notify, on_connect_comes_first_even_while_the_channel_is_busy) {
    events_server s;
    s.start();
    std::atomic<bool> stop{false};
    std::thread publisher([&] {
        while (!stop.load())
            s.ev().notify_channel("busy", "cmd.tick", "{}");
    });
    for (int i = 0; i < 30; ++i) {
        sse_client c(s.port(), "channels=busy");
        auto f = c.next();
        ASSERT_TRUE(f);
        EXPECT_EQ(f->selector, "cmd.onConnect") << "connection " << i;
    }
    stop = true;
    publisher.join();
}

struct chat_message {
    long id;
    std::string text;
    bool priv;
};
void to_json(ssepush::proto::json_writer& w, const chat_message& m) {
    w.begin_object()
        .member("id", m.id)
        .member("message", m.text)
        .member("private", m.priv)
        .end_object();
}

TEST(events_notify, object_forms_serialize_through_to_json) {
    events_server s;
    s.start();
    sse_client a(s.port(), "channels=o");
    ASSERT_TRUE(a.connect());
    s.settle();
    s.ev().notify_channel("o", "cmd.chat", chat_message{7, "he said \"hi\"\n", false});
    auto f = a.wait_for("cmd.chat");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->body, R"({"id":7,"message":"he said \"hi\"\n","private":false})");
    s.ev().notify_subscription(a.id(), "cmd.announce", events::text{"arg"});
    f = a.wait_for("cmd.announce");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->body, "\"arg\"") << "a string message is a JSON string";
    s.ev().notify_all("cmd.toggle$#channels", events::null_message{});
    f = a.wait_for("cmd.toggle$#channels");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->data, "cmd.toggle$#channels ");
}

// Bad input on every endpoint: a clear 4xx, and nobody else notices.
struct bad_request_case {
    const char* name;
    std::string method, target, body, headers;
    int status;
};

class events_bad_input : public ::testing::TestWithParam<bad_request_case> {};

TEST_P(events_bad_input, gets_a_clear_4xx_and_others_are_unaffected) {
    const bad_request_case& c = GetParam();
    events::options o;
    o.max_channels_per_subscription = 8;
    events_server s(o);
    s.start();
    sse_client bystander(s.port(), "channels=calm");
    ASSERT_TRUE(bystander.connect());
    auto r = http(s.port(), c.method, c.target, c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.head << r.body;
    if (r.status == 400) {
        EXPECT_NE(r.body.find("\"message\":\""), std::string::npos)
            << "a reason is given: " << r.body;
    }
    s.ev().notify_channel("calm", "cmd.still", "{}");
    EXPECT_TRUE(bystander.wait_for("cmd.still")) << c.name;
    EXPECT_EQ(http(s.port(), "POST", "/event-heartbeat?id=" + bystander.id()).status, 200)
        << c.name;
}

const std::string k_json = "Content-Type: application/json\r\n";
const std::string k_form = "Content-Type: application/x-www-form-urlencoded\r\n";

INSTANTIATE_TEST_SUITE_P(
    every_endpoint, events_bad_input,
    ::testing::Values(
        bad_request_case{"stream_too_many_channels", "GET",
                         "/event-stream?channels=a,b,c,d,e,f,g,h,i", "", "", 400},
        bad_request_case{"stream_at_in_channel", "GET", "/event-stream?channels=a@b", "", "", 400},
        bad_request_case{"stream_control_char", "GET", "/event-stream?channel=%0d%0a", "", "", 400},
        bad_request_case{"stream_long_channel", "GET",
                         "/event-stream?channels=" + std::string(200, 'c'), "", "", 400},
        bad_request_case{"heartbeat_no_id", "POST", "/event-heartbeat", "", "", 404},
        bad_request_case{"heartbeat_garbage_id", "GET", "/event-heartbeat?id=%FF%FE%00", "", "",
                         404},
        bad_request_case{"heartbeat_long_id", "GET",
                         "/event-heartbeat?id=" + std::string(5000, 'A'), "", "", 404},
        bad_request_case{"unregister_no_id", "POST", "/event-unregister", "", "", 404},
        bad_request_case{"unregister_bad_json", "POST", "/event-unregister", "{\"id\":", k_json,
                         400},
        bad_request_case{"subscribers_bad_json", "POST", "/event-subscribers", "[1,2", k_json, 400},
        bad_request_case{"api_subscribers_not_an_object", "POST", "/api/GetEventSubscribers",
                         "[\"A\"]", k_json, 400},
        bad_request_case{"update_unknown_id", "POST", "/event-subscribers/nope",
                         "SubscribeChannels=a", k_form, 404},
        bad_request_case{"update_bad_json", "POST", "/api/UpdateEventSubscriber", "{{{", k_json,
                         400},
        bad_request_case{"update_at_channel", "POST", "/api/UpdateEventSubscriber",
                         "{\"id\":\"x\",\"subscribeChannels\":[\"a@b\"]}", k_json, 400},
        bad_request_case{"update_too_many", "POST", "/json/reply/UpdateEventSubscriber",
                         "SubscribeChannels=1,2,3,4,5,6,7,8,9", k_form, 400},
        bad_request_case{"update_no_id", "POST", "/api/UpdateEventSubscriber",
                         "{\"subscribeChannels\":[\"a\"]}", k_json, 404}),
    [](const auto& info) { return std::string(info.param.name); });

// --- subscribers and updates ---------------------------------------------------------

TEST(events_subscribers, lists_meta_of_channel_subscribers_deduplicated) {
    events_server s;
    s.start();
    sse_client a(s.port(), "channels=A");
    sse_client ab(s.port(), "channels=A,B");
    sse_client b(s.port(), "channels=B");
    for (auto* c : {&a, &ab, &b})
        ASSERT_TRUE(c->connect());
    auto count = [](const std::string& body) {
        std::size_t n = 0;
        for (std::size_t p = body.find("\"userId\""); p != std::string::npos;
             p = body.find("\"userId\"", p + 1))
            ++n;
        return n;
    };
    auto r = http(s.port(), "GET", "/event-subscribers?channel=A");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(count(r.body), 2u);
    EXPECT_EQ(r.body.find("\"id\""), std::string::npos) << "no subscription ids";
    EXPECT_EQ(count(http(s.port(), "GET", "/api/GetEventSubscribers?channels=A%2CB").body), 3u);
    EXPECT_EQ(count(http(s.port(), "GET", "/json/reply/GetEventSubscribers?Channels=B").body), 2u);
    EXPECT_EQ(count(http(s.port(), "POST", "/api/GetEventSubscribers", R"({"channels":["A","B"]})",
                         "Content-Type: application/json\r\n")
                        .body),
              3u);
    EXPECT_EQ(count(http(s.port(), "GET", "/event-subscribers").body), 3u) << "all";
    EXPECT_EQ(http(s.port(), "GET", "/event-subscribers?channel=nobody").body, "[]");
}

TEST(events_update, subscribe_and_unsubscribe_in_every_encoding_with_on_update) {
    events_server s;
    s.start();
    sse_client watcher(s.port(), "channels=A,B,C");
    ASSERT_TRUE(watcher.connect());
    sse_client c(s.port(), "channels=A");
    ASSERT_TRUE(c.connect());
    s.settle();
    // Form body to /event-subscribers/{id} (jQuery).
    auto r = http(s.port(), "POST", "/event-subscribers/" + c.id(), "SubscribeChannels=B%2CC",
                  "Content-Type: application/x-www-form-urlencoded\r\n");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "{}");
    auto up = c.wait_for("cmd.onUpdate");
    ASSERT_TRUE(up);
    EXPECT_EQ(up->json()["channels"], "A,B,C");
    EXPECT_EQ(s.ev().get_subscription_info(c.id())->channels,
              (std::vector<std::string>{"A", "B", "C"}));
    s.ev().notify_channel("B", "cmd.chat", R"({"m":"to B"})");
    auto m = c.wait_for("cmd.chat");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->channel, "B");
    // JSON body to /api/UpdateEventSubscriber (TS client).
    r = http(s.port(), "POST", "/api/UpdateEventSubscriber",
             R"({"id":")" + c.id() + R"(","unsubscribeChannels":["B","C"]})",
             "Content-Type: application/json\r\n");
    EXPECT_EQ(r.status, 200);
    up = c.wait_for("cmd.onUpdate");
    ASSERT_TRUE(up);
    EXPECT_EQ(up->json()["channels"], "A");
    // The watcher on B heard both rounds (old and new channels are told).
    int updates_on_b = 0;
    while (auto f = watcher.wait_for("cmd.onUpdate", 500ms))
        if (f->channel == "B") ++updates_on_b;
    EXPECT_EQ(updates_on_b, 2);
    s.ev().notify_channel("B", "cmd.chat", R"({"m":"gone"})");
    s.ev().notify_channel("A", "cmd.chat", R"({"m":"still"})");
    m = c.wait_for("cmd.chat");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->json()["m"], "still");
    // Query string, JSON string list, and nothing to do.
    EXPECT_EQ(http(s.port(), "POST",
                   "/json/reply/UpdateEventSubscriber?id=" + c.id() + "&SubscribeChannels=D")
                  .status,
              200);
    EXPECT_EQ(http(s.port(), "POST", "/api/UpdateEventSubscriber",
                   R"({"id":")" + c.id() + R"(","subscribeChannels":"E,F"})",
                   "Content-Type: application/json\r\n")
                  .status,
              200);
    EXPECT_EQ(http(s.port(), "POST", "/event-subscribers/" + c.id()).body, "{}");
    s.settle();
    EXPECT_EQ(s.ev().get_subscription_info(c.id())->channels,
              (std::vector<std::string>{"A", "D", "E", "F"}));
    // Unknown id: 404 JSON; bad JSON: 400.
    r = http(s.port(), "POST", "/event-subscribers/AAAAAAAAAAAAAAAAAAAA", "SubscribeChannels=x",
             "Content-Type: application/x-www-form-urlencoded\r\n");
    EXPECT_EQ(r.status, 404);
    EXPECT_NE(r.body.find("NotFound"), std::string::npos);
    r = http(s.port(), "POST", "/api/UpdateEventSubscriber", "{\"id\": oops",
             "Content-Type: application/json\r\n");
    EXPECT_EQ(r.status, 400);
}

// --- auth, limits, CORS, hooks -------------------------------------------------------

TEST(events_auth, limit_to_authenticated_users_answers_401) {
    events::options o;
    o.limit_to_authenticated_users = true;
    o.authenticate = [](const eng::exchange& ex) {
        events::identity who;
        if (ex.request().find("authorization") == "Bearer good") {
            who.is_authenticated = true;
            who.user_id = "7";
            who.user_name = "seven";
        } else if (ex.request().find("authorization") == "Bearer bad") {
            who.refused = "token expired";
        }
        return who;
    };
    events_server s(o);
    s.start();
    sse_client anon(s.port(), "channels=x");
    EXPECT_EQ(anon.status(), 401);
    EXPECT_NE(anon.head().find("WWW-Authenticate: Basic realm=\"Auth Required\""),
              std::string::npos);
    sse_client bad(s.port(), "channels=x", nullptr, "Authorization: Bearer bad\r\n");
    EXPECT_EQ(bad.status(), 401);
    EXPECT_NE(bad.error_body().find("token expired"), std::string::npos) << bad.error_body();
    sse_client ok(s.port(), "channels=x", nullptr, "Authorization: Bearer good\r\n");
    ASSERT_TRUE(ok.connect());
    EXPECT_EQ(ok.info().at("isAuthenticated"), "true");
    EXPECT_EQ(ok.info().at("userId"), "7");
    // The subscribers list is not limited (as in ServiceStack).
    EXPECT_EQ(http(s.port(), "GET", "/event-subscribers?channel=x").status, 200);
}

TEST(events_limits, bad_channel_lists_get_400_and_others_are_unaffected) {
    events::options o;
    o.max_channels_per_subscription = 3;
    o.max_channel_name_length = 16;
    events_server s(o);
    s.start();
    sse_client bystander(s.port(), "channels=ok");
    ASSERT_TRUE(bystander.connect());
    for (const std::string& q :
         std::vector<std::string>{"channels=a,b,c,d", "channels=a%40b",
                                  "channels=" + std::string(17, 'x'), "channels=a%01b"}) {
        sse_client c(s.port(), q);
        EXPECT_EQ(c.status(), 400) << q;
        EXPECT_NE(c.error_body().find("ArgumentException"), std::string::npos) << q;
    }
    auto r = http(s.port(), "POST", "/event-subscribers/" + bystander.id(),
                  "SubscribeChannels=a,b,c", "Content-Type: application/x-www-form-urlencoded\r\n");
    EXPECT_EQ(r.status, 400) << "would make 4 channels";
    s.ev().notify_channel("ok", "cmd.still", "{}");
    EXPECT_TRUE(bystander.wait_for("cmd.still"));
}

TEST(events_cors, configured_origins_get_credentials_and_preflights) {
    events::options o;
    o.cors_origins = {"https://app.example.com"};
    events_server s(o);
    s.start();
    auto r = http(s.port(), "OPTIONS", "/api/UpdateEventSubscriber", {},
                  "Origin: https://app.example.com\r\nAccess-Control-Request-Method: POST\r\n"
                  "Access-Control-Request-Headers: content-type\r\n");
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(r.headers["access-control-allow-origin"], "https://app.example.com");
    EXPECT_EQ(r.headers["access-control-allow-credentials"], "true");
    EXPECT_EQ(r.headers["access-control-allow-headers"], "content-type");
    sse_client a(s.port(), "channels=c", nullptr, "Origin: https://app.example.com\r\n");
    ASSERT_TRUE(a.connect());
    EXPECT_NE(a.head().find("Access-Control-Allow-Origin: https://app.example.com\r\n"),
              std::string::npos);
    r = http(s.port(), "POST", "/event-heartbeat?id=" + a.id(), {},
             "Origin: https://app.example.com\r\n");
    EXPECT_EQ(r.headers["access-control-allow-origin"], "https://app.example.com");
    r = http(s.port(), "GET", "/event-subscribers", {}, "Origin: https://evil.example.com\r\n");
    EXPECT_EQ(r.headers.count("access-control-allow-origin"), 0u);
    EXPECT_EQ(http(s.port(), "OPTIONS", "/event-stream", {}, "Origin: https://evil.example.com\r\n")
                  .status,
              403);
}

TEST(events_hooks, hooks_run_in_order_and_shape_what_clients_see) {
    std::atomic<int> unsubscribed{0}, heartbeats{0}, updates{0};
    events::options o;
    o.on_init = [](const eng::exchange& ex) { return ex.request().find("x-refuse").empty(); };
    o.on_created = [](events::subscription& sub, const eng::exchange&) {
        sub.meta().set("nickname", "nick-" + std::string(sub.display_name()));
        sub.connect_args().set("email", "me@example.com");
        sub.server_args().set("secret", "s");
    };
    o.on_connect = [](events::subscription&, events::string_map& args) {
        args.set("extra", "yes");
    };
    o.on_subscribe = [](events::subscription& sub) { sub.publish("cmd.welcome", R"({"hi":1})"); };
    o.on_unsubscribe = [&](events::subscription&) { ++unsubscribed; };
    o.on_heartbeat = [&](events::subscription&) { ++heartbeats; };
    o.on_update = [&](events::subscription&) { ++updates; };
    events_server s(o);
    s.start();
    sse_client refused(s.port(), "channels=h", nullptr, "X-Refuse: 1\r\n");
    EXPECT_EQ(refused.status(), 403);
    sse_client a(s.port(), "channels=h");
    ASSERT_TRUE(a.connect());
    EXPECT_EQ(a.info().at("email"), "me@example.com");
    EXPECT_EQ(a.info().at("extra"), "yes");
    EXPECT_EQ(a.info().at("nickname"), "nick-" + a.info().at("displayName"));
    EXPECT_EQ(a.info().count("secret"), 0u);
    auto w = a.next();
    ASSERT_TRUE(w);
    EXPECT_EQ(w->selector, "cmd.welcome") << "on_subscribe's message comes before the joins";
    auto j = a.next();
    ASSERT_TRUE(j);
    EXPECT_EQ(j->selector, "cmd.onJoin");
    EXPECT_EQ(j->json()["nickname"], "nick-" + a.info().at("displayName"));
    EXPECT_EQ(s.ev().get_subscription_info(a.id())->server_args.get("secret") != nullptr, true);
    ASSERT_EQ(http(s.port(), "POST", "/event-heartbeat?id=" + a.id()).status, 200);
    ASSERT_EQ(
        http(s.port(), "POST", "/event-subscribers/" + a.id() + "?SubscribeChannels=z").status,
        200);
    ASSERT_EQ(http(s.port(), "POST", "/event-unregister?id=" + a.id()).status, 200);
    s.settle();
    EXPECT_EQ(heartbeats.load(), 1);
    EXPECT_EQ(updates.load(), 1);
    EXPECT_EQ(unsubscribed.load(), 1);
}

// --- reset, stop, queries --------------------------------------------------------------

TEST(events_admin, reset_closes_streams_and_forgets_everyone) {
    events_server s;
    s.start();
    sse_client a(s.port(), "channels=r");
    ASSERT_TRUE(a.connect());
    s.ev().reset();
    EXPECT_TRUE(a.ended());
    EXPECT_EQ(http(s.port(), "POST", "/event-heartbeat?id=" + a.id()).status, 404);
    EXPECT_TRUE(s.ev().get_subscriptions_details({}).empty());
    sse_client b(s.port(), "channels=r");
    EXPECT_TRUE(b.connect()) << "new streams are welcome after a reset";
}

TEST(events_admin, stop_refuses_streams_until_start) {
    events_server s;
    s.start();
    sse_client a(s.port(), "channels=r");
    ASSERT_TRUE(a.connect());
    s.ev().stop();
    EXPECT_TRUE(a.ended());
    sse_client refused(s.port(), "channels=r");
    EXPECT_EQ(refused.status(), 503);
    s.ev().start();
    sse_client b(s.port(), "channels=r");
    EXPECT_TRUE(b.connect());
}

TEST(events_admin, an_application_route_registers_streams_itself) {
    events::options o;
    o.stream_path = "";  // only the application's route opens streams
    events_server s(o);
    s.srv().route(eng::method_set::of({ssepush::proto::method::get}), "/app/live",
                  [&s](eng::exchange& ex) {
                      if (ex.request().find("x-token") != "let-me-in")
                          return ex.respond(401, "text/plain", "no token\n");
                      s.ev().register_stream(ex);
                  });
    s.start();
    EXPECT_EQ(sse_client(s.port(), "channels=x").status(), 404);
    EXPECT_EQ(sse_client(s.port(), "channels=x", nullptr, {}, "/app/live").status(), 401);
    sse_client a(s.port(), "channels=x", nullptr, "X-Token: let-me-in\r\n", "/app/live");
    ASSERT_TRUE(a.connect());
    EXPECT_EQ(a.info().at("channels"), "x");
    ASSERT_TRUE(a.wait_for("cmd.onJoin"));
}

TEST(events_admin, queries_and_channel_changes_through_the_cpp_api) {
    events_server s;
    s.start();
    sse_client a(s.port(), "channels=q1");
    ASSERT_TRUE(a.connect());
    s.settle();
    auto info = s.ev().get_subscription_info(a.id());
    ASSERT_TRUE(info);
    EXPECT_EQ(info->user_address, "127.0.0.1");
    EXPECT_EQ(s.ev().get_subscription_infos_by_user_id(info->user_id).size(), 1u);
    s.ev().subscribe_to_channels(a.id(), {"q2"});
    ASSERT_TRUE(a.wait_for("cmd.onUpdate"));
    s.ev().notify_channel("q2", "cmd.x", "{}");
    ASSERT_TRUE(a.wait_for("cmd.x"));
    s.ev().unregister(a.id());
    EXPECT_TRUE(a.ended());
    s.settle();
    EXPECT_FALSE(s.ev().get_subscription_info(a.id()));
    EXPECT_EQ(s.ev().next_sequence("n"), 1);
    EXPECT_EQ(s.ev().next_sequence("n"), 2);
}

TEST(events_admin, queries_from_other_threads_while_shards_change_subscriptions) {
    // Queries read each shard's indexes under its lock while the shards
    // register, update and remove subscriptions and a hook rewrites Meta.
    events::options o;
    o.notify_channel_of_subscriptions = false;
    o.on_heartbeat = [](events::subscription& sub) {
        const std::string* beats = sub.meta().get("beats");
        sub.meta().set("beats", std::to_string(beats ? std::stoi(*beats) + 1 : 1));
    };
    events_server s(o);
    s.start();
    std::atomic<int> queries{0}, broken{0};
    std::jthread reader([&](std::stop_token stop) {
        while (!stop.stop_requested()) {
            for (const auto& m : s.ev().get_subscriptions_details({}))
                if (!m.get("userId") || !m.get("channels")) ++broken;
            for (const auto& i : s.ev().get_subscriptions({"q", "r"})) {
                if (i.channels.empty() || i.meta.size() < 6) ++broken;
                if (s.ev().get_subscription_infos_by_user_id(i.user_id).size() > 1) ++broken;
            }
            ++queries;
        }
    });
    std::vector<std::unique_ptr<sse_client>> clients;
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 8; ++i) {
            clients.push_back(std::make_unique<sse_client>(s.port(), "channels=q"));
            ASSERT_TRUE(clients.back()->connect());
        }
        for (auto& c : clients) {
            s.ev().subscribe_to_channels(c->id(), {"r"});
            EXPECT_EQ(http(s.port(), "POST", "/event-heartbeat?id=" + c->id()).status, 200);
        }
        s.settle();
        for (auto& c : clients) {
            auto info = s.ev().get_subscription_info(c->id());
            ASSERT_TRUE(info);
            EXPECT_EQ(info->channels, (std::vector<std::string>{"q", "r"}));
            ASSERT_NE(info->meta.get("beats"), nullptr)
                << "what a hook writes is published when the hook returns";
            EXPECT_EQ(*info->meta.get("channels"), "q,r") << "a rewritten Meta follows channels";
            s.ev().unsubscribe_from_channels(c->id(), {"r"});
        }
        clients.erase(clients.begin(), clients.begin() + 4);  // half of them hang up
    }
    // The hang-ups reach the server in their own time.
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (s.ev().get_subscriptions({}).size() != clients.size() &&
           std::chrono::steady_clock::now() < deadline)
        s.settle();
    reader.request_stop();
    reader.join();
    EXPECT_EQ(broken.load(), 0);
    EXPECT_GT(queries.load(), 0);
    auto infos = s.ev().get_subscriptions({});
    EXPECT_EQ(infos.size(), clients.size());
    for (const auto& i : infos)
        EXPECT_EQ(i.channels, (std::vector<std::string>{"q"}));
}

}  // namespace
