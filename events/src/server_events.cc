// The core of the events layer: per-shard indexes, registration and removal,
// channel updates, heartbeats, idle expiry, and the publish path
//
//   notify_*  ->  provider.publish  ->  local_bus::deliver (here)
//     -> routing: which shards have recipients
//     -> the data line is built once, into shared bytes with a small header
//     -> server::post_bytes to those shards
//   deliver_on_shard: one frame per shard (its event id), shard::send() to the
//     shard's member list as it is: a pointer push per recipient.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <latch>
#include <stdexcept>

#include "ssepush/events/server_events.h"
#include "ssepush/proto/json.h"
#include "state.h"

namespace ssepush::events {

namespace detail {

namespace {

// Header of the bytes a notification travels in:
// [target][reserved][key length u16][filter length u16][key][filter][data line]
constexpr std::size_t k_header = 6;

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out.push_back(',');
        out += v[i];
    }
    return out;
}

std::uint32_t push(member_list& l, subscription* sub, engine::stream_ref s, std::uint16_t slot) {
    l.streams.push_back(s);
    l.subs.push_back(sub);
    l.slot.push_back(slot);
    return std::uint32_t(l.subs.size() - 1);
}

// Swap-removes entry `pos`; `fix(moved, slot, new_pos)` updates the position
// the moved subscription keeps for this list.
template <class Fix>
void erase_at(member_list& l, std::uint32_t pos, Fix fix) {
    const std::uint32_t last = std::uint32_t(l.subs.size() - 1);
    if (pos != last) {
        l.streams[pos] = l.streams[last];
        l.subs[pos] = l.subs[last];
        l.slot[pos] = l.slot[last];
        fix(l.subs[pos], l.slot[pos], pos);
    }
    l.streams.pop_back();
    l.subs.pop_back();
    l.slot.pop_back();
}

}  // namespace

state::state(engine::server& s, options o, std::unique_ptr<provider> p)
    : srv(s), opts(std::move(o)), prov(std::move(p)) {
    const unsigned n = srv.options().shards;
    if (n > proto::k_subscription_id_max_shards)
        throw std::invalid_argument("server_events: at most " +
                                    std::to_string(proto::k_subscription_id_max_shards) +
                                    " shards (the subscription id names its shard)");
    for (unsigned i = 0; i < n; ++i) {
        shards.push_back(std::make_unique<shard_state>());
        shards.back()->rng = std::make_unique<proto::csprng_source>();
    }
    profile_url = opts.default_profile_url.empty() ? std::string(proto::k_default_profile_url)
                                                   : opts.default_profile_url;
    all_shards = srv.all_shards();
    hooks.on_close = &state::on_stream_closed;
    prov->attach(*this);
}

state::~state() = default;

// --- the publish path --------------------------------------------------------

void state::deliver(const notification& n) {
    engine::shard_mask mask = 0;
    switch (n.to) {
        case target::all:
            mask = all_shards;
            break;
        case target::subscription: {
            const unsigned s = proto::shard_of_subscription_id(n.key);
            if (s < srv.shard_count()) mask = engine::shard_mask(1) << s;
            break;
        }
        default:
            mask = routes.shards(n.to, n.key);
            break;
    }
    if (mask == 0) return;
    thread_local std::string line;
    line.clear();
    if (n.to == target::channel) {
        proto::append_channel_data_line(line, n.key, n.selector, n.body);
    } else {
        proto::append_data_line(line, n.selector, n.body);
    }
    const std::size_t size = k_header + n.key.size() + n.channel_filter.size() + line.size();
    auto* bytes = engine::shared_bytes::allocate(size);
    char* p = bytes->data();
    p[0] = char(n.to);
    p[1] = 0;
    const auto klen = std::uint16_t(n.key.size());
    const auto flen = std::uint16_t(n.channel_filter.size());
    std::memcpy(p + 2, &klen, 2);
    std::memcpy(p + 4, &flen, 2);
    p += k_header;
    for (std::string_view part : {n.key, n.channel_filter, std::string_view(line)}) {
        if (part.empty()) continue;  // an empty view may have no storage at all
        std::memcpy(p, part.data(), part.size());
        p += part.size();
    }
    srv.post_bytes(mask, bytes, &state::deliver_on_shard, this);
}

void state::deliver_on_shard(engine::shard& sh, std::string_view bytes, void* ctx) noexcept {
    auto* st = static_cast<state*>(ctx);
    shard_state& ss = *st->shards[sh.index()];
    const auto kind = target(bytes[0]);
    std::uint16_t klen, flen;
    std::memcpy(&klen, bytes.data() + 2, 2);
    std::memcpy(&flen, bytes.data() + 4, 2);
    const std::string_view key = bytes.substr(k_header, klen);
    const std::string_view filter = bytes.substr(k_header + klen, flen);
    const std::string_view line = bytes.substr(k_header + klen + flen);

    const member_list* list = nullptr;
    subscription* single = nullptr;
    auto find_in = [&](const std::unordered_map<std::string, member_list>& m) {
        thread_local std::string k;
        k.assign(key);
        auto it = m.find(k);
        return it == m.end() ? nullptr : &it->second;
    };
    switch (kind) {
        case target::all:
            list = &ss.all;
            break;
        case target::channel:
            list = find_in(ss.channels);
            break;
        case target::user_id:
            list = find_in(ss.user_ids);
            break;
        case target::user_name:
            list = find_in(ss.user_names);
            break;
        case target::session:
            list = find_in(ss.sessions);
            break;
        case target::subscription:
            single = st->find_local(sh, key);
            if (single && !filter.empty() && !single->has_channel(filter)) single = nullptr;
            break;
    }
    if (!single && (!list || list->empty())) return;

    try {
        proto::sse_event ev;
        ev.has_id = true;
        ev.id = sh.next_event_id();
        ev.data = line;
        engine::frame_ptr f(engine::frame::sse(ev));
        if (single) {
            sh.send(single->stream_, f.get());
            if (st->opts.on_publish) st->opts.on_publish(*single, line);
            return;
        }
        if (filter.empty()) {
            sh.send(list->streams.data(), list->streams.size(), f.get());
            if (st->opts.on_publish)
                for (subscription* sub : list->subs)
                    st->opts.on_publish(*sub, line);
            return;
        }
        // A channel filter on a user / session target: only those in the channel.
        for (std::size_t i = 0; i < list->subs.size(); ++i) {
            subscription* sub = list->subs[i];
            if (!sub->has_channel(filter)) continue;
            sh.send(list->streams[i], f.get());
            if (st->opts.on_publish) st->opts.on_publish(*sub, line);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ssepush events: delivery on shard %u failed: %s\n", sh.index(),
                     e.what());
    }
}

// --- registration --------------------------------------------------------------

subscription* state::find_local(engine::shard& sh, std::string_view id) {
    shard_state& ss = *shards[sh.index()];
    thread_local std::string k;
    k.assign(id);
    auto it = ss.by_id.find(k);
    return it == ss.by_id.end() ? nullptr : it->second;
}

void state::register_sub(engine::shard& sh, subscription& sub) {
    shard_state& ss = *shards[sh.index()];
    const unsigned me = sh.index();
    subscription_info& info = sub.info_;
    ss.by_id[info.id] = &sub;
    sub.all_pos_ = push(ss.all, &sub, sub.stream_, 0);
    sub.channel_pos_.resize(info.channels.size());
    for (std::size_t i = 0; i < info.channels.size(); ++i) {
        member_list& l = ss.channels[info.channels[i]];
        if (l.empty()) routes.set(target::channel, info.channels[i], me);
        sub.channel_pos_[i] = push(l, &sub, sub.stream_, std::uint16_t(i));
    }
    auto add_key = [&](std::unordered_map<std::string, member_list>& m, target kind,
                       const std::string& key, std::uint32_t& pos) {
        if (key.empty()) return;
        member_list& l = m[key];
        if (l.empty()) routes.set(kind, key, me);
        pos = push(l, &sub, sub.stream_, 0);
    };
    add_key(ss.user_ids, target::user_id, info.user_id, sub.user_id_pos_);
    add_key(ss.user_names, target::user_name, info.user_name, sub.user_name_pos_);
    add_key(ss.sessions, target::session, info.session_id, sub.session_pos_);
    sub.registered_ = true;
    n_subscriptions.fetch_add(1, std::memory_order_relaxed);
    n_connects.fetch_add(1, std::memory_order_relaxed);
    prov->registered(info);
}

void state::remove_sub(engine::shard& sh, subscription& sub, bool leave) {
    if (!sub.registered_) return;
    sub.registered_ = false;
    n_subscriptions.fetch_sub(1, std::memory_order_relaxed);
    n_unregisters.fetch_add(1, std::memory_order_relaxed);
    shard_state& ss = *shards[sh.index()];
    const unsigned me = sh.index();
    subscription_info& info = sub.info_;
    for (std::size_t i = 0; i < info.channels.size(); ++i)
        remove_from_channel(ss, me, sub, i);
    auto remove_key = [&](std::unordered_map<std::string, member_list>& m, target kind,
                          const std::string& key, std::uint32_t pos,
                          std::uint32_t subscription::*field) {
        if (key.empty()) return;
        auto it = m.find(key);
        if (it == m.end()) return;
        erase_at(it->second, pos, [field](subscription* moved, std::uint16_t, std::uint32_t np) {
            moved->*field = np;
        });
        if (it->second.empty()) {
            m.erase(it);
            routes.clear(kind, key, me);
        }
    };
    remove_key(ss.user_ids, target::user_id, info.user_id, sub.user_id_pos_,
               &subscription::user_id_pos_);
    remove_key(ss.user_names, target::user_name, info.user_name, sub.user_name_pos_,
               &subscription::user_name_pos_);
    remove_key(ss.sessions, target::session, info.session_id, sub.session_pos_,
               &subscription::session_pos_);
    erase_at(ss.all, sub.all_pos_,
             [](subscription* moved, std::uint16_t, std::uint32_t np) { moved->all_pos_ = np; });
    ss.by_id.erase(info.id);
    sh.timers().cancel(sub.idle_timer_);
    prov->unregistered(info);
    if (opts.on_unsubscribe) opts.on_unsubscribe(sub);
    if (!sub.stream_closed_) sh.end_stream(sub.stream_);
    if (leave && opts.notify_channel_of_subscriptions) notice(sub, "cmd.onLeave", info.channels);
}

void state::remove_from_channel(shard_state& ss, unsigned me, subscription& sub, std::size_t i) {
    const std::string& channel = sub.info_.channels[i];
    auto it = ss.channels.find(channel);
    if (it == ss.channels.end()) return;
    erase_at(it->second, sub.channel_pos_[i],
             [](subscription* moved, std::uint16_t slot, std::uint32_t np) {
                 moved->channel_pos_[slot] = np;
             });
    if (it->second.empty()) {
        ss.channels.erase(it);
        routes.clear(target::channel, channel, me);
    }
}

void state::update_channels(engine::shard& sh, subscription& sub,
                            const std::vector<std::string>& unsubscribe,
                            const std::vector<std::string>& subscribe) {
    if (!sub.registered_) return;
    shard_state& ss = *shards[sh.index()];
    const unsigned me = sh.index();
    subscription_info& info = sub.info_;
    auto union_of = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
        std::vector<std::string> u = a;
        for (const auto& c : b)
            if (std::find(u.begin(), u.end(), c) == u.end()) u.push_back(c);
        return u;
    };
    auto publish_round = [&](const std::vector<std::string>& old) {
        info.meta.set("channels", join(info.channels));
        prov->updated(info);
        if (opts.on_update) opts.on_update(sub);
        // The memory provider's recipients: every subscriber of old and new channels.
        if (opts.notify_channel_of_subscriptions)
            notice(sub, "cmd.onUpdate", union_of(old, info.channels));
    };
    if (!unsubscribe.empty()) {
        const std::vector<std::string> old = info.channels;
        for (const auto& c : unsubscribe) {
            auto it = std::find(info.channels.begin(), info.channels.end(), c);
            if (it == info.channels.end()) continue;
            const std::size_t i = std::size_t(it - info.channels.begin());
            remove_from_channel(ss, me, sub, i);
            info.channels.erase(it);
            sub.channel_pos_.erase(sub.channel_pos_.begin() + std::ptrdiff_t(i));
            // Later channels moved down one slot: tell their member lists.
            for (std::size_t j = i; j < info.channels.size(); ++j)
                ss.channels[info.channels[j]].slot[sub.channel_pos_[j]] = std::uint16_t(j);
        }
        publish_round(old);
    }
    if (!subscribe.empty()) {
        const std::vector<std::string> old = info.channels;
        for (const auto& c : subscribe) {
            if (std::find(info.channels.begin(), info.channels.end(), c) != info.channels.end())
                continue;
            info.channels.push_back(c);
            member_list& l = ss.channels[c];
            if (l.empty()) routes.set(target::channel, c, me);
            sub.channel_pos_.push_back(
                push(l, &sub, sub.stream_, std::uint16_t(info.channels.size() - 1)));
        }
        publish_round(old);
    }
}

void state::send_to(engine::shard& sh, subscription& sub, std::string_view data) {
    proto::sse_event ev;
    ev.has_id = true;
    ev.id = sh.next_event_id();
    ev.data = data;
    engine::frame_ptr f(engine::frame::sse(ev));
    sh.send(sub.stream_, f.get());
    if (opts.on_publish) opts.on_publish(sub, data);
}

void state::pulse(engine::shard& sh, subscription& sub) {
    n_heartbeats.fetch_add(1, std::memory_order_relaxed);
    sub.last_pulse_ms_ = sh.now_ms();
    arm_idle(sh, sub);
    if (opts.on_heartbeat) opts.on_heartbeat(sub);
    notification n;
    n.to = target::subscription;
    n.key = sub.info_.id;
    n.selector = "cmd.onHeartbeat";
    const std::string meta = meta_json(sub.info_);
    n.body = meta;
    prov->publish(n);
}

void state::arm_idle(engine::shard& sh, subscription& sub) {
    const auto idle = std::uint64_t(opts.idle_timeout.count());
    // Re-armed on every heartbeat: a lazy re-arm keeps that nearly free.
    (void)sh.timers().arm_lazy(sub.idle_timer_, sub.last_pulse_ms_ + idle + 1, idle / 16);
}

void state::on_idle_timer(engine::timer_node& t) noexcept {
    subscription& sub = engine::timer_owner(t, &subscription::idle_timer_);
    engine::shard& sh = *sub.shard_;
    state& st = *sub.state_;
    const auto idle = std::uint64_t(st.opts.idle_timeout.count());
    if (sh.now_ms() - sub.last_pulse_ms_ <= idle) {
        // A heartbeat moved the deadline (the lazy re-arm kept the old one).
        sh.timers().arm(t, sub.last_pulse_ms_ + idle + 1);
        return;
    }
    st.n_expired.fetch_add(1, std::memory_order_relaxed);
    try {
        st.remove_sub(sh, sub, true);  // expired: same path as unregister, onLeave included
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ssepush events: expiring %s failed: %s\n", sub.id().c_str(),
                     e.what());
    }
}

void state::on_stream_closed(void* user, engine::stream_ref, engine::close_reason) noexcept {
    auto* sub = static_cast<subscription*>(user);
    sub->stream_closed_ = true;
    if (sub->registered_) {
        try {
            sub->state_->remove_sub(*sub->shard_, *sub, true);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "ssepush events: removing %s failed: %s\n", sub->id().c_str(),
                         e.what());
        }
    }
    delete sub;
}

void state::remove_all(engine::shard& sh) {
    shard_state& ss = *shards[sh.index()];
    // remove_sub edits ss.all: take a copy of who is there first.
    const std::vector<subscription*> subs = ss.all.subs;
    for (subscription* sub : subs)
        remove_sub(sh, *sub, false);
}

void state::notice(const subscription& sub, std::string_view selector,
                   const std::vector<std::string>& channels) {
    const std::string meta = meta_json(sub.info_);
    for (const auto& c : channels) {
        notification n;
        n.to = target::channel;
        n.key = c;
        n.selector = selector;
        n.body = meta;
        prov->publish(n);
    }
}

std::string state::meta_json(const subscription_info& info) const {
    std::string out;
    proto::json_writer w(out);
    w.begin_object();
    for (const auto& [k, v] : info.meta) {
        w.key(k);
        w.value(std::string_view(v));
    }
    w.end_object();
    return out;
}

std::string state::check_channels(const std::vector<std::string>& channels) const {
    if (channels.size() > opts.max_channels_per_subscription)
        return "too many channels: at most " + std::to_string(opts.max_channels_per_subscription);
    for (const auto& c : channels) {
        switch (proto::check_channel(c, opts.max_channel_name_length)) {
            case proto::channel_check::ok:
                break;
            case proto::channel_check::too_long:
                return "channel name longer than " + std::to_string(opts.max_channel_name_length) +
                       " bytes";
            case proto::channel_check::has_at:
                return "channel names cannot contain '@'";
            case proto::channel_check::has_comma:
                return "channel names cannot contain ','";
            case proto::channel_check::has_control:
                return "channel names cannot contain control characters";
        }
    }
    return {};
}

}  // namespace detail

// --- subscription ----------------------------------------------------------------

bool subscription::has_channel(std::string_view c) const noexcept {
    for (const auto& x : info_.channels)
        if (x == c) return true;
    return false;
}

void subscription::publish(std::string_view selector, std::string_view json) {
    std::string data;
    proto::append_data_line(data, selector, json);
    publish_raw(data);
}

void subscription::publish_raw(std::string_view data) {
    if (!registered_) return;
    state_->send_to(*shard_, *this, data);
}

void subscription::unsubscribe() {
    if (registered_) state_->remove_sub(*shard_, *this, true);
}

// --- server_events ---------------------------------------------------------------

server_events::server_events(engine::server& srv, options opts, std::unique_ptr<provider> p)
    : s_(std::make_unique<detail::state>(srv, std::move(opts), std::move(p))) {
    s_->install_routes();
}

server_events::~server_events() {
    // The server's routes and stream hooks point into this object: it cannot
    // keep serving without it. (Idempotent when the server is already stopped.)
    s_->srv.stop();
}

const options& server_events::opts() const noexcept {
    return s_->opts;
}
engine::server& server_events::server() noexcept {
    return s_->srv;
}

namespace {

void check_selector(std::string_view selector) {
    if (!proto::valid_selector(selector))
        throw std::invalid_argument("invalid selector '" + std::string(selector) +
                                    "': expected op.target without spaces or '@'");
}

}  // namespace

void server_events::notify(const notification& n) {
    check_selector(n.selector);
    if (n.key.size() > 0xffff || n.channel_filter.size() > 0xffff)
        throw std::invalid_argument("notification key or channel longer than 65535 bytes");
    s_->n_publishes.fetch_add(1, std::memory_order_relaxed);
    if (n.to == target::channel && n.key.find('@') != std::string_view::npos)
        throw std::invalid_argument("channel names cannot contain '@'");
    s_->prov->publish(n);
}

void server_events::notify_all(std::string_view selector, std::string_view json) {
    notify(notification{target::all, {}, selector, json, {}});
}

void server_events::notify_channel(std::string_view channel, std::string_view selector,
                                   std::string_view json) {
    notify(notification{target::channel, channel, selector, json, {}});
}

void server_events::notify_subscription(std::string_view id, std::string_view selector,
                                        std::string_view json, std::string_view channel) {
    notify(notification{target::subscription, id, selector, json, channel});
}

void server_events::notify_user_id(std::string_view user_id, std::string_view selector,
                                   std::string_view json, std::string_view channel) {
    notify(notification{target::user_id, user_id, selector, json, channel});
}

void server_events::notify_user_name(std::string_view user_name, std::string_view selector,
                                     std::string_view json, std::string_view channel) {
    notify(notification{target::user_name, user_name, selector, json, channel});
}

void server_events::notify_session(std::string_view session_id, std::string_view selector,
                                   std::string_view json, std::string_view channel) {
    notify(notification{target::session, session_id, selector, json, channel});
}

std::optional<subscription_info> server_events::get_subscription_info(std::string_view id) const {
    return s_->prov->find(id);
}

std::vector<subscription_info> server_events::get_subscription_infos_by_user_id(
    std::string_view user_id) const {
    return s_->prov->find_by_user_id(user_id);
}

std::vector<subscription_info> server_events::get_subscriptions(
    const std::vector<std::string>& channels) const {
    return s_->prov->find_in_channels(channels);
}

server_events::counters server_events::stats() const noexcept {
    counters c;
    const detail::state& st = *s_;
    c.subscriptions = st.n_subscriptions.load(std::memory_order_relaxed);
    c.channels = st.routes.channel_count();
    c.connects = st.n_connects.load(std::memory_order_relaxed);
    c.unregisters = st.n_unregisters.load(std::memory_order_relaxed);
    c.expired = st.n_expired.load(std::memory_order_relaxed);
    c.heartbeats = st.n_heartbeats.load(std::memory_order_relaxed);
    c.publishes = st.n_publishes.load(std::memory_order_relaxed);
    return c;
}

std::vector<string_map> server_events::get_subscriptions_details(
    const std::vector<std::string>& channels) const {
    return s_->prov->details(channels);
}

void server_events::subscribe_to_channels(std::string_view id, std::vector<std::string> channels) {
    if (auto why = s_->check_channels(channels); !why.empty()) throw std::invalid_argument(why);
    detail::state* st = s_.get();
    detail::on_subscription(
        *st, id, [st, channels = std::move(channels)](engine::shard& sh, subscription& sub) {
            st->update_channels(sh, sub, {}, channels);
        });
}

void server_events::unsubscribe_from_channels(std::string_view id,
                                              std::vector<std::string> channels) {
    detail::state* st = s_.get();
    detail::on_subscription(
        *st, id, [st, channels = std::move(channels)](engine::shard& sh, subscription& sub) {
            st->update_channels(sh, sub, channels, {});
        });
}

void server_events::unregister(std::string_view id) {
    detail::state* st = s_.get();
    detail::on_subscription(
        *st, id, [st](engine::shard& sh, subscription& sub) { st->remove_sub(sh, sub, true); });
}

void server_events::reset() {
    detail::state* st = s_.get();
    const unsigned n = st->srv.shard_count();
    // From a shard (a route handler) this must not block: the removal runs on
    // each shard after this returns. From any other thread it is synchronous.
    std::shared_ptr<std::latch> done;
    if (!engine::shard::current()) done = std::make_shared<std::latch>(n);
    for (unsigned i = 0; i < n; ++i)
        st->srv.run_on(i, [st, done](engine::shard& sh) {
            st->remove_all(sh);
            if (done) done->count_down();
        });
    if (done) done->wait();
    st->prov->reset();
}

void server_events::stop() {
    s_->stopped.store(true);
    reset();
}

void server_events::start() {
    s_->stopped.store(false);
}

void server_events::register_stream(engine::exchange& ex) {
    s_->handle_stream(ex);
}

std::int64_t server_events::next_sequence(std::string_view name) {
    return s_->prov->next_sequence(name);
}

}  // namespace ssepush::events
