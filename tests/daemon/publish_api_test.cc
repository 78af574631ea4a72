// ssepushd's publish API and operations endpoints, in-process over loopback.
#include <gtest/gtest.h>

#include "ops.h"
#include "publish_api.h"
#include "support/events_server.h"
#include "support/sse_client.h"

using namespace ssepush::testing;
using namespace std::chrono_literals;

namespace {

const std::string k_key = "s3cret-publish-key";
const std::string k_auth = "Authorization: Bearer " + k_key + "\r\n";

test_client::response http(std::uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body = {}, const std::string& headers = k_auth) {
    test_client c(port);
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: t\r\n" + headers;
    if (method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    c.send(req + "\r\n" + body);
    auto r = c.read_response();
    return r ? *r : test_client::response{};
}

class publish_api : public ::testing::Test {
protected:
    void SetUp() override {
        ssepushd::install_publish_api(s.srv(), s.ev(), k_key);
        ssepushd::install_ops(s.srv(), s.ev());
        s.start();
    }
    events_server s;
};

TEST_F(publish_api, needs_the_key_compared_exactly) {
    EXPECT_EQ(http(s.port(), "POST", "/event-publish/all?selector=cmd.x", "{}", "").status, 401);
    auto r = http(s.port(), "POST", "/event-publish/all?selector=cmd.x", "{}",
                  "Authorization: Basic eDp5\r\n");
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.headers["www-authenticate"].find("Bearer"), std::string::npos);
    EXPECT_EQ(http(s.port(), "POST", "/event-publish/all?selector=cmd.x", "{}",
                   "Authorization: Bearer \r\n")
                  .status,
              401)
        << "an empty token is no token";
    for (std::string wrong : {k_key + "x", k_key.substr(1), std::string("S3cret-publish-key")}) {
        EXPECT_EQ(http(s.port(), "POST", "/event-publish/all?selector=cmd.x", "{}",
                       "Authorization: Bearer " + wrong + "\r\n")
                      .status,
                  403)
            << wrong;
    }
    EXPECT_EQ(http(s.port(), "POST", "/event-publish/all?selector=cmd.x", "{}",
                   "Authorization: bearer " + k_key + "\r\n")
                  .status,
              202)
        << "the scheme is case-insensitive";
}

TEST_F(publish_api, every_target_reaches_its_subscribers) {
    sse_client a(s.port(), "channels=news,sport");
    sse_client b(s.port(), "channels=sport");
    ASSERT_TRUE(a.connect());
    ASSERT_TRUE(b.connect());
    s.settle();
    auto r =
        http(s.port(), "POST", "/event-publish/channel/news?selector=cmd.headline", R"({"t":1})");
    EXPECT_EQ(r.status, 202);
    EXPECT_EQ(r.body, "{\"published\":1}\n");
    auto f = a.wait_for("cmd.headline");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->data, R"(news@cmd.headline {"t":1})");

    EXPECT_EQ(http(s.port(), "POST", "/event-publish/subscription/" + b.id() + "?selector=cmd.dm",
                   R"("hi b")")
                  .status,
              202);
    f = b.wait_for("cmd.dm");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->body, "\"hi b\"");

    EXPECT_EQ(http(s.port(), "POST",
                   "/event-publish/user/" + a.info().at("userId") + "?selector=cmd.u&channel=sport")
                  .status,
              202)
        << "an empty body is a null message";
    f = a.wait_for("cmd.u");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->data, "cmd.u ");

    EXPECT_EQ(http(s.port(), "POST", "/event-publish/all?selector=cmd.everyone", "[1,2]").status,
              202);
    EXPECT_TRUE(a.wait_for("cmd.everyone"));
    EXPECT_TRUE(b.wait_for("cmd.everyone"));
    EXPECT_GE(s.ev().stats().publishes, 4u);
}

TEST_F(publish_api, a_batch_publishes_thousands_in_one_request) {
    sse_client a(s.port(), "channels=c0");
    ASSERT_TRUE(a.connect());
    s.settle();
    std::string body = "[";
    constexpr int k_items = 3000;
    for (int i = 0; i < k_items; ++i) {
        if (i) body += ',';
        body += R"({"target":"channel","id":"c)" + std::to_string(i % 3) +
                R"(","selector":"cmd.n","message":{"i":)" + std::to_string(i) + "}}";
    }
    body += "]";
    auto r = http(s.port(), "POST", "/event-publish", body);
    EXPECT_EQ(r.status, 202) << r.body;
    EXPECT_EQ(r.body, "{\"published\":3000}\n");
    // a is on c0: every third item, in order.
    for (int i = 0; i < k_items; i += 3) {
        auto f = a.wait_for("cmd.n");
        ASSERT_TRUE(f) << i;
        ASSERT_EQ(f->body, "{\"i\":" + std::to_string(i) + "}");
    }
}

TEST_F(publish_api, bad_requests_get_a_clear_4xx_and_publish_nothing) {
    sse_client a(s.port(), "channels=z");
    ASSERT_TRUE(a.connect());
    s.settle();
    struct bad {
        std::string method, target, body;
        int status;
        std::string says;
    };
    const bad cases[] = {
        {"POST", "/event-publish/channel/z", "{}", 400, "selector"},
        {"POST", "/event-publish/channel/z?selector=nodot", "{}", 400, "selector"},
        {"POST", "/event-publish/channel/z?selector=cmd.x", "{oops", 400, "not valid JSON"},
        {"POST", "/event-publish/channel/a%40b?selector=cmd.x", "{}", 400, "@"},
        {"POST", "/event-publish/planet/mars?selector=cmd.x", "{}", 404, "unknown target"},
        {"POST", "/event-publish/user?selector=cmd.x", "{}", 400, "missing the target's id"},
        {"POST", "/event-publish", "{}", 400, "array"},
        {"POST", "/event-publish",
         R"([{"target":"channel","id":"z","selector":"cmd.ok"},{"target":"moon"}])", 400,
         "items[1]: target"},
        {"POST", "/event-publish", R"([{"target":"channel","id":"z"}])", 400,
         "items[0]: missing selector"},
        {"POST", "/event-publish", R"([{"target":"user","selector":"cmd.x"}])", 400, "missing id"},
        {"POST", "/event-publish", R"([{"target":"all","selector":"cmd.x","extra":1}])", 400,
         "unknown field"},
        {"GET", "/event-publish", "", 405, "POST"},
        {"DELETE", "/event-publish/all?selector=cmd.x", "", 405, "POST"},
    };
    for (const auto& c : cases) {
        auto r = http(s.port(), c.method, c.target, c.body);
        EXPECT_EQ(r.status, c.status) << c.target << " " << c.body << " -> " << r.body;
        EXPECT_NE(r.body.find(c.says), std::string::npos) << c.target << " -> " << r.body;
    }
    // Nothing above reached the subscriber: the next frame is this marker.
    ASSERT_EQ(http(s.port(), "POST", "/event-publish/channel/z?selector=cmd.marker", "{}").status,
              202);
    std::optional<ss_frame> f;
    do {
        f = a.next();
    } while (f && f->selector == "cmd.onJoin");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->selector, "cmd.marker");
}

TEST_F(publish_api, backends_read_whole_subscriptions) {
    sse_client a(s.port(), "channels=p,q");
    ASSERT_TRUE(a.connect());
    s.settle();
    auto r = http(s.port(), "GET", "/event-publish/subscription/" + a.id());
    EXPECT_EQ(r.status, 200);
    auto j = parse_flat_json(r.body);
    EXPECT_EQ(j["id"], a.id());
    EXPECT_EQ(j["userAddress"], "127.0.0.1");
    EXPECT_EQ(j["channels"], R"(["p","q"])");
    EXPECT_NE(r.body.find("\"serverArgs\":{"), std::string::npos);
    EXPECT_EQ(http(s.port(), "GET", "/event-publish/subscription/nope").status, 404);
    r = http(s.port(), "GET", "/event-publish/subscribers?channels=q,other");
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find(a.id()), std::string::npos);
    EXPECT_EQ(http(s.port(), "GET", "/event-publish/subscribers?channels=none").body, "[]\n");
    EXPECT_EQ(http(s.port(), "GET", "/event-publish/subscribers", {}, "").status, 401);
}

TEST_F(publish_api, health_and_metrics) {
    sse_client a(s.port(), "channels=m1,m2");
    ASSERT_TRUE(a.connect());
    s.settle();
    auto h = http(s.port(), "GET", "/health", {}, "");
    EXPECT_EQ(h.status, 200);
    EXPECT_NE(h.body.find("\"status\":\"ok\""), std::string::npos);
    auto m = http(s.port(), "GET", "/metrics", {}, "");
    EXPECT_EQ(m.status, 200);
    EXPECT_EQ(m.headers["content-type"].rfind("text/plain; version=0.0.4", 0), 0u);
    for (const char* name :
         {"ssepush_connections{shard=\"0\"}", "ssepush_streams{shard=\"1\"}",
          "ssepush_subscriptions 1", "ssepush_channels 2", "ssepush_sent_bytes_total",
          "ssepush_frames_dropped_total", "ssepush_slow_consumer_disconnects_total",
          "ssepush_publishes_total", "ssepush_heartbeats_total",
          "ssepush_loop_lag_seconds{shard=\"0\"}", "# TYPE ssepush_subscriptions gauge"}) {
        EXPECT_NE(m.body.find(name), std::string::npos) << name;
    }
    // Every sample line is "name[{labels}] value".
    std::size_t pos = 0;
    while (pos < m.body.size()) {
        std::size_t eol = m.body.find('\n', pos);
        std::string line = m.body.substr(pos, eol - pos);
        pos = eol + 1;
        if (line.empty() || line[0] == '#') continue;
        EXPECT_NE(line.find(' '), std::string::npos) << line;
        EXPECT_EQ(line.rfind("ssepush_", 0), 0u) << line;
    }
}

}  // namespace
