#pragma once
// The provider seam (seed "Server Event Providers"): where notifications go
// and where subscription state lives.
//
// `server_events` holds this process's subscriptions on its shards and knows
// how to deliver a notification to them (`local_bus`). A provider decides the
// rest:
//  - memory (default, make_memory_provider): a notification is delivered to
//    the local bus at once; queries are answered by the local bus from the
//    shards' own indexes (no second copy of any subscription).
//  - redis (its own issue): a notification is published to Redis and
//    delivered to the local bus when it comes back, on every node; state lives
//    in Redis keys that ServiceStack's RedisServerEvents shares.
//
// All methods may be called from any thread, including shards.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ssepush/events/subscription.h"

namespace ssepush::events {

// Who a notification is for (PROTOCOL.md 4).
enum class target : std::uint8_t { all, channel, subscription, user_id, user_name, session };

struct notification {
    target to = target::all;
    // The channel, subscription id, user id, user name or session id (empty for all).
    std::string_view key;
    std::string_view selector;
    // JSON text written verbatim after "selector "; empty for a null message.
    std::string_view body;
    // For subscription / user / session targets: only subscriptions that have
    // this channel (a filter: it never adds a "channel@" prefix). Empty: none.
    std::string_view channel_filter;
};

// The subscriptions held by this process: delivers notifications to them and
// answers queries about them (any thread; each shard's part is read under that
// shard's lock).
class local_bus {
public:
    virtual void deliver(const notification& n) = 0;

    [[nodiscard]] virtual std::optional<subscription_info> local_find(
        std::string_view id) const = 0;
    [[nodiscard]] virtual std::vector<subscription_info> local_find_by_user_id(
        std::string_view user_id) const = 0;
    // As provider::details and provider::find_in_channels, for this process.
    [[nodiscard]] virtual std::vector<string_map> local_details(
        const std::vector<std::string>& channels) const = 0;
    [[nodiscard]] virtual std::vector<subscription_info> local_find_in_channels(
        const std::vector<std::string>& channels) const = 0;

protected:
    ~local_bus() = default;
};

class provider {
public:
    virtual ~provider() = default;

    // Called once by server_events before it serves anything.
    virtual void attach(local_bus& bus) = 0;

    // A notification for every node's subscribers (this one's included).
    virtual void publish(const notification& n) = 0;

    // Subscription state: called on the subscription's shard, which is where
    // `sub` may be read (sub.info() is a full snapshot). A provider that keeps
    // state elsewhere (Redis) stores what it needs; the memory provider needs
    // nothing, the local bus already has it.
    virtual void registered(const subscription& sub) = 0;
    virtual void updated(const subscription& sub) = 0;  // its channels changed
    virtual void unregistered(const subscription& sub) = 0;
    virtual void reset() = 0;

    // Queries.
    [[nodiscard]] virtual std::optional<subscription_info> find(std::string_view id) const = 0;
    [[nodiscard]] virtual std::vector<subscription_info> find_by_user_id(
        std::string_view user_id) const = 0;
    // The public Meta of every subscription in any of `channels`, de-duplicated,
    // in channel order; every subscription when `channels` is empty.
    [[nodiscard]] virtual std::vector<string_map> details(
        const std::vector<std::string>& channels) const = 0;
    // The same subscriptions, whole (for backends: ServerArgs included).
    [[nodiscard]] virtual std::vector<subscription_info> find_in_channels(
        const std::vector<std::string>& channels) const = 0;

    // Sequences: the anonymous user counter and GetNextSequence.
    virtual std::int64_t next_anonymous_id() = 0;
    virtual std::int64_t next_sequence(std::string_view name) = 0;
};

std::unique_ptr<provider> make_memory_provider();

}  // namespace ssepush::events
