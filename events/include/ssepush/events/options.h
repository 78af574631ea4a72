#pragma once
// What ServerEventsFeature configures (seed "Registering", PROTOCOL.md 1, 5),
// plus the limits a public edge needs. Every path can be changed; an empty
// path disables that endpoint (and its URL disappears from cmd.onConnect).
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ssepush/events/subscription.h"

namespace ssepush::engine {
class exchange;
}

namespace ssepush::events {

struct options {
    // --- paths (ServiceStack's defaults) ---
    std::string stream_path = "/event-stream";
    std::string heartbeat_path = "/event-heartbeat";
    std::string unregister_path = "/event-unregister";
    std::string subscribers_path = "/event-subscribers";
    // "<path>/{id}"; ServiceStack's UpdateEventSubscriber route.
    std::string update_subscriber_path = "/event-subscribers";
    // /api/GetEventSubscribers, /api/UpdateEventSubscriber and their
    // /json/reply/ twins: what the TypeScript and C# clients actually call.
    bool predefined_routes = true;

    // --- ServerEventsFeature ---
    bool limit_to_authenticated_users = false;  // 401 for anonymous streams
    std::chrono::milliseconds idle_timeout{30'000};
    std::chrono::milliseconds heartbeat_interval{10'000};
    bool notify_channel_of_subscriptions = true;  // onJoin / onLeave / onUpdate
    bool validate_user_address = true;  // heartbeat/unregister/update from the stream's IP only

    // --- limits ---
    unsigned max_channels_per_subscription = 64;
    unsigned max_channel_name_length = 128;

    // --- URLs in cmd.onConnect ---
    // Absolute base ("https://push.example.com"); empty: built from the request
    // (Host, and X-Forwarded-Proto / X-Forwarded-Host when trusted).
    std::string base_url;
    bool trust_forwarded_headers = true;
    std::string default_profile_url;  // empty: proto's inline SVG avatar

    // --- CORS ---
    // Exact origins allowed to call cross-origin with credentials
    // ("https://app.example.com"); "*" allows any origin (echoed back, since
    // credentials forbid a literal "*").
    std::vector<std::string> cors_origins;

    // Sent with a 401 when limit_to_authenticated_users refuses a stream.
    std::string www_authenticate = "Basic realm=\"Auth Required\"";

    // --- hooks: all run on the shard that holds the stream ---
    // Who is asking. Default: anonymous, with the session id taken from the
    // ss-id / ss-pid cookie (or query string) when present.
    std::function<identity(const engine::exchange&)> authenticate;
    // Before anything else; return false to refuse the stream (403).
    std::function<bool(const engine::exchange&)> on_init;
    // The subscription exists (identity, channels, meta) but is not registered:
    // add to meta / connect_args / server_args here.
    std::function<void(subscription&, const engine::exchange&)> on_created;
    // About to send cmd.onConnect: `connect_args` is the object it will carry.
    std::function<void(subscription&, string_map& connect_args)> on_connect;
    // Registered and cmd.onConnect sent: a welcome message sent here arrives
    // before the joins.
    std::function<void(subscription&)> on_subscribe;
    std::function<void(subscription&)> on_unsubscribe;
    std::function<void(subscription&)> on_update;
    std::function<void(subscription&)> on_heartbeat;
    // Each frame written to a subscription (costly at scale: leave empty unless needed).
    std::function<void(subscription&, std::string_view data)> on_publish;
};

}  // namespace ssepush::events
