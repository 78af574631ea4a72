#pragma once
// ServiceStack Server Events on the ssepush engine: the IServerEvents API and
// the /event-* endpoints (PROTOCOL.md), so every ServiceStack client works
// against it unchanged.
//
//   engine::server srv(engine_opts);
//   events::server_events ev(srv, events::options{});   // registers the routes
//   srv.start();
//   ev.notify_channel("home", "cmd.chat", R"({"message":"hi"})");   // any thread
//
// Threading: every public method may be called from any thread, including
// from shards (route handlers, hooks). Notifications never block: they are
// serialized once and handed to the shards that have recipients. Queries read
// the provider's state (memory: striped maps, short locks). Admin operations
// on a subscription run on the shard that holds it, after the call returns.
//
// Frames: `id: <shard event id>` + one `data: [channel@]selector body` line,
// LF only, built once per shard and shared by every recipient there.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ssepush/engine/server.h"
#include "ssepush/events/options.h"
#include "ssepush/events/provider.h"
#include "ssepush/events/subscription.h"
#include "ssepush/proto/json.h"

namespace ssepush::events {

namespace detail {
struct state;
}

// What the object forms of notify_* take: anything that is not already JSON
// text (strings, string views and literals go to the raw-JSON overloads).
template <class T>
concept object_message = !std::is_convertible_v<const T&, std::string_view>;

class server_events {
public:
    // Registers the endpoints on `srv` (which must not be started yet).
    server_events(engine::server& srv, options opts,
                  std::unique_ptr<provider> p = make_memory_provider());
    // Stops `srv` if it is still running: its routes and hooks point here.
    ~server_events();
    server_events(const server_events&) = delete;
    server_events& operator=(const server_events&) = delete;

    // --- notify (raw JSON forms; `json` empty means a null message) ---
    void notify_all(std::string_view selector, std::string_view json);
    void notify_channel(std::string_view channel, std::string_view selector, std::string_view json);
    void notify_subscription(std::string_view id, std::string_view selector, std::string_view json,
                             std::string_view channel = {});
    void notify_user_id(std::string_view user_id, std::string_view selector, std::string_view json,
                        std::string_view channel = {});
    void notify_user_name(std::string_view user_name, std::string_view selector,
                          std::string_view json, std::string_view channel = {});
    void notify_session(std::string_view session_id, std::string_view selector,
                        std::string_view json, std::string_view channel = {});
    // Any target, e.g. one built by a provider.
    void notify(const notification& n);

    // --- object forms: the message is any T with a `to_json(proto::json_writer&,
    // const T&)` found by argument-dependent lookup (or `text` / `null_message`
    // below). The body is written into a per-thread buffer, reused from call to
    // call: after warm-up a publish allocates only the bytes it hands to the
    // shards. Strings are the raw-JSON overloads above; wrap a plain string in
    // `text{...}` to send it as a JSON string, as ServiceStack does.
    template <object_message T>
    void notify_all(std::string_view selector, const T& msg) {
        with_json(msg, [&](std::string_view j) { notify_all(selector, j); });
    }
    template <object_message T>
    void notify_channel(std::string_view channel, std::string_view selector, const T& msg) {
        with_json(msg, [&](std::string_view j) { notify_channel(channel, selector, j); });
    }
    template <object_message T>
    void notify_subscription(std::string_view id, std::string_view selector, const T& msg,
                             std::string_view channel = {}) {
        with_json(msg, [&](std::string_view j) { notify_subscription(id, selector, j, channel); });
    }
    template <object_message T>
    void notify_user_id(std::string_view user_id, std::string_view selector, const T& msg,
                        std::string_view channel = {}) {
        with_json(msg, [&](std::string_view j) { notify_user_id(user_id, selector, j, channel); });
    }
    template <object_message T>
    void notify_user_name(std::string_view user_name, std::string_view selector, const T& msg,
                          std::string_view channel = {}) {
        with_json(msg,
                  [&](std::string_view j) { notify_user_name(user_name, selector, j, channel); });
    }
    template <object_message T>
    void notify_session(std::string_view session_id, std::string_view selector, const T& msg,
                        std::string_view channel = {}) {
        with_json(msg,
                  [&](std::string_view j) { notify_session(session_id, selector, j, channel); });
    }

    // --- queries ---
    // Synchronous forms: any thread. With a shared provider (Redis), called on
    // a shard thread (a handler) they see only this node's subscriptions, as a
    // shard never blocks on the network: use the asynchronous forms there.
    [[nodiscard]] std::optional<subscription_info> get_subscription_info(std::string_view id) const;
    [[nodiscard]] std::vector<subscription_info> get_subscription_infos_by_user_id(
        std::string_view user_id) const;
    // Public Meta of the subscribers of `channels` (all when empty).
    [[nodiscard]] std::vector<string_map> get_subscriptions_details(
        const std::vector<std::string>& channels) const;
    // The same subscribers, whole (ServerArgs included): for backends.
    [[nodiscard]] std::vector<subscription_info> get_subscriptions(
        const std::vector<std::string>& channels) const;
    // Asynchronous forms, for a shard thread (a handler that defer()s its
    // answer): `done` runs on the same shard, maybe before the call returns.
    // They see every node's subscriptions.
    void get_subscription_info(std::string_view id,
                               reply_fn<std::optional<subscription_info>> done) const;
    void get_subscription_infos_by_user_id(std::string_view user_id,
                                           reply_fn<std::vector<subscription_info>> done) const;
    void get_subscriptions(const std::vector<std::string>& channels,
                           reply_fn<std::vector<subscription_info>> done) const;

    // Counters for monitoring (any thread; relaxed reads).
    struct counters {
        std::uint64_t subscriptions = 0;  // live on this node
        std::uint64_t channels = 0;       // channels with a subscriber on this node
        std::uint64_t connects = 0;
        std::uint64_t unregisters = 0;  // every removal: unregister, disconnect, expiry
        std::uint64_t expired = 0;      // removed by the idle timeout
        std::uint64_t heartbeats = 0;
        std::uint64_t publishes = 0;  // notifications accepted
    };
    [[nodiscard]] counters stats() const noexcept;

    // --- registration ---
    // Opens a Server Events stream for this request and registers its
    // subscription, exactly as the stream path does (channels from the query,
    // hooks, cmd.onConnect, joins): for an application's own routes, e.g. one
    // that authenticates first. Call from that route's handler.
    void register_stream(engine::exchange& ex);

    // --- admin: effective on the owning shard shortly after the call ---
    void subscribe_to_channels(std::string_view id, std::vector<std::string> channels);
    void unsubscribe_from_channels(std::string_view id, std::vector<std::string> channels);
    void unregister(std::string_view id);
    // Forgets every subscription and closes their streams (clients reconnect);
    // no onLeave is sent. With a shared provider (Redis) every node's
    // subscriptions are forgotten in the shared state, as ServiceStack's Reset
    // does. Synchronous from a thread that is not a shard; from a shard (a
    // handler) it takes effect on every shard right after it returns.
    void reset();
    // Stop: every stream of this node closed without onLeave, new streams
    // refused (503) until start(). With a shared provider only this node's
    // subscriptions leave the shared state (waiting up to 2 s for that, from
    // a thread that is not a shard); other nodes are untouched.
    void stop();
    void start();
    std::int64_t next_sequence(std::string_view name);

    [[nodiscard]] const options& opts() const noexcept;
    [[nodiscard]] engine::server& server() noexcept;

private:
    template <class T, class Fn>
    static void with_json(const T& msg, Fn&& fn) {
        thread_local std::string buf;
        buf.clear();
        proto::json_writer w(buf);
        to_json(w, msg);
        if (!w.ok()) throw std::invalid_argument("notify: to_json wrote invalid JSON");
        fn(std::string_view(buf));
    }

    std::unique_ptr<detail::state> s_;
};

// A string message: sent as a JSON string (ServiceStack's string messages).
struct text {
    std::string_view value;
};
inline void to_json(proto::json_writer& w, const text& t) {
    w.value(t.value);
}

// No message: an empty body after the selector ("cmd.toggle$#channels ").
struct null_message {};
inline void to_json(proto::json_writer&, const null_message&) {}

}  // namespace ssepush::events
