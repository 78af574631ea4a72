#pragma once
// One ssepush node on the Redis provider, for tests that run several in one
// process against a real redis-server (support/redis_server.h), and the
// helpers those tests share: waiting for another thread's effect, opening a
// subscriber, reading past system notices.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "ssepush/events/redis_provider.h"
#include "ssepush/events/server_events.h"
#include "ssepush/proto/request_fields.h"
#include "ssepush/proto/url.h"
#include "support/redis_server.h"
#include "support/sse_client.h"

namespace ssepush::testing {

// Waits for a condition another thread (a shard, Redis) makes true.
template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (p()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return p();
}

// An engine server with Server Events on the Redis provider, started.
// `?user=NAME` makes the stream an authenticated user NAME with id "u-NAME";
// an `ss-id` cookie is its session. `install` adds routes before the start.
class redis_node {
public:
    struct settings {
        unsigned shards = 2;
        bool notices = true;  // onJoin / onLeave / onUpdate
        std::function<void(engine::server&, events::server_events&)> install;
    };

    explicit redis_node(const redis_server& redis) : redis_node(redis, settings{}) {}
    redis_node(const redis_server& redis, settings s) : srv_(options(s.shards)) {
        events::options eo;
        eo.notify_channel_of_subscriptions = s.notices;
        eo.authenticate = [](const engine::exchange& ex) {
            events::identity who;
            std::string user;
            if (proto::find_param(ex.request().query, "user", user) && !user.empty()) {
                who.user_id = "u-" + user;
                who.user_name = user;
                who.is_authenticated = true;
            }
            if (auto sid = proto::cookie(ex.request().find("cookie"), "ss-id"))
                who.session_id = std::string(*sid);
            return who;
        };
        auto p = events::make_redis_provider(srv_, events::parse_redis_url(redis.url()));
        redis_ = p.get();
        ev_ = std::make_unique<events::server_events>(srv_, std::move(eo), std::move(p));
        if (s.install) s.install(srv_, *ev_);
        srv_.start();
    }
    ~redis_node() { srv_.stop(); }
    redis_node(const redis_node&) = delete;
    redis_node& operator=(const redis_node&) = delete;

    // Both kinds of link are up (notifications go through Redis).
    [[nodiscard]] bool linked() const {
        const events::redis_status s = redis_->status();
        return s.subscribed && s.command_links_up == s.command_links;
    }
    [[nodiscard]] bool wait_linked() const {
        return eventually([&] { return linked(); });
    }

    [[nodiscard]] std::uint16_t port() const { return srv_.port(); }
    events::server_events& ev() { return *ev_; }
    events::redis_provider& redis() { return *redis_; }

private:
    static engine::server_options options(unsigned shards) {
        engine::server_options o;
        o.shards = shards;
        o.pin_threads = false;
        return o;
    }
    engine::server srv_;
    events::redis_provider* redis_ = nullptr;
    std::unique_ptr<events::server_events> ev_;
};

// A connected client: its onConnect read.
inline std::unique_ptr<sse_client> subscriber(std::uint16_t port, const std::string& query,
                                              const std::string& headers = {}) {
    auto c = std::make_unique<sse_client>(port, query, nullptr, headers);
    EXPECT_EQ(c->status(), 200);
    EXPECT_TRUE(c->connect());
    return c;
}

// The next frame that is not a join/leave/update/heartbeat notice.
inline std::optional<ss_frame> next_message(sse_client& c,
                                            std::chrono::milliseconds t = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + t;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        auto f = c.next(left);
        if (!f) return f;
        if (f->selector == "cmd.onJoin" || f->selector == "cmd.onLeave" ||
            f->selector == "cmd.onUpdate" || f->selector == "cmd.onHeartbeat")
            continue;
        return f;
    }
}

}  // namespace ssepush::testing
