#pragma once
// The inside of server_events: per-shard indexes (the data plane), routing
// (which shards have recipients), the provider (state and cross-node
// delivery), and the operations the endpoints and the public API share.
#include <atomic>
#include <charconv>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "routing.h"
#include "ssepush/engine/frame.h"
#include "ssepush/engine/server.h"
#include "ssepush/events/options.h"
#include "ssepush/events/provider.h"
#include "ssepush/events/subscription.h"
#include "ssepush/proto/servicestack.h"

namespace ssepush::events::detail {

// The subscribers of one channel (or of the whole shard) on one shard, as
// parallel arrays: `streams` is what a fan-out hands to shard::send() as is.
struct member_list {
    std::vector<engine::stream_ref> streams;
    std::vector<subscription*> subs;
    std::vector<std::uint16_t> slot;  // channel lists: index into subs[i]->channels()

    [[nodiscard]] bool empty() const noexcept { return subs.empty(); }
};

// Hashing and equality of subscriptions by one of their keys (their id, user
// id, user name or session), and of a key with a subscription (transparent
// lookup by std::string_view). The key is read from the subscription itself,
// so an index entry is one pointer in one node.
template <target Kind>
struct sub_key {
    using is_transparent = void;
    static_assert(Kind == target::subscription || Kind == target::user_id ||
                  Kind == target::user_name || Kind == target::session);
    [[nodiscard]] static std::string_view of(const subscription* s) noexcept {
        if constexpr (Kind == target::subscription) {
            return s->id();
        } else if constexpr (Kind == target::user_id) {
            return s->user_id();
        } else if constexpr (Kind == target::user_name) {
            return s->user_name();
        } else {
            return s->session_id();
        }
    }
    std::size_t operator()(std::string_view k) const noexcept {
        return std::hash<std::string_view>{}(k);
    }
    std::size_t operator()(const subscription* s) const noexcept { return (*this)(of(s)); }
    bool operator()(const subscription* a, const subscription* b) const noexcept {
        return of(a) == of(b);
    }
    bool operator()(std::string_view k, const subscription* s) const noexcept { return k == of(s); }
    bool operator()(const subscription* s, std::string_view k) const noexcept { return of(s) == k; }
};

// The subscriptions of one shard by user id, user name or session: several
// may share a key (a user's tabs), most keys have one.
template <target Kind>
using key_index = std::unordered_multiset<subscription*, sub_key<Kind>, sub_key<Kind>>;

// Everything about the subscriptions of one shard. The shard alone writes it,
// and reads it without locking (fan-out). Queries from other threads read it
// under `mu`, which the shard holds while it changes an index, a
// subscription's channels or its published dictionaries.
struct shard_state {
    mutable std::mutex mu;
    std::unordered_set<subscription*, sub_key<target::subscription>, sub_key<target::subscription>>
        by_id;
    std::unordered_map<std::string, member_list> channels;
    key_index<target::user_id> user_ids;
    key_index<target::user_name> user_names;
    key_index<target::session> sessions;
    member_list all;
    std::unique_ptr<proto::random_source> rng;
};

// "a,b,c"
inline std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out.push_back(',');
        out += v[i];
    }
    return out;
}

// Calls fn(key, value) for each Meta entry of `sub`, in order: the stored Meta
// once a hook made it complete, else the entries derived from its fields.
template <class Fn>
void for_each_meta(const subscription& sub, const subscription_extras* x, Fn&& fn) {
    if (x && x->meta_complete) {
        for (const auto& [k, v] : x->meta)
            fn(std::string_view(k), std::string_view(v));
        return;
    }
    fn(std::string_view("userId"), sub.user_id());
    fn(std::string_view("isAuthenticated"),
       std::string_view(sub.is_authenticated() ? "true" : "false"));
    fn(std::string_view("displayName"), sub.display_name());
    const std::string channels = join(sub.channels());
    fn(std::string_view("channels"), std::string_view(channels));
    char created[24];
    const auto end = std::to_chars(created, created + sizeof created, sub.created_at_ms()).ptr;
    fn(std::string_view("createdAt"), std::string_view(created, std::size_t(end - created)));
    fn(std::string_view("profileUrl"), sub.profile_url());
}

// A response built on one shard and sent from another (heartbeat, unregister
// and update requests can land on any shard).
struct answer {
    std::uint16_t status = 200;
    std::string reason;
    std::string content_type;
    std::string body;
    std::string headers;  // raw lines (CORS)

    [[nodiscard]] engine::response view() const {
        return engine::response{status, content_type, body, headers, reason};
    }
};

struct state final : local_bus {
    state(engine::server& srv, options o, std::unique_ptr<provider> p);
    ~state();

    void deliver(const notification& n) override;
    [[nodiscard]] std::optional<subscription_info> local_find(std::string_view id) const override;
    [[nodiscard]] std::vector<subscription_info> local_find_by_user_id(
        std::string_view user_id) const override;
    [[nodiscard]] std::vector<string_map> local_details(
        const std::vector<std::string>& channels) const override;
    [[nodiscard]] std::vector<subscription_info> local_find_in_channels(
        const std::vector<std::string>& channels) const override;
    void held_pulse(std::string_view id) override;
    void held_unregister(std::string_view id) override;
    void held_update(std::string_view id, std::vector<std::string> unsubscribe,
                     std::vector<std::string> subscribe) override;
    void for_each_held(unsigned shard,
                       const std::function<void(const subscription&)>& fn) const override;
    [[nodiscard]] std::chrono::milliseconds idle_timeout() const noexcept override {
        return opts.idle_timeout;
    }

    // --- endpoints (endpoints.cc) ---
    void install_routes();
    void handle_stream(engine::exchange& ex);
    void handle_heartbeat(engine::exchange& ex);
    void handle_unregister(engine::exchange& ex);
    void handle_update(engine::exchange& ex, std::string_view path_id);
    void handle_subscribers(engine::exchange& ex);
    void handle_preflight(engine::exchange& ex);
    // CORS response lines for this request's Origin (empty if none allowed).
    [[nodiscard]] std::string cors_headers(const engine::exchange& ex) const;
    // Runs `work` on the shard holding `id` and answers `ex` with its result,
    // from the shard the request arrived on.
    // `bare_404`: an unknown id gets an empty 404 (heartbeats) instead of
    // ServiceStack's JSON error body (unregister, update).
    template <class Work>
    void answer_from_owner(engine::exchange& ex, std::string_view id, std::string cors,
                           bool bare_404, Work work);

    // Hands a request for a subscription not held here to the provider
    // (shared state: another node may hold it) and answers `ex` with its result.
    void answer_remote(engine::exchange& ex, remote_request r, std::string cors);

    // --- on the owning shard ---
    void register_sub(engine::shard& sh, subscription& sub, engine::stream_ref stream);
    // Its stream (kept in the shard's list of all subscriptions): registered only.
    [[nodiscard]] engine::stream_ref stream_of(engine::shard& sh,
                                               const subscription& sub) const noexcept;
    // Removes from every index and the provider; with `leave`, onLeave goes to
    // its channels; the stream is ended unless it is already closing.
    void remove_sub(engine::shard& sh, subscription& sub, bool leave);
    void update_channels(engine::shard& sh, subscription& sub,
                         const std::vector<std::string>& unsubscribe,
                         const std::vector<std::string>& subscribe);
    // Publishes what a hook wrote to the subscription's dictionaries (after
    // every hook that runs while it is registered).
    void publish_edits(engine::shard& sh, subscription& sub);
    void pulse(engine::shard& sh, subscription& sub);
    void send_to(engine::shard& sh, subscription& sub, std::string_view data);
    [[nodiscard]] subscription* find_local(engine::shard& sh, std::string_view id);
    // Whether subscription `id` exists on its owner shard and, if `address` is
    // not empty, was opened from it: read from the owner's index under its
    // lock, from any thread.
    enum class presence : std::uint8_t { missing, other_address, present };
    [[nodiscard]] presence peek(std::string_view id, std::string_view address) const;
    // fn(the subscription, or nullptr) with its owner shard's index locked.
    template <class Fn>
    decltype(auto) with_indexed(std::string_view id, Fn&& fn) const {
        const unsigned owner = proto::shard_of_subscription_id(id);
        if (owner >= shards.size()) return fn(nullptr);
        const shard_state& ss = *shards[owner];
        std::lock_guard lock(ss.mu);
        auto it = ss.by_id.find(id);
        return fn(it == ss.by_id.end() ? nullptr : static_cast<const subscription*>(*it));
    }
    void arm_idle(engine::shard& sh, subscription& sub);
    void remove_all(engine::shard& sh);  // reset / stop: no onLeave
    void remove_from_channel(shard_state& ss, unsigned me, subscription& sub, std::size_t i);
    static void on_stream_closed(void* user, engine::stream_ref s, engine::close_reason) noexcept;
    static void on_idle_timer(engine::timer_node& t) noexcept;
    static void deliver_on_shard(engine::shard& sh, std::string_view bytes, void* ctx) noexcept;
    template <target Kind>
    void deliver_to_key(engine::shard& sh, const key_index<Kind>& idx, std::string_view key,
                        std::string_view filter, std::string_view line) noexcept;
    // A frame of `line` with this shard's next event id (one reference, the caller's).
    [[nodiscard]] static engine::frame* stamp(engine::shard& sh, std::string_view line);
    // A frame went to `sub`: the on_publish hook, if any.
    void published(engine::shard& sh, subscription& sub, std::string_view line);

    // Calls fn(sub, c) for each subscription in any of `channels` (every one
    // when empty, c = 0), once, with c the first of `channels` it is in; shard
    // by shard, under each shard's lock.
    template <class Fn>
    void for_each_in(const std::vector<std::string>& channels, Fn fn) const;

    // The notices of PROTOCOL.md 3.3-3.5 for one subscription.
    void notice(const subscription& sub, std::string_view selector,
                const std::vector<std::string>& channels);
    // Its Meta as a JSON object, as the shard sees it.
    [[nodiscard]] static std::string meta_json(const subscription& sub);
    // 400 text for a bad channel list, empty if fine.
    [[nodiscard]] std::string check_channels(const std::vector<std::string>& channels) const;

    engine::server& srv;
    options opts;
    std::unique_ptr<provider> prov;
    routing routes;
    std::vector<std::unique_ptr<shard_state>> shards;
    std::atomic<bool> stopped{false};
    std::string profile_url;
    engine::shard_mask all_shards = 0;
    engine::stream_hooks hooks;

    // Monitoring counters (server_events::stats); RMW because shards share them.
    std::atomic<std::uint64_t> n_subscriptions{0}, n_connects{0}, n_unregisters{0}, n_expired{0},
        n_heartbeats{0}, n_publishes{0};
};

// Runs fn(shard, subscription&) on the shard that holds subscription `id`, if
// it is there (fn is not called otherwise). Any thread.
template <class Fn>
void on_subscription(state& st, std::string_view id, Fn fn) {
    const unsigned shard = proto::shard_of_subscription_id(id);
    if (shard >= st.srv.shard_count()) return;
    st.srv.run_on(shard,
                  [&st, id = std::string(id), fn = std::move(fn)](engine::shard& sh) mutable {
                      if (subscription* sub = st.find_local(sh, id)) fn(sh, *sub);
                  });
}

}  // namespace ssepush::events::detail
