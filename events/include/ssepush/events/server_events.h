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
#include <string>
#include <string_view>
#include <vector>

#include "ssepush/engine/server.h"
#include "ssepush/events/options.h"
#include "ssepush/events/provider.h"
#include "ssepush/events/subscription.h"

namespace ssepush::events {

namespace detail {
struct state;
}

class server_events {
public:
    // Registers the endpoints on `srv` (which must not be started yet).
    server_events(engine::server& srv, options opts,
                  std::unique_ptr<provider> p = make_memory_provider());
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

    // --- object forms: `to_json(json_writer&, const T&)` found by ADL writes
    // the body into a per-thread buffer (no allocation once warm) ---
    template <class T>
    void notify_channel_object(std::string_view channel, std::string_view selector, const T& msg);
    template <class T>
    void notify_all_object(std::string_view selector, const T& msg);

    // --- queries ---
    [[nodiscard]] std::optional<subscription_info> get_subscription_info(std::string_view id) const;
    [[nodiscard]] std::vector<subscription_info> get_subscription_infos_by_user_id(
        std::string_view user_id) const;
    // Public Meta of the subscribers of `channels` (all when empty).
    [[nodiscard]] std::vector<string_map> get_subscriptions_details(
        const std::vector<std::string>& channels) const;

    // --- admin: effective on the owning shard shortly after the call ---
    void subscribe_to_channels(std::string_view id, std::vector<std::string> channels);
    void unsubscribe_from_channels(std::string_view id, std::vector<std::string> channels);
    void unregister(std::string_view id);
    // Forgets every subscription and closes their streams (clients reconnect);
    // no onLeave is sent. Synchronous from a thread that is not a shard; from a
    // shard (a handler) it takes effect on every shard right after it returns.
    void reset();
    // Stop: every stream closed without onLeave, new streams refused (503)
    // until start().
    void stop();
    void start();
    std::int64_t next_sequence(std::string_view name);

    [[nodiscard]] const options& opts() const noexcept;
    [[nodiscard]] engine::server& server() noexcept;

private:
    std::unique_ptr<detail::state> s_;
};

}  // namespace ssepush::events
