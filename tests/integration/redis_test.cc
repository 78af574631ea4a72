// The Redis provider against a real redis-server on loopback (PROTOCOL.md 7):
// two nodes acting as one, ServiceStack's exact messages published with
// redis-cli, the records ServiceStack reads, and Redis restarting mid-stream.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ssepush/events/redis_provider.h"
#include "ssepush/events/server_events.h"
#include "ssepush/proto/redis_topic.h"
#include "ssepush/proto/request_fields.h"
#include "ssepush/proto/subscription_record.h"
#include "ssepush/proto/url.h"
#include "support/redis_node.h"

using namespace ssepush::testing;
using namespace std::chrono_literals;
namespace events = ssepush::events;
namespace eng = ssepush::engine;
namespace proto = ssepush::proto;

namespace {

test_client::response http(std::uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body = {}) {
    test_client c(port);
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: test.local\r\n";
    if (!body.empty() || method == "POST")
        req += "Content-Length: " + std::to_string(body.size()) +
               "\r\nContent-Type: application/x-www-form-urlencoded\r\n";
    req += "\r\n" + body;
    c.send(req);
    auto r = c.read_response();
    return r ? *r : test_client::response{};
}

using node = redis_node;

// Publishes a marker to everyone, through the same node (and so the same
// Redis connection) as what it is to follow.
std::string publish_marker(events::server_events& ev) {
    static int n = 0;
    const std::string marker = "\"m" + std::to_string(++n) + "\"";
    ev.notify_all("cmd.marker", marker);
    return marker;
}

// Reads `c` up to the marker: what came before it is returned (so "exactly
// once" and "nothing else" can be asserted).
std::vector<ss_frame> drain_until(sse_client& c, const std::string& marker) {
    std::vector<ss_frame> out;
    while (auto f = next_message(c)) {
        if (f->selector == "cmd.marker" && f->body == marker) return out;
        out.push_back(std::move(*f));
    }
    ADD_FAILURE() << "marker " << marker << " never arrived";
    return out;
}

// --- two nodes ----------------------------------------------------------------------

TEST(redis_nodes, every_notify_target_reaches_its_subscribers_on_either_node_once) {
    redis_server redis;
    node a(redis), b(redis);
    ASSERT_TRUE(a.wait_linked());
    ASSERT_TRUE(b.wait_linked());
    auto a1 = subscriber(a.port(), "channels=home", "Cookie: ss-id=sess-a1\r\n");
    auto b1 = subscriber(b.port(), "channels=home,lobby&user=bob", "Cookie: ss-id=sess-b1\r\n");
    const std::string b1_uid = b1->info().at("userId");
    EXPECT_EQ(b1_uid, "u-bob");

    // Published on A, delivered on both nodes exactly once.
    a.ev().notify_all("cmd.all", R"({"n":1})");
    a.ev().notify_channel("home", "cmd.home", R"({"n":2})");
    a.ev().notify_channel("lobby", "cmd.lobby", R"({"n":3})");
    a.ev().notify_subscription(b1->id(), "cmd.sub", R"({"n":4})");
    a.ev().notify_user_id(b1_uid, "cmd.uid", R"({"n":5})");
    a.ev().notify_user_name("bob", "cmd.uname", R"({"n":6})");
    a.ev().notify_session("sess-b1", "cmd.sess", R"({"n":7})");
    a.ev().notify_session("sess-a1", "cmd.sess", R"({"n":8})");
    // A channel filter: bob is not in "nowhere", so this reaches no one.
    a.ev().notify_user_id(b1_uid, "cmd.filtered", R"({"n":9})", "nowhere");
    const std::string marker = publish_marker(a.ev());

    auto got_a = drain_until(*a1, marker);
    ASSERT_EQ(got_a.size(), 3u);
    EXPECT_EQ(got_a[0].selector, "cmd.all");
    EXPECT_EQ(got_a[1].channel, "home");
    EXPECT_EQ(got_a[1].body, R"({"n":2})");
    EXPECT_EQ(got_a[2].body, R"({"n":8})");

    auto got_b = drain_until(*b1, marker);
    std::vector<std::string> bodies;
    for (auto& f : got_b)
        bodies.push_back(f.body);
    EXPECT_EQ(bodies,
              (std::vector<std::string>{R"({"n":1})", R"({"n":2})", R"({"n":3})", R"({"n":4})",
                                        R"({"n":5})", R"({"n":6})", R"({"n":7})"}));
    EXPECT_EQ(got_b[2].channel, "lobby");

    // And from B to A's subscriber.
    b.ev().notify_subscription(a1->id(), "cmd.sub", R"({"n":10})", "home");
    auto got_a2 = drain_until(*a1, publish_marker(b.ev()));
    ASSERT_EQ(got_a2.size(), 1u);
    EXPECT_EQ(got_a2[0].body, R"({"n":10})");
    EXPECT_GT(a.redis().status().published, 0u);
    EXPECT_EQ(a.redis().status().local_only, 0u);
}

TEST(redis_nodes, joins_and_leaves_name_their_channel_and_reach_the_other_node) {
    redis_server redis;
    node a(redis), b(redis);
    ASSERT_TRUE(a.wait_linked());
    ASSERT_TRUE(b.wait_linked());
    auto a1 = subscriber(a.port(), "channels=home");
    {
        auto b1 = subscriber(b.port(), "channels=home");
        // a1 hears its own join first, then b1's.
        std::optional<ss_frame> join;
        while ((join = a1->wait_for("cmd.onJoin")) &&
               join->json()["userId"] != b1->info().at("userId")) {
        }
        ASSERT_TRUE(join);
        EXPECT_EQ(join->channel, "home");
        EXPECT_EQ(join->json()["channel"], "home");  // as RedisServerEvents writes it
    }
    auto leave = a1->wait_for("cmd.onLeave");
    ASSERT_TRUE(leave);
    EXPECT_EQ(leave->json()["channel"], "home");
}

TEST(redis_nodes, subscriber_lists_and_queries_span_the_nodes) {
    redis_server redis;
    node a(redis), b(redis);
    ASSERT_TRUE(a.wait_linked());
    ASSERT_TRUE(b.wait_linked());
    auto a1 = subscriber(a.port(), "channels=home");
    auto b1 = subscriber(b.port(), "channels=home,lobby");
    auto b2 = subscriber(b.port(), "channels=lobby");
    redis_client rc(redis.port());
    ASSERT_TRUE(eventually([&] { return rc.members("sse:channel:home").size() == 2; }));

    // /event-subscribers on A lists B's subscriber too, in channel order, once.
    auto r = http(a.port(), "GET", "/event-subscribers?channels=home,lobby");
    ASSERT_EQ(r.status, 200);
    for (const auto* c : {a1.get(), b1.get(), b2.get()})
        EXPECT_NE(r.body.find("\"userId\":\"" + c->info().at("userId") + "\""), std::string::npos)
            << r.body;
    std::size_t ids = 0;
    for (std::size_t p = r.body.find("\"userId\""); p != std::string::npos;
         p = r.body.find("\"userId\"", p + 1))
        ++ids;
    EXPECT_EQ(ids, 3u) << r.body;

    // The C++ API from another thread sees every node's subscriptions.
    auto info = a.ev().get_subscription_info(b1->id());
    ASSERT_TRUE(info);
    EXPECT_EQ(info->channels, (std::vector<std::string>{"home", "lobby"}));
    EXPECT_EQ(info->display_name, b1->info().at("displayName"));
    EXPECT_EQ(a.ev().get_subscriptions({"lobby"}).size(), 2u);
    EXPECT_EQ(a.ev().get_subscriptions({}).size(), 3u);
    EXPECT_EQ(a.ev().get_subscription_infos_by_user_id(b2->info().at("userId")).size(), 1u);
    EXPECT_FALSE(a.ev().get_subscription_info("NoSuchSubscription00"));
}

TEST(redis_nodes, heartbeat_update_and_unregister_through_the_other_node) {
    redis_server redis;
    node a(redis), b(redis);
    ASSERT_TRUE(a.wait_linked());
    ASSERT_TRUE(b.wait_linked());
    auto a1 = subscriber(a.port(), "channels=lobby");
    auto b1 = subscriber(b.port(), "channels=home,lobby");
    const std::string id = b1->id();
    redis_client rc(redis.port());
    ASSERT_TRUE(eventually([&] { return rc.score("sse:ids", id).has_value(); }));
    const long double before = *rc.score("sse:ids", id);

    // Heartbeat on A for B's subscription: B pulses it, the score moves.
    auto hb = http(a.port(), "POST", "/event-heartbeat?id=" + id);
    EXPECT_EQ(hb.status, 200);
    auto beat = b1->wait_for("cmd.onHeartbeat");
    ASSERT_TRUE(beat);
    EXPECT_EQ(beat->json()["userId"], b1->info().at("userId"));
    EXPECT_GE(*rc.score("sse:ids", id), before);
    EXPECT_EQ(http(a.port(), "POST", "/event-heartbeat?id=NoSuchSubscription00").status, 404);

    // Update on A: B changes the channels, Redis has them, notices go out.
    auto up = http(a.port(), "POST", "/event-subscribers/" + id,
                   "subscribeChannels=news&unsubscribeChannels=home");
    EXPECT_EQ(up.status, 200) << up.body;
    ASSERT_TRUE(b1->wait_for("cmd.onUpdate"));
    ASSERT_TRUE(eventually([&] {
        auto news = rc.members("sse:channel:news");
        auto home = rc.members("sse:channel:home");
        return news.size() == 1 && news[0] == id && home.empty();
    }));
    a.ev().notify_channel("news", "cmd.headline", R"("extra")");
    auto headline = next_message(*b1);
    ASSERT_TRUE(headline);
    EXPECT_EQ(headline->channel, "news");
    EXPECT_EQ(headline->body, R"("extra")");

    // Unregister on A: B closes the stream, lobby hears the leave, Redis forgets it.
    auto un = http(a.port(), "POST", "/event-unregister", "id=" + id);
    EXPECT_EQ(un.status, 200);
    EXPECT_NE(un.body.find("\"userId\""), std::string::npos) << un.body;
    EXPECT_TRUE(b1->ended());
    auto leave = a1->wait_for("cmd.onLeave");
    ASSERT_TRUE(leave);
    EXPECT_EQ(leave->json()["userId"], b1->info().at("userId"));
    EXPECT_TRUE(eventually([&] { return !rc.get("sse:id:" + id).has_value(); }));
    EXPECT_FALSE(rc.score("sse:ids", id).has_value());
    EXPECT_EQ(http(a.port(), "POST", "/event-unregister", "id=" + id).status, 404);
}

TEST(redis_nodes, stopping_a_node_removes_only_its_own_subscriptions_and_reset_removes_all) {
    redis_server redis;
    node a(redis), b(redis);
    ASSERT_TRUE(a.wait_linked());
    ASSERT_TRUE(b.wait_linked());
    auto a1 = subscriber(a.port(), "channels=home");
    auto b1 = subscriber(b.port(), "channels=home");
    redis_client rc(redis.port());
    ASSERT_TRUE(eventually([&] { return rc.members("sse:channel:home").size() == 2; }));

    // stop() returns once its removals are in Redis: no waiting needed here.
    a.ev().stop();
    EXPECT_TRUE(a1->ended());
    EXPECT_FALSE(rc.get("sse:id:" + a1->id()));
    EXPECT_FALSE(rc.score("sse:ids", a1->id()));
    EXPECT_TRUE(rc.get("sse:id:" + b1->id()));
    EXPECT_EQ(rc.members("sse:channel:home"), std::vector<std::string>{b1->id()});

    // reset() is ServiceStack's Reset: every node's records go, sequences stay.
    b.ev().reset();
    EXPECT_TRUE(b1->ended());
    EXPECT_TRUE(eventually([&] {
        auto ids = rc.run({"EXISTS", "sse:ids", "sse:id:" + b1->id(), "sse:channel:home"});
        return ids && ids->integer == 0;
    }));
    EXPECT_TRUE(rc.get("sse:seq:anonUser").has_value());
}

// --- ServiceStack interop -------------------------------------------------------------

TEST(redis_interop, messages_published_with_redis_cli_reach_subscribers) {
    redis_server redis;
    node a(redis);
    ASSERT_TRUE(a.wait_linked());
    auto c = subscriber(a.port(), "channels=home", "Cookie: ss-id=sess1\r\n");
    const std::string id = c->id();
    const std::string uid = c->info().at("userId");
    // The exact strings ServiceStack's RedisServerEvents publishes.
    for (const std::string& msg :
         {std::string("CTRL:PULSE"), std::string("notify.all cmd.announce \"all\""),
          std::string("notify.channel.home cmd.chat {\"message\":\"hi\"}"),
          std::string("notify.channel.other cmd.chat {\"message\":\"not for us\"}"),
          "notify.subscription." + id + " cmd.direct@home {\"to\":\"me\"}",
          "notify.subscription." + id + " cmd.direct@elsewhere {\"to\":\"filtered\"}",
          "notify.userid." + uid + " cmd.user {}", std::string("notify.session.sess1 cmd.session"),
          std::string("CTRL")})
        EXPECT_NE(redis.cli({"PUBLISH", "sse:topic", msg}), "") << msg;
    auto got = drain_until(*c, publish_marker(a.ev()));
    ASSERT_EQ(got.size(), 5u);
    EXPECT_EQ(got[0].selector, "cmd.announce");
    EXPECT_EQ(got[0].body, "\"all\"");
    EXPECT_EQ(got[1].channel, "home");
    EXPECT_EQ(got[1].body, "{\"message\":\"hi\"}");
    EXPECT_EQ(got[2].selector, "cmd.direct");
    EXPECT_EQ(got[2].body, "{\"to\":\"me\"}");
    EXPECT_EQ(got[3].selector, "cmd.user");
    EXPECT_EQ(got[4].selector, "cmd.session");
    EXPECT_EQ(got[4].body, "");

    // Commands for a held subscription.
    redis.cli({"PUBLISH", "sse:topic", "pulse.id." + id});
    ASSERT_TRUE(c->wait_for("cmd.onHeartbeat"));
    redis.cli({"PUBLISH", "sse:topic", "subscribe.id." + id + " \"news,sport\""});
    ASSERT_TRUE(c->wait_for("cmd.onUpdate"));
    redis.cli({"PUBLISH", "sse:topic", "notify.channel.sport cmd.score {\"goals\":3}"});
    auto score = next_message(*c);
    ASSERT_TRUE(score);
    EXPECT_EQ(score->channel, "sport");
    redis.cli({"PUBLISH", "sse:topic", "unregister.id." + id});
    EXPECT_TRUE(c->ended());
}

TEST(redis_interop, records_are_stored_as_servicestack_writes_and_reads_them) {
    redis_server redis;
    node a(redis);
    ASSERT_TRUE(a.wait_linked());
    auto c = subscriber(a.port(), "channels=home,lobby&user=ann", "Cookie: ss-id=sess-ann\r\n");
    const std::string id = c->id();
    redis_client rc(redis.port());
    std::optional<std::string> json;
    ASSERT_TRUE(eventually([&] { return (json = rc.get("sse:id:" + id)).has_value(); }));
    // camelCase names, createdAt as ServiceStack.Text's /Date(ms)/, the fields .NET dereferences.
    for (const char* field : {"\"subscriptionId\":\"", "\"channels\":[\"home\",\"lobby\"]",
                              "\"userId\":\"u-ann\"", "\"userName\":\"ann\"", "\"displayName\":",
                              "\"sessionId\":\"sess-ann\"", "\"userAddress\":\"127.0.0.1\"",
                              "\"isAuthenticated\":true", "\"meta\":{", "\"createdAt\":\"\\/Date("})
        EXPECT_NE(json->find(field), std::string::npos) << field << " in " << *json;
    auto rec = proto::parse_subscription_record(*json);
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->id, id);
    const auto score = rc.score("sse:ids", id);
    ASSERT_TRUE(score);
    const auto now_ticks =
        proto::ticks_from_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
    EXPECT_LT(std::fabs(double(*score - now_ticks)), 60.0 * 10'000'000) << "score in .NET ticks";
    for (const char* set : {"sse:channel:home", "sse:channel:lobby", "sse:userid:u-ann",
                            "sse:username:ann", "sse:session:sess-ann"})
        EXPECT_EQ(rc.members(set), std::vector<std::string>{id}) << set;
    // The anonymous counter is the shared one.
    auto anon = subscriber(a.port(), "channels=home");
    const long long n = std::stoll(anon->info().at("userId").substr(1));
    auto counter = rc.get("sse:seq:anonUser");
    ASSERT_TRUE(counter);
    EXPECT_LE(n, std::stoll(*counter));

    // A subscription a ServiceStack server stored (its exact JSON) is listed,
    // and a heartbeat for it here is published for that server as pulse.id.X.
    const std::string foreign = "dotNetSubscription01";
    rc.run(
        {"SET", "sse:id:" + foreign,
         R"({"createdAt":"\/Date(1719830400123)\/","channels":["home"],"userId":"-7",)"
         R"("displayName":"user7","subscriptionId":"dotNetSubscription01","userAddress":"127.0.0.1",)"
         R"("isAuthenticated":false,"meta":{"userId":"-7","isAuthenticated":"false",)"
         R"("displayName":"user7","channels":"home","createdAt":"1719830400123",)"
         R"("profileUrl":"https://example.org/p.png"},"connectArgs":{},"serverArgs":{}})"});
    rc.run({"ZADD", "sse:ids", "638554272001230000", foreign});
    rc.run({"SADD", "sse:channel:home", foreign});
    auto list = http(a.port(), "GET", "/event-subscribers?channels=home");
    EXPECT_NE(list.body.find("\"displayName\":\"user7\""), std::string::npos) << list.body;
    redis_client watcher(redis.port());
    watcher.run({"SUBSCRIBE", "sse:topic"});
    EXPECT_EQ(http(a.port(), "POST", "/event-heartbeat?id=" + foreign).status, 200);
    auto msg = watcher.next_message();
    ASSERT_TRUE(msg);
    EXPECT_EQ(*msg, "pulse.id." + foreign);
    EXPECT_GT(*rc.score("sse:ids", foreign), 638554272001230000.0L);
    auto un = http(a.port(), "POST", "/event-unregister", "id=" + foreign);
    EXPECT_EQ(un.status, 200);
    EXPECT_NE(un.body.find("\"displayName\":\"user7\""), std::string::npos) << un.body;
    EXPECT_EQ(watcher.next_message(), "unregister.id." + foreign);
}

TEST(redis_interop, subscriptions_of_a_node_that_died_are_swept_from_redis) {
    redis_server redis;
    redis_client rc(redis.port());
    // What a ServiceStack (or ssepush) node that crashed an hour ago left behind.
    const std::string ghost = "ghostSubscription001";
    const auto hour_ago =
        proto::ticks_from_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      (std::chrono::system_clock::now() - 1h).time_since_epoch())
                                      .count());
    rc.run({"SET", "sse:id:" + ghost,
            R"({"channels":["home"],"userId":"-9","displayName":"user9",)"
            R"("subscriptionId":"ghostSubscription001","userAddress":"10.0.0.9",)"
            R"("meta":{"userId":"-9"}})"});
    rc.run({"ZADD", "sse:ids", std::to_string(hour_ago), ghost});
    rc.run({"SADD", "sse:channel:home", ghost});
    rc.run({"SADD", "sse:userid:-9", ghost});
    redis_client watcher(redis.port());
    watcher.run({"SUBSCRIBE", "sse:topic"});

    node a(redis);
    ASSERT_TRUE(a.wait_linked());
    EXPECT_EQ(watcher.next_message(), "unregister.id." + ghost);
    EXPECT_TRUE(eventually([&] {
        return !rc.get("sse:id:" + ghost) && rc.members("sse:channel:home").empty() &&
               rc.members("sse:userid:-9").empty() && !rc.score("sse:ids", ghost);
    }));
    EXPECT_EQ(a.redis().status().swept, 1u);
    // A live subscription is never swept: its heartbeats keep its score fresh.
    auto c = subscriber(a.port(), "channels=home");
    ASSERT_TRUE(eventually([&] { return rc.members("sse:channel:home").size() == 1; }));
}

// --- Redis going away ------------------------------------------------------------------

TEST(redis_outage, nodes_keep_serving_then_resume_and_register_again) {
    redis_server redis;
    node a(redis), b(redis);
    ASSERT_TRUE(a.wait_linked());
    ASSERT_TRUE(b.wait_linked());
    auto a1 = subscriber(a.port(), "channels=home");
    auto b1 = subscriber(b.port(), "channels=home");
    a.ev().notify_channel("home", "cmd.before", "1");
    ASSERT_TRUE(b1->wait_for("cmd.before"));

    redis.stop();  // killed mid-stream
    ASSERT_TRUE(eventually([&] { return !a.redis().status().subscribed; }));
    // Local subscribers are still served; the other node misses it.
    a.ev().notify_channel("home", "cmd.during", "2");
    auto during = a1->wait_for("cmd.during");
    ASSERT_TRUE(during);
    EXPECT_GT(a.redis().status().local_only, 0u);
    auto c_during = subscriber(a.port(), "channels=home");  // new streams open too

    redis.start();  // empty: no persistence
    ASSERT_TRUE(a.wait_linked());
    ASSERT_TRUE(b.wait_linked());
    redis_client rc(redis.port());
    // Every held subscription is back in Redis, the one opened during the outage too.
    ASSERT_TRUE(eventually([&] { return rc.members("sse:channel:home").size() == 3; }));
    for (const auto* c : {a1.get(), b1.get(), c_during.get()})
        EXPECT_TRUE(rc.get("sse:id:" + c->id()).has_value());
    // Delivery across nodes resumes.
    b.ev().notify_channel("home", "cmd.after", "3");
    EXPECT_TRUE(a1->wait_for("cmd.after"));
    EXPECT_TRUE(c_during->wait_for("cmd.after"));
    EXPECT_TRUE(b1->wait_for("cmd.after"));
    EXPECT_GE(a.redis().status().connects, 2u * 2);  // command and pub/sub links, twice
}

TEST(redis_outage, thousands_of_subscriptions_are_stored_again_in_batches) {
    redis_server redis;
    node a(redis, {.shards = 1, .notices = false, .install = {}});  // no joins: 3 M frames
    ASSERT_TRUE(a.wait_linked());
    // More than one batch of re-registration (1,000), on one shard.
    constexpr std::size_t k_streams = 2500;
    std::vector<std::unique_ptr<sse_client>> streams;
    for (std::size_t i = 0; i < k_streams; ++i) {
        streams.push_back(std::make_unique<sse_client>(a.port(), "channels=bulk"));
        ASSERT_EQ(streams.back()->status(), 200) << i;
    }
    redis_client before(redis.port());
    ASSERT_TRUE(eventually([&] {
        auto r = before.run({"SCARD", "sse:channel:bulk"});
        return r && r->integer == static_cast<long long>(k_streams);
    }));
    redis.stop();
    ASSERT_TRUE(eventually([&] { return !a.redis().status().subscribed; }));
    redis.start();
    ASSERT_TRUE(a.wait_linked());
    redis_client rc(redis.port());
    ASSERT_TRUE(eventually([&] {
        auto ids = rc.run({"ZCARD", "sse:ids"});
        auto members = rc.run({"SCARD", "sse:channel:bulk"});
        auto keys = rc.run({"DBSIZE"});
        // sse:id:* per stream, plus sse:ids, the channel set, the userid sets, the counter.
        return ids && members && keys && ids->integer == static_cast<long long>(k_streams) &&
               members->integer == static_cast<long long>(k_streams) &&
               keys->integer >= 2 * static_cast<long long>(k_streams) + 2;
    }));
}

TEST(redis_config, urls_parse_and_bad_ones_say_why) {
    auto o = events::parse_redis_url("redis://:p%40ss@10.1.2.3:6380/2");
    EXPECT_EQ(o.host, "10.1.2.3");
    EXPECT_EQ(o.port, 6380);
    EXPECT_EQ(o.password, "p@ss");
    EXPECT_EQ(o.db, 2u);
    EXPECT_EQ(events::redis_url(o), "redis://:***@10.1.2.3:6380/2");
    auto d = events::parse_redis_url("redis://localhost");
    EXPECT_EQ(d.host, "127.0.0.1");
    EXPECT_EQ(d.port, 6379);
    EXPECT_EQ(events::parse_redis_url("redis://[::1]:7000").host, "::1");
    for (const char* bad :
         {"http://x", "redis://", "redis://host.example:6379", "redis://1.2.3.4:0",
          "redis://1.2.3.4:99999", "redis://user:pw@1.2.3.4", "redis://1.2.3.4/x"}) {
        try {
            (void)events::parse_redis_url(bad);
            ADD_FAILURE() << bad << " was accepted";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("redis URL"), std::string::npos) << e.what();
        }
    }
}

}  // namespace
