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
//
// Memory: a server holds hundreds of thousands of these, so an idle one is
// kept small (152 bytes, plus one allocation for its strings, one for its
// channel list and one for its places in the channels' member lists):
//  - the identity strings (id, user id and name, display name, session,
//    address, a custom profile URL) are fixed at creation and packed into one
//    allocation;
//  - Meta is not stored: its entries are derived from those fields whenever it
//    is sent or listed. Only a hook that asks for `meta()` turns it into a
//    stored map (from then on that map is Meta, and channel changes keep its
//    "channels" entry current);
//  - the three dictionaries share one block, allocated only once something is
//    written to one of them (a hook, or JWT roles in ServerArgs);
//  - its stream is kept once, in its shard's list of all subscriptions, and
//    its shard is the one its id names.
//
// Queries (get_subscription_info & co.) read a subscription from other
// threads under its shard's lock (see events/src/state.h). Its identity never
// changes after creation, and its channels change only under that lock. A hook
// that writes a dictionary after registration writes a private copy that
// replaces the published one, under the lock, when the hook returns: queries
// see the change then, notices sent from the shard see it at once.
#include <array>
#include <cstdint>
#include <memory>
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

// N strings fixed at creation, in one allocation (none when all are empty).
template <std::size_t N>
class packed_strings {
public:
    packed_strings() noexcept = default;
    explicit packed_strings(const std::array<std::string_view, N>& parts) {
        std::size_t total = 0;
        for (std::size_t i = 0; i < N; ++i) {
            total += parts[i].size();
            end_[i] = std::uint32_t(total);
        }
        if (total == 0) return;
        text_ = std::make_unique_for_overwrite<char[]>(total);
        char* p = text_.get();
        for (std::string_view s : parts) {
            s.copy(p, s.size());
            p += s.size();
        }
    }
    [[nodiscard]] std::string_view operator[](std::size_t i) const noexcept {
        const std::uint32_t begin = i == 0 ? 0 : end_[i - 1];
        return {text_.get() + begin, end_[i] - begin};
    }

private:
    std::unique_ptr<char[]> text_;
    std::array<std::uint32_t, N> end_{};
};

// The dictionaries of a subscription, allocated on first write.
struct subscription_extras {
    // Empty until `meta_complete`: then the whole Meta, hooks' keys included.
    string_map meta;
    string_map connect_args;
    string_map server_args;
    bool meta_complete = false;
};
}  // namespace detail

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
    [[nodiscard]] std::string_view id() const noexcept { return text_[k_id]; }
    [[nodiscard]] const std::vector<std::string>& channels() const noexcept { return channels_; }
    [[nodiscard]] bool has_channel(std::string_view c) const noexcept;
    [[nodiscard]] std::string_view user_id() const noexcept { return text_[k_user_id]; }
    [[nodiscard]] std::string_view user_name() const noexcept { return text_[k_user_name]; }
    [[nodiscard]] std::string_view display_name() const noexcept { return text_[k_display_name]; }
    [[nodiscard]] std::string_view session_id() const noexcept { return text_[k_session_id]; }
    [[nodiscard]] std::string_view user_address() const noexcept { return text_[k_user_address]; }
    // The identity's avatar URL, or the server's default.
    [[nodiscard]] std::string_view profile_url() const noexcept;
    [[nodiscard]] bool is_authenticated() const noexcept { return is_authenticated_; }
    [[nodiscard]] std::int64_t created_at_ms() const noexcept { return created_at_ms_; }
    // Shard-clock time of the last heartbeat (or the connect).
    [[nodiscard]] std::uint64_t last_pulse_ms() const noexcept { return last_pulse_ms_; }

    // Writable from hooks (on_created and on_connect above all). Writes made
    // after registration are seen by later notices, not by earlier ones, and
    // by queries once the hook returns. meta() holds the whole Meta (the
    // standard entries first), so a hook can read or replace any of them.
    [[nodiscard]] string_map& meta();
    [[nodiscard]] string_map& connect_args() { return editable_extras().connect_args; }
    [[nodiscard]] string_map& server_args() { return editable_extras().server_args; }

    // A snapshot of everything above (Meta in full).
    [[nodiscard]] subscription_info info() const;

    // Sends `selector json` to this subscription only (no channel prefix).
    void publish(std::string_view selector, std::string_view json);
    // Sends an already formatted SSE data text (`selector body`) as one frame.
    void publish_raw(std::string_view data);
    // Unregisters it: hooks, stream closed, onLeave to its channels.
    void unsubscribe();

private:
    friend struct detail::state;

    enum text_field : std::uint8_t {
        k_id,
        k_user_id,
        k_user_name,
        k_display_name,
        k_session_id,
        k_user_address,
        k_profile_url,  // empty: the server's default
        k_text_fields
    };

    // What hooks write to: the published block before registration (no one
    // else can see it yet) and after removal, a private draft in between.
    detail::subscription_extras& editable_extras();
    // The dictionaries as the shard sees them (the draft if a hook is writing).
    [[nodiscard]] const detail::subscription_extras* current_extras() const noexcept {
        return draft_ ? draft_.get() : extras_.get();
    }
    // A snapshot with the dictionaries of `x` (current on the shard, published
    // for queries from other threads).
    [[nodiscard]] subscription_info snapshot(const detail::subscription_extras* x) const;

    // Its shard (named by its id).
    [[nodiscard]] engine::shard& home() const noexcept;

    detail::packed_strings<k_text_fields> text_;
    std::vector<std::string> channels_;
    // Positions in the shard's member lists, for O(1) removal: one per channel
    // (channel_pos_[i] for channels_[i]), then the list of all.
    std::unique_ptr<std::uint32_t[]> channel_pos_;
    std::unique_ptr<detail::subscription_extras> extras_;  // null: all empty
    std::unique_ptr<detail::subscription_extras> draft_;   // a hook's pending writes
    engine::timer_node idle_timer_;
    detail::state* state_ = nullptr;
    std::int64_t created_at_ms_ = 0;
    std::uint64_t last_pulse_ms_ = 0;
    std::uint32_t all_pos_ = 0;
    bool is_authenticated_ = false;
    bool registered_ = false;  // in the indexes (false once removed)
    bool stream_closed_ = false;
};

}  // namespace ssepush::events
