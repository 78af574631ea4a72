#pragma once
// The inside of server_events: per-shard indexes (the data plane), routing
// (which shards have recipients), the provider (state and cross-node
// delivery), and the operations the endpoints and the public API share.
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "routing.h"
#include "ssepush/engine/frame.h"
#include "ssepush/engine/server.h"
#include "ssepush/events/options.h"
#include "ssepush/events/provider.h"
#include "ssepush/events/subscription.h"
#include "ssepush/proto/servicestack.h"

namespace ssepush::events::detail {

// The subscribers of one key on one shard, as parallel arrays: `streams` is
// what a fan-out hands to shard::send() as is.
struct member_list {
    std::vector<engine::stream_ref> streams;
    std::vector<subscription*> subs;
    std::vector<std::uint16_t> slot;  // channel lists: index into subs[i]->channels()

    [[nodiscard]] bool empty() const noexcept { return subs.empty(); }
};

// Everything about the subscriptions of one shard; touched only on that shard.
struct shard_state {
    std::unordered_map<std::string, subscription*> by_id;
    std::unordered_map<std::string, member_list> channels;
    std::unordered_map<std::string, member_list> user_ids;
    std::unordered_map<std::string, member_list> user_names;
    std::unordered_map<std::string, member_list> sessions;
    member_list all;
    std::unique_ptr<proto::random_source> rng;
};

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

    // --- on the owning shard ---
    void register_sub(engine::shard& sh, subscription& sub);
    // Removes from every index and the provider; with `leave`, onLeave goes to
    // its channels; the stream is ended unless it is already closing.
    void remove_sub(engine::shard& sh, subscription& sub, bool leave);
    void update_channels(engine::shard& sh, subscription& sub,
                         const std::vector<std::string>& unsubscribe,
                         const std::vector<std::string>& subscribe);
    void pulse(engine::shard& sh, subscription& sub);
    void send_to(engine::shard& sh, subscription& sub, std::string_view data);
    [[nodiscard]] subscription* find_local(engine::shard& sh, std::string_view id);
    void arm_idle(engine::shard& sh, subscription& sub);
    void remove_all(engine::shard& sh);  // reset / stop: no onLeave
    void remove_from_channel(shard_state& ss, unsigned me, subscription& sub, std::size_t i);
    static void on_stream_closed(void* user, engine::stream_ref s, engine::close_reason) noexcept;
    static void on_idle_timer(engine::timer_node& t) noexcept;
    static void deliver_on_shard(engine::shard& sh, std::string_view bytes, void* ctx) noexcept;

    // The notices of PROTOCOL.md 3.3-3.5 for one subscription.
    void notice(const subscription& sub, std::string_view selector,
                const std::vector<std::string>& channels);
    [[nodiscard]] std::string meta_json(const subscription_info& info) const;
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
