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
//  - redis (make_redis_provider, redis_provider.h): a notification is
//    published to Redis and delivered to the local bus when it comes back, on
//    every node; state lives in Redis keys that ServiceStack's
//    RedisServerEvents shares, so a query or a heartbeat may be about a
//    subscription another node holds. Those are answered asynchronously.
//
// All methods may be called from any thread, including shards, except the
// `_async` ones and `remote`, which are called on a shard thread and answer
// on that same shard.
#include <chrono>
#include <cstdint>
#include <functional>
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

    // Commands from another node about a subscription this process may hold
    // (any thread; nothing happens when it is not held here): a heartbeat it
    // received, an unregister, a channel update.
    virtual void held_pulse(std::string_view id) = 0;
    virtual void held_unregister(std::string_view id) = 0;
    virtual void held_update(std::string_view id, std::vector<std::string> unsubscribe,
                             std::vector<std::string> subscribe) = 0;
    // fn(sub) for each subscription held on shard `shard`; call on that
    // shard's thread (a provider re-registering after its backend came back).
    virtual void for_each_held(unsigned shard,
                               const std::function<void(const subscription&)>& fn) const = 0;
    // A subscription without a heartbeat for this long is gone (options::idle_timeout).
    [[nodiscard]] virtual std::chrono::milliseconds idle_timeout() const noexcept = 0;

protected:
    ~local_bus() = default;
};

// A request about a subscription this process does not hold (a heartbeat,
// an unregister or an update that reached this node while the stream is on
// another), for a provider whose state is shared between nodes.
enum class remote_action : std::uint8_t { heartbeat, unregister, update };

struct remote_request {
    remote_action action = remote_action::heartbeat;
    std::string id;
    std::string address;  // when not empty: the subscription must have been opened from it
    std::vector<std::string> unsubscribe, subscribe;  // update
};

struct remote_result {
    // 200 done (the holder acts on it), 404 no such subscription, 403 another
    // address, 503 the shared state cannot be reached.
    std::uint16_t status = 404;
    std::string meta_json;  // unregister: the subscription's Meta, as stored
};

// Answers of the asynchronous calls: run exactly once, on the calling shard.
template <class T>
using reply_fn = std::function<void(T)>;

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
    // Its channels changed; `removed` are the ones it left.
    virtual void updated(const subscription& sub, const std::vector<std::string>& removed) = 0;
    // A heartbeat for it was served here (a shared store refreshes its score).
    virtual void heartbeat(const subscription&) {}
    virtual void unregistered(const subscription& sub) = 0;
    // Forget every subscription, every node's (server_events::reset).
    virtual void reset() = 0;
    // Wait, at most `limit`, until what this process has sent to the shared
    // state has been applied (the removals of server_events::stop, before the
    // server stops). From a thread that is not a shard. Default: nothing to
    // wait for.
    virtual void flush(std::chrono::milliseconds limit) { (void)limit; }

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

    // Whether subscriptions held by other processes are visible here (Redis).
    // Then the synchronous queries above, called on a shard thread, see only
    // this process's subscriptions (a shard never blocks); the `_async` forms
    // and queries from other threads see every node's. Notices (onJoin,
    // onLeave, onUpdate) then carry a "channel" entry, as ServiceStack's do.
    [[nodiscard]] virtual bool shared() const noexcept { return false; }

    // Asynchronous queries, on a shard thread; `done` runs on that shard
    // (possibly before the call returns). Defaults: the synchronous forms.
    virtual void find_async(std::string_view id, reply_fn<std::optional<subscription_info>> done) {
        done(find(id));
    }
    virtual void find_by_user_id_async(std::string_view user_id,
                                       reply_fn<std::vector<subscription_info>> done) {
        done(find_by_user_id(user_id));
    }
    virtual void find_in_channels_async(const std::vector<std::string>& channels,
                                        reply_fn<std::vector<subscription_info>> done) {
        done(find_in_channels(channels));
    }
    // A request for a subscription this process does not hold, on a shard
    // thread; `done` runs on that shard. Default: there is no other node (404).
    virtual void remote(remote_request r, reply_fn<remote_result> done) {
        (void)r;
        done(remote_result{});
    }

    // Sequences: the anonymous user counter and GetNextSequence.
    virtual std::int64_t next_anonymous_id() = 0;
    virtual std::int64_t next_sequence(std::string_view name) = 0;
};

std::unique_ptr<provider> make_memory_provider();

}  // namespace ssepush::events
