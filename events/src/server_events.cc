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
#include <charconv>
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

// Adds `sub` under its key (none if the key is empty); the first subscriber of
// a key on this shard sets the shard's routing bit.
template <target Kind>
void add_key(key_index<Kind>& idx, routing& routes, unsigned me, subscription* sub) {
    const std::string_view key = sub_key<Kind>::of(sub);
    if (key.empty()) return;
    if (!idx.contains(key)) routes.set(Kind, key, me);
    idx.insert(sub);
}

// Removes `sub` from under its key; the last one clears the routing bit.
template <target Kind>
void remove_key(key_index<Kind>& idx, routing& routes, unsigned me, subscription* sub) {
    const std::string_view key = sub_key<Kind>::of(sub);
    if (key.empty()) return;
    auto [it, end] = idx.equal_range(key);
    for (; it != end; ++it) {
        if (*it == sub) {
            idx.erase(it);
            break;
        }
    }
    if (!idx.contains(key)) routes.clear(Kind, key, me);
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
    switch (kind) {
        case target::all:
            list = &ss.all;
            break;
        case target::channel: {
            thread_local std::string k;
            k.assign(key);
            auto it = ss.channels.find(k);
            if (it != ss.channels.end()) list = &it->second;
            break;
        }
        case target::user_id:
            return st->deliver_to_key(sh, ss.user_ids, key, filter, line);
        case target::user_name:
            return st->deliver_to_key(sh, ss.user_names, key, filter, line);
        case target::session:
            return st->deliver_to_key(sh, ss.sessions, key, filter, line);
        case target::subscription:
            single = st->find_local(sh, key);
            if (single && !filter.empty() && !single->has_channel(filter)) single = nullptr;
            break;
    }
    if (!single && (!list || list->empty())) return;

    try {
        engine::frame_ptr f(st->stamp(sh, line));
        if (single) {
            sh.send(st->stream_of(sh, *single), f.get());
            st->published(sh, *single, line);
            return;
        }
        if (filter.empty()) {
            sh.send(list->streams.data(), list->streams.size(), f.get());
            if (st->opts.on_publish)
                for (subscription* sub : list->subs)
                    st->published(sh, *sub, line);
            return;
        }
        // A channel filter (from notify()): only those in the channel.
        for (std::size_t i = 0; i < list->subs.size(); ++i) {
            subscription* sub = list->subs[i];
            if (!sub->has_channel(filter)) continue;
            sh.send(list->streams[i], f.get());
            st->published(sh, *sub, line);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ssepush events: delivery on shard %u failed: %s\n", sh.index(),
                     e.what());
    }
}

template <target Kind>
void state::deliver_to_key(engine::shard& sh, const key_index<Kind>& idx, std::string_view key,
                           std::string_view filter, std::string_view line) noexcept {
    auto [first, end] = idx.equal_range(key);
    if (first == end) return;
    try {
        engine::frame_ptr f(stamp(sh, line));
        // A channel filter: only those in the channel.
        auto wanted = [&](const subscription* sub) {
            return filter.empty() || sub->has_channel(filter);
        };
        if (!opts.on_publish) {
            for (auto it = first; it != end; ++it)
                if (wanted(*it)) sh.send(stream_of(sh, **it), f.get());
            return;
        }
        // The hook may unsubscribe someone (and change the index): recipients first.
        std::vector<subscription*> to;
        for (auto it = first; it != end; ++it)
            if (wanted(*it)) to.push_back(*it);
        for (subscription* sub : to) {
            if (!sub->registered_) continue;
            sh.send(stream_of(sh, *sub), f.get());
            published(sh, *sub, line);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ssepush events: delivery on shard %u failed: %s\n", sh.index(),
                     e.what());
    }
}

engine::frame* state::stamp(engine::shard& sh, std::string_view line) {
    proto::sse_event ev;
    ev.has_id = true;
    ev.id = sh.next_event_id();
    ev.data = line;
    return engine::frame::sse(ev);
}

void state::published(engine::shard& sh, subscription& sub, std::string_view line) {
    if (!opts.on_publish) return;
    opts.on_publish(sub, line);
    publish_edits(sh, sub);
}

// --- registration --------------------------------------------------------------

subscription* state::find_local(engine::shard& sh, std::string_view id) {
    shard_state& ss = *shards[sh.index()];
    auto it = ss.by_id.find(id);
    return it == ss.by_id.end() ? nullptr : *it;
}

engine::stream_ref state::stream_of(engine::shard& sh, const subscription& sub) const noexcept {
    return shards[sh.index()]->all.streams[sub.all_pos_];
}

void state::register_sub(engine::shard& sh, subscription& sub, engine::stream_ref stream) {
    shard_state& ss = *shards[sh.index()];
    const unsigned me = sh.index();
    auto positions = std::make_unique<std::uint32_t[]>(sub.channels_.size());
    {
        std::lock_guard lock(ss.mu);
        ss.by_id.insert(&sub);
        sub.all_pos_ = push(ss.all, &sub, stream, 0);
        sub.channel_pos_ = std::move(positions);
        for (std::size_t i = 0; i < sub.channels_.size(); ++i) {
            member_list& l = ss.channels[sub.channels_[i]];
            if (l.empty()) routes.set(target::channel, sub.channels_[i], me);
            sub.channel_pos_[i] = push(l, &sub, stream, std::uint16_t(i));
        }
        add_key(ss.user_ids, routes, me, &sub);
        add_key(ss.user_names, routes, me, &sub);
        add_key(ss.sessions, routes, me, &sub);
        sub.registered_ = true;
    }
    n_subscriptions.fetch_add(1, std::memory_order_relaxed);
    n_connects.fetch_add(1, std::memory_order_relaxed);
    prov->registered(sub);
}

void state::remove_sub(engine::shard& sh, subscription& sub, bool leave) {
    if (!sub.registered_) return;
    n_subscriptions.fetch_sub(1, std::memory_order_relaxed);
    n_unregisters.fetch_add(1, std::memory_order_relaxed);
    shard_state& ss = *shards[sh.index()];
    const unsigned me = sh.index();
    const engine::stream_ref stream = stream_of(sh, sub);
    {
        std::lock_guard lock(ss.mu);
        if (sub.draft_) sub.extras_ = std::move(sub.draft_);  // no one else can see it now
        for (std::size_t i = 0; i < sub.channels_.size(); ++i)
            remove_from_channel(ss, me, sub, i);
        remove_key(ss.user_ids, routes, me, &sub);
        remove_key(ss.user_names, routes, me, &sub);
        remove_key(ss.sessions, routes, me, &sub);
        erase_at(ss.all, sub.all_pos_, [](subscription* moved, std::uint16_t, std::uint32_t np) {
            moved->all_pos_ = np;
        });
        ss.by_id.erase(&sub);
        sub.registered_ = false;
    }
    sh.timers().cancel(sub.idle_timer_);
    prov->unregistered(sub);
    if (opts.on_unsubscribe) opts.on_unsubscribe(sub);
    if (!sub.stream_closed_) sh.end_stream(stream);
    if (leave && opts.notify_channel_of_subscriptions) notice(sub, "cmd.onLeave", sub.channels_);
}

void state::remove_from_channel(shard_state& ss, unsigned me, subscription& sub, std::size_t i) {
    const std::string& channel = sub.channels_[i];
    auto it = ss.channels.find(channel);
    if (it == ss.channels.end()) return;
    erase_at(it->second, sub.channel_pos_[i],
             [](subscription* moved, std::uint16_t slot, std::uint32_t np) {
                 moved->channel_pos_[slot] = np;
             });
    if (it->second.empty()) {
        routes.clear(target::channel, channel, me);
        ss.channels.erase(it);
    }
}

void state::update_channels(engine::shard& sh, subscription& sub,
                            const std::vector<std::string>& unsubscribe,
                            const std::vector<std::string>& subscribe) {
    if (!sub.registered_) return;
    publish_edits(sh, sub);
    shard_state& ss = *shards[sh.index()];
    const unsigned me = sh.index();
    auto union_of = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
        std::vector<std::string> u = a;
        for (const auto& c : b)
            if (std::find(u.begin(), u.end(), c) == u.end()) u.push_back(c);
        return u;
    };
    // A complete Meta keeps its "channels" entry current (under the lock: it is published).
    auto sync_meta = [&] {
        if (sub.extras_ && sub.extras_->meta_complete)
            sub.extras_->meta.set("channels", join(sub.channels_));
    };
    auto publish_round = [&](const std::vector<std::string>& old) {
        std::vector<std::string> removed;
        for (const auto& c : old)
            if (!sub.has_channel(c)) removed.push_back(c);
        prov->updated(sub, removed);
        if (opts.on_update) {
            opts.on_update(sub);
            publish_edits(sh, sub);
        }
        // The memory provider's recipients: every subscriber of old and new channels.
        if (opts.notify_channel_of_subscriptions)
            notice(sub, "cmd.onUpdate", union_of(old, sub.channels_));
    };
    if (!unsubscribe.empty()) {
        const std::vector<std::string> old = sub.channels_;
        {
            std::lock_guard lock(ss.mu);
            for (const auto& c : unsubscribe) {
                auto it = std::find(sub.channels_.begin(), sub.channels_.end(), c);
                if (it == sub.channels_.end()) continue;
                const std::size_t i = std::size_t(it - sub.channels_.begin());
                remove_from_channel(ss, me, sub, i);
                sub.channels_.erase(it);
                // Later channels move down one slot: tell their member lists.
                // (channel_pos_ keeps its length: only the first channels_.size() count.)
                for (std::size_t j = i; j < sub.channels_.size(); ++j) {
                    sub.channel_pos_[j] = sub.channel_pos_[j + 1];
                    ss.channels[sub.channels_[j]].slot[sub.channel_pos_[j]] = std::uint16_t(j);
                }
            }
            sync_meta();
        }
        publish_round(old);
    }
    if (!subscribe.empty()) {
        const std::vector<std::string> old = sub.channels_;
        const engine::stream_ref stream = stream_of(sh, sub);
        auto positions = std::make_unique<std::uint32_t[]>(old.size() + subscribe.size());
        std::copy_n(sub.channel_pos_.get(), old.size(), positions.get());
        {
            std::lock_guard lock(ss.mu);
            sub.channel_pos_ = std::move(positions);
            for (const auto& c : subscribe) {
                if (sub.has_channel(c)) continue;
                sub.channels_.push_back(c);
                member_list& l = ss.channels[c];
                if (l.empty()) routes.set(target::channel, c, me);
                const std::size_t i = sub.channels_.size() - 1;
                sub.channel_pos_[i] = push(l, &sub, stream, std::uint16_t(i));
            }
            sync_meta();
        }
        publish_round(old);
    }
}

void state::publish_edits(engine::shard& sh, subscription& sub) {
    if (!sub.draft_) return;
    std::unique_ptr<subscription_extras> old;
    {
        std::lock_guard lock(shards[sh.index()]->mu);
        old = std::exchange(sub.extras_, std::move(sub.draft_));
    }
}

void state::send_to(engine::shard& sh, subscription& sub, std::string_view data) {
    engine::frame_ptr f(stamp(sh, data));
    sh.send(stream_of(sh, sub), f.get());
    published(sh, sub, data);
}

void state::pulse(engine::shard& sh, subscription& sub) {
    n_heartbeats.fetch_add(1, std::memory_order_relaxed);
    sub.last_pulse_ms_ = sh.now_ms();
    arm_idle(sh, sub);
    if (opts.on_heartbeat) {
        opts.on_heartbeat(sub);
        publish_edits(sh, sub);
    }
    notification n;
    n.to = target::subscription;
    n.key = sub.id();
    n.selector = "cmd.onHeartbeat";
    const std::string meta = meta_json(sub);
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
    engine::shard& sh = sub.home();
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
        std::fprintf(stderr, "ssepush events: expiring %.*s failed: %s\n", int(sub.id().size()),
                     sub.id().data(), e.what());
    }
}

void state::on_stream_closed(void* user, engine::stream_ref, engine::close_reason) noexcept {
    auto* sub = static_cast<subscription*>(user);
    sub->stream_closed_ = true;
    if (sub->registered_) {
        try {
            sub->state_->remove_sub(sub->home(), *sub, true);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "ssepush events: removing %.*s failed: %s\n",
                         int(sub->id().size()), sub->id().data(), e.what());
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
    std::string meta = meta_json(sub);
    // With a shared provider the body names the channel too, as ServiceStack's
    // RedisServerEvents writes it (PROTOCOL.md 7.3).
    const bool named = prov->shared();
    const std::size_t open = meta.size() - 1;  // before the closing '}'
    for (const auto& c : channels) {
        if (named) {
            meta.resize(open);
            if (meta.size() > 1) meta.push_back(',');
            meta += "\"channel\":";
            proto::json_string(c, meta);
            meta.push_back('}');
        }
        notification n;
        n.to = target::channel;
        n.key = c;
        n.selector = selector;
        n.body = meta;
        prov->publish(n);
    }
}

// --- commands from other nodes (any thread) ---------------------------------------

// Every node hears every command: most are for subscriptions held elsewhere,
// so the owner's index is looked at before a task is posted to it.

void state::held_pulse(std::string_view id) {
    if (peek(id, {}) == presence::missing) return;
    on_subscription(*this, id, [this](engine::shard& sh, subscription& sub) { pulse(sh, sub); });
}

void state::held_unregister(std::string_view id) {
    if (peek(id, {}) == presence::missing) return;
    on_subscription(*this, id,
                    [this](engine::shard& sh, subscription& sub) { remove_sub(sh, sub, true); });
}

void state::held_update(std::string_view id, std::vector<std::string> unsubscribe,
                        std::vector<std::string> subscribe) {
    if (!check_channels(subscribe).empty()) return;  // the requesting node checked already
    if (peek(id, {}) == presence::missing) return;
    on_subscription(*this, id,
                    [this, unsubscribe = std::move(unsubscribe), subscribe = std::move(subscribe)](
                        engine::shard& sh, subscription& sub) {
                        std::vector<std::string> add;
                        std::size_t total = sub.channels().size();
                        for (const auto& c : subscribe)
                            if (!sub.has_channel(c) && total < opts.max_channels_per_subscription) {
                                add.push_back(c);
                                ++total;
                            }
                        update_channels(sh, sub, unsubscribe, add);
                    });
}

void state::for_each_held(unsigned shard,
                          const std::function<void(const subscription&)>& fn) const {
    if (shard >= shards.size()) return;
    for (const subscription* sub : shards[shard]->all.subs)
        fn(*sub);
}

std::string state::meta_json(const subscription& sub) {
    std::string out;
    proto::json_writer w(out);
    w.begin_object();
    for_each_meta(sub, sub.current_extras(), [&](std::string_view k, std::string_view v) {
        w.key(k);
        w.value(v);
    });
    w.end_object();
    return out;
}

// --- queries (any thread) ----------------------------------------------------------

std::optional<subscription_info> state::local_find(std::string_view id) const {
    return with_indexed(id, [](const subscription* sub) -> std::optional<subscription_info> {
        if (!sub) return std::nullopt;
        return sub->snapshot(sub->extras_.get());
    });
}

state::presence state::peek(std::string_view id, std::string_view address) const {
    return with_indexed(id, [address](const subscription* sub) {
        if (!sub) return presence::missing;
        if (!address.empty() && sub->user_address() != address) return presence::other_address;
        return presence::present;
    });
}

std::vector<subscription_info> state::local_find_by_user_id(std::string_view user_id) const {
    std::vector<subscription_info> out;
    for (const auto& ss : shards) {
        std::lock_guard lock(ss->mu);
        auto [it, end] = ss->user_ids.equal_range(user_id);
        for (; it != end; ++it)
            out.push_back((*it)->snapshot((*it)->extras_.get()));
    }
    return out;
}

template <class Fn>
void state::for_each_in(const std::vector<std::string>& channels, Fn fn) const {
    if (channels.empty()) {
        for (const auto& ss : shards) {
            std::lock_guard lock(ss->mu);
            for (const subscription* sub : ss->all.subs)
                fn(*sub, std::size_t(0));
        }
        return;
    }
    // A subscription is on one shard: de-duplicating within a shard is enough.
    std::unordered_set<const subscription*> seen;
    for (const auto& ss : shards) {
        seen.clear();
        std::lock_guard lock(ss->mu);
        for (std::size_t c = 0; c < channels.size(); ++c) {
            auto it = ss->channels.find(channels[c]);
            if (it == ss->channels.end()) continue;
            for (const subscription* sub : it->second.subs)
                if (channels.size() == 1 || seen.insert(sub).second) fn(*sub, c);
        }
    }
}

std::vector<string_map> state::local_details(const std::vector<std::string>& channels) const {
    // Gathered per channel, then joined in channel order.
    std::vector<std::vector<string_map>> per(std::max<std::size_t>(channels.size(), 1));
    for_each_in(channels, [&](const subscription& sub, std::size_t c) {
        string_map& m = per[c].emplace_back();
        for_each_meta(sub, sub.extras_.get(),
                      [&](std::string_view k, std::string_view v) { m.set(k, v); });
    });
    std::vector<string_map> out;
    for (auto& v : per)
        std::move(v.begin(), v.end(), std::back_inserter(out));
    return out;
}

std::vector<subscription_info> state::local_find_in_channels(
    const std::vector<std::string>& channels) const {
    std::vector<std::vector<subscription_info>> per(std::max<std::size_t>(channels.size(), 1));
    for_each_in(channels, [&](const subscription& sub, std::size_t c) {
        per[c].push_back(sub.snapshot(sub.extras_.get()));
    });
    std::vector<subscription_info> out;
    for (auto& v : per)
        std::move(v.begin(), v.end(), std::back_inserter(out));
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

// Hundreds of thousands of these stay open: keep them within malloc's
// 160-byte size class (see subscription.h).
static_assert(sizeof(void*) != 8 || sizeof(subscription) <= 160);

bool subscription::has_channel(std::string_view c) const noexcept {
    for (const auto& x : channels_)
        if (x == c) return true;
    return false;
}

engine::shard& subscription::home() const noexcept {
    return state_->srv.shard_at(proto::shard_of_subscription_id(id()));
}

std::string_view subscription::profile_url() const noexcept {
    const std::string_view own = text_[k_profile_url];
    return own.empty() ? std::string_view(state_->profile_url) : own;
}

detail::subscription_extras& subscription::editable_extras() {
    if (!registered_) {
        // Not in the indexes (not yet, or no more): no query can see it.
        if (!extras_) extras_ = std::make_unique<detail::subscription_extras>();
        return *extras_;
    }
    if (!draft_)
        draft_ = extras_ ? std::make_unique<detail::subscription_extras>(*extras_)
                         : std::make_unique<detail::subscription_extras>();
    return *draft_;
}

string_map& subscription::meta() {
    detail::subscription_extras& x = editable_extras();
    if (!x.meta_complete) {
        string_map m;
        detail::for_each_meta(*this, nullptr,
                              [&](std::string_view k, std::string_view v) { m.set(k, v); });
        x.meta = std::move(m);
        x.meta_complete = true;
    }
    return x.meta;
}

subscription_info subscription::snapshot(const detail::subscription_extras* x) const {
    subscription_info i;
    i.id = id();
    i.channels = channels_;
    i.user_id = user_id();
    i.user_name = user_name();
    i.display_name = display_name();
    i.session_id = session_id();
    i.user_address = user_address();
    i.is_authenticated = is_authenticated_;
    i.created_at_ms = created_at_ms_;
    detail::for_each_meta(*this, x,
                          [&](std::string_view k, std::string_view v) { i.meta.set(k, v); });
    if (x) {
        i.connect_args = x->connect_args;
        i.server_args = x->server_args;
    }
    return i;
}

subscription_info subscription::info() const {
    return snapshot(current_extras());
}

void subscription::publish(std::string_view selector, std::string_view json) {
    std::string data;
    proto::append_data_line(data, selector, json);
    publish_raw(data);
}

void subscription::publish_raw(std::string_view data) {
    if (!registered_) return;
    state_->send_to(home(), *this, data);
}

void subscription::unsubscribe() {
    if (registered_) state_->remove_sub(home(), *this, true);
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

void server_events::get_subscription_info(std::string_view id,
                                          reply_fn<std::optional<subscription_info>> done) const {
    s_->prov->find_async(id, std::move(done));
}

void server_events::get_subscription_infos_by_user_id(
    std::string_view user_id, reply_fn<std::vector<subscription_info>> done) const {
    s_->prov->find_by_user_id_async(user_id, std::move(done));
}

void server_events::get_subscriptions(const std::vector<std::string>& channels,
                                      reply_fn<std::vector<subscription_info>> done) const {
    s_->prov->find_in_channels_async(channels, std::move(done));
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

namespace {

// Removes every subscription this process holds, without onLeave. From a
// shard (a route handler) this must not block: the removal runs on each shard
// after this returns. From any other thread it is synchronous.
void remove_every_held(detail::state* st) {
    const unsigned n = st->srv.shard_count();
    std::shared_ptr<std::latch> done;
    if (!engine::shard::current()) done = std::make_shared<std::latch>(n);
    for (unsigned i = 0; i < n; ++i)
        st->srv.run_on(i, [st, done](engine::shard& sh) {
            st->remove_all(sh);
            if (done) done->count_down();
        });
    if (done) done->wait();
}

}  // namespace

void server_events::reset() {
    remove_every_held(s_.get());
    s_->prov->reset();
}

void server_events::stop() {
    s_->stopped.store(true);
    remove_every_held(s_.get());
    // Only this node's subscriptions go (a shared store keeps the others'):
    // give their removal a moment to reach it before the server stops.
    if (!engine::shard::current()) s_->prov->flush(std::chrono::seconds(2));
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
