#pragma once
// The messages ServiceStack's RedisServerEvents publishes on the Redis pub/sub
// channel `sse:topic` (PROTOCOL.md §7.2, §7.3), parsed and written, and the
// .NET ticks its `sse:ids` scores are kept in (§7.1).
//
//   message = key [ " " selector [ "@" channel ] ] [ " " json ]
//   key     = "notify.all"
//           | "notify." ( channel | subscription | userid | username | session ) "." who
//           | ( subscribe | unsubscribe | unregister | pulse ) ".id." subId
//
// In these messages the channel *filter* follows the selector after '@'
// (`cmd.chat@home`); in SSE frames a channel *prefix* precedes it.
// ServiceStack takes only the third '.'-separated token of the key as `who`,
// so a name holding '.' is cut there; this parser takes everything after the
// second '.', which is the same for every name ServiceStack itself delivers
// correctly. Messages whose text before the first ':' is "CTRL" (liveness
// pulses and stop notices of ServiceStack's listener) and empty messages are
// `control`; anything else unknown is `unknown`: both are to be ignored.
//
// Threading: none. Allocation: none when parsing (views into the message);
// the writers append to the caller's string.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ssepush::proto {

enum class topic_kind : std::uint8_t {
    notify_all,
    notify_channel,
    notify_subscription,
    notify_user_id,
    notify_user_name,
    notify_session,
    subscribe,    // json: a JSON string holding the comma-joined channels
    unsubscribe,  // same
    unregister,
    pulse,
    control,  // CTRL... or empty: ignore
    unknown,  // not a message of this protocol: ignore
};

struct topic_message {
    topic_kind kind = topic_kind::unknown;
    std::string_view who;       // channel, subscription id, user id, user name or session id
    std::string_view selector;  // notify_*: "cmd.chat"
    std::string_view channel;   // notify_*: the channel filter after '@', or empty
    std::string_view json;      // notify_*: the body; subscribe/unsubscribe: the payload
};

// Total: every input gives a message (unknown when it is not one of ours).
[[nodiscard]] topic_message parse_topic_message(std::string_view msg) noexcept;

// Appends a notify message. `who` is ignored for notify_all; `channel` may be
// empty (no filter); `json` may be empty (no body).
void write_notify(topic_kind kind, std::string_view who, std::string_view selector,
                  std::string_view channel, std::string_view json, std::string& out);

// Appends `subscribe.id.<id> "<c1>,<c2>"` or `unsubscribe...`: `channels` is
// the comma-joined list, written as a JSON string.
void write_channels_command(topic_kind kind, std::string_view id, std::string_view channels,
                            std::string& out);

// The channels of a subscribe/unsubscribe payload: a JSON string holding
// the comma-joined list (`"home,lobby"`), unescaped and split on ','; empty
// names dropped. nullopt when the payload is not one JSON string. ServiceStack
// also accepts the bare text (no quotes) there, and so does this.
[[nodiscard]] std::optional<std::vector<std::string>> parse_channels_payload(std::string_view json);

// Appends `unregister.id.<id>` or `pulse.id.<id>`.
void write_id_command(topic_kind kind, std::string_view id, std::string& out);

// .NET ticks (100 ns since 0001-01-01 UTC) <-> Unix milliseconds.
inline constexpr std::int64_t k_unix_epoch_ticks = 621355968000000000;
[[nodiscard]] constexpr std::int64_t ticks_from_unix_ms(std::int64_t ms) noexcept {
    return ms * 10000 + k_unix_epoch_ticks;
}
[[nodiscard]] constexpr std::int64_t unix_ms_from_ticks(std::int64_t ticks) noexcept {
    return (ticks - k_unix_epoch_ticks) / 10000;
}

}  // namespace ssepush::proto
