#pragma once
// A subscription: one open event stream, its identity, its channels and its
// three dictionaries (PROTOCOL.md 3.1-3.2, seed "Event Subscription Metadata"):
//   meta          public: sent in onJoin/onLeave/onUpdate/onHeartbeat and listed
//                 by /event-subscribers (userId, isAuthenticated, displayName,
//                 channels, createdAt, profileUrl, plus what hooks add)
//   connect_args  sent to the subscriber only, in its cmd.onConnect
//   server_args   never sent
//
// A `subscription` lives on the shard that holds its stream and is only
// touched there (hooks run there). `subscription_info` is a copyable snapshot
// for any thread.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ssepush/engine/http.h"
#include "ssepush/engine/timer_wheel.h"
#include "ssepush/events/string_map.h"

namespace ssepush::events {

class server_events;
namespace detail {
struct state;
}

// Who opens a stream, as the authenticate hook (options.h) resolves it.
struct identity {
    std::string user_id;             // empty: anonymous ("-<n>" is assigned)
    std::string user_name;           // authenticated users only
    std::string display_name;        // empty: "user<n>" for anonymous users
    std::string session_id;          // ServiceStack ss-id / ss-pid; empty if none
    std::string profile_url;         // empty: the default avatar
    std::vector<std::string> roles;  // kept in ServerArgs "roles" (comma-joined)
    bool is_authenticated = false;
    // Credentials were presented and are not valid (e.g. an expired token):
    // the stream is refused with 401 and this reason, never made anonymous.
    std::string refused;
};

struct subscription_info {
    std::string id;
    std::vector<std::string> channels;
    std::string user_id;
    std::string user_name;
    std::string display_name;
    std::string session_id;
    std::string user_address;  // client IP when the stream opened
    bool is_authenticated = false;
    std::int64_t created_at_ms = 0;  // unix ms
    string_map meta;
    string_map connect_args;
    string_map server_args;
};

class subscription {
public:
    [[nodiscard]] const std::string& id() const noexcept { return info_.id; }
    [[nodiscard]] const std::vector<std::string>& channels() const noexcept {
        return info_.channels;
    }
    [[nodiscard]] bool has_channel(std::string_view c) const noexcept;
    [[nodiscard]] const std::string& user_id() const noexcept { return info_.user_id; }
    [[nodiscard]] const std::string& user_name() const noexcept { return info_.user_name; }
    [[nodiscard]] const std::string& display_name() const noexcept { return info_.display_name; }
    [[nodiscard]] const std::string& session_id() const noexcept { return info_.session_id; }
    [[nodiscard]] const std::string& user_address() const noexcept { return info_.user_address; }
    [[nodiscard]] bool is_authenticated() const noexcept { return info_.is_authenticated; }
    [[nodiscard]] std::int64_t created_at_ms() const noexcept { return info_.created_at_ms; }
    // Shard-clock time of the last heartbeat (or the connect).
    [[nodiscard]] std::uint64_t last_pulse_ms() const noexcept { return last_pulse_ms_; }

    // Writable from the on_created / on_connect hooks (changes to `meta` after
    // registration are seen by later notices, not by earlier ones).
    [[nodiscard]] string_map& meta() noexcept { return info_.meta; }
    [[nodiscard]] string_map& connect_args() noexcept { return info_.connect_args; }
    [[nodiscard]] string_map& server_args() noexcept { return info_.server_args; }

    [[nodiscard]] const subscription_info& info() const noexcept { return info_; }

    // Sends `selector json` to this subscription only (no channel prefix).
    void publish(std::string_view selector, std::string_view json);
    // Sends an already formatted SSE data text (`selector body`) as one frame.
    void publish_raw(std::string_view data);
    // Unregisters it: hooks, stream closed, onLeave to its channels.
    void unsubscribe();

private:
    friend struct detail::state;

    subscription_info info_;
    std::uint64_t last_pulse_ms_ = 0;
    engine::stream_ref stream_;
    engine::timer_node idle_timer_;
    detail::state* state_ = nullptr;
    engine::shard* shard_ = nullptr;
    bool registered_ = false;  // in the indexes (false once removed)
    bool stream_closed_ = false;
    // Positions in the shard's member lists, for O(1) removal: one per channel
    // (parallel to info_.channels), then user id, user name, session, all.
    std::vector<std::uint32_t> channel_pos_;
    std::uint32_t user_id_pos_ = 0;
    std::uint32_t user_name_pos_ = 0;
    std::uint32_t session_pos_ = 0;
    std::uint32_t all_pos_ = 0;
};

}  // namespace ssepush::events
