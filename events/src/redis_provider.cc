// The Redis provider (see redis_provider.h and PROTOCOL.md 7).
//
// Per shard, one `redis_conn` for commands (pipelined: a FIFO of reply
// callbacks, one per command sent); on shard 0 also the pub/sub `redis_conn`.
// Both ride on engine links. Everything a connection owns is touched only on
// its shard; the provider's own cross-thread state is a few atomics.
#include "ssepush/events/redis_provider.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <future>
#include <mutex>
#include <random>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "ssepush/engine/link.h"
#include "ssepush/engine/shard.h"
#include "ssepush/proto/redis_topic.h"
#include "ssepush/proto/subscription_record.h"
#include "ssepush/proto/url.h"

namespace ssepush::events {

// --- the URL ---------------------------------------------------------------------

redis_options parse_redis_url(std::string_view url) {
    // The URL itself is not repeated: it may hold a password.
    auto fail = [](const std::string& why) {
        throw std::invalid_argument("redis URL: " + why +
                                    " (expected redis://[:password@]host[:port][/db])");
    };
    constexpr std::string_view scheme = "redis://";
    if (url.substr(0, scheme.size()) != scheme) fail("must start with redis://");
    std::string_view rest = url.substr(scheme.size());
    redis_options o;
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view auth = rest.substr(0, at);
        rest = rest.substr(at + 1);
        // ":password" or "user:password" (Redis 6 ACL users are not supported: AUTH password)
        const auto colon = auth.find(':');
        if (colon == std::string_view::npos) fail("credentials must be ':password'");
        if (colon != 0) fail("user names are not supported, only ':password'");
        proto::url_decode(auth.substr(colon + 1), o.password, false);
        if (o.password.empty()) fail("empty password");
    }
    std::string_view hostport = rest;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        hostport = rest.substr(0, slash);
        std::string_view db = rest.substr(slash + 1);
        if (!db.empty()) {
            unsigned v = 0;
            auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), v);
            if (ec != std::errc() || p != db.data() + db.size() || v > 15 * 1024)
                fail("database must be a number");
            o.db = v;
        }
    }
    std::string_view host = hostport, port;
    if (!hostport.empty() && hostport.front() == '[') {
        const auto close = hostport.find(']');
        if (close == std::string_view::npos) fail("unclosed '[' in an IPv6 host");
        host = hostport.substr(1, close - 1);
        std::string_view after = hostport.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') fail("expected ':port' after ']'");
            port = after.substr(1);
        }
    } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
        host = hostport.substr(0, colon);
        port = hostport.substr(colon + 1);
    }
    if (host.empty()) fail("no host");
    if (host == "localhost") host = "127.0.0.1";
    unsigned char buf[16];
    const std::string h(host);
    if (inet_pton(AF_INET, h.c_str(), buf) != 1 && inet_pton(AF_INET6, h.c_str(), buf) != 1)
        fail("host must be a numeric IP address or localhost, got '" + h + "'");
    o.host = h;
    if (!port.empty()) {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
        if (ec != std::errc() || p != port.data() + port.size() || v == 0 || v > 65535)
            fail("port must be 1-65535");
        o.port = std::uint16_t(v);
    }
    return o;
}

std::string redis_url(const redis_options& o) {
    std::string u = "redis://";
    if (!o.password.empty()) u += ":***@";
    const bool v6 = o.host.find(':') != std::string::npos;
    u += v6 ? "[" + o.host + "]" : o.host;
    u += ":" + std::to_string(o.port);
    if (o.db) u += "/" + std::to_string(o.db);
    return u;
}

namespace {

using engine::shard;

// A reply, or nullptr when the connection went before it came.
using reply_cb = std::function<void(const redisReply*)>;

std::int64_t unix_ms_now() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return std::int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

std::string ticks_now() {
    return std::to_string(proto::ticks_from_unix_ms(unix_ms_now()));
}

// Formats one command (RESP, with hiredis) and appends it to `out`.
void append_formatted(std::string& out, int argc, const char** argv, const std::size_t* lens) {
    char* cmd = nullptr;
    const int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    if (len < 0 || !cmd) throw std::bad_alloc();
    out.append(cmd, std::size_t(len));
    redisFreeCommand(cmd);
}

// A command of a few arguments (no allocation for the argument vector).
void append_command(std::string& out, std::initializer_list<std::string_view> args) {
    constexpr std::size_t k_max = 16;
    if (args.size() > k_max) throw std::logic_error("append_command: more than 16 arguments");
    const char* argv[k_max];
    std::size_t lens[k_max];
    int n = 0;
    for (std::string_view a : args) {
        argv[n] = a.data() ? a.data() : "";
        lens[n] = a.size();
        ++n;
    }
    append_formatted(out, n, argv, lens);
}

// A command of any length (MGET of many keys, EVAL).
void append_command(std::string& out, const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    append_formatted(out, int(args.size()), argv.data(), lens.data());
}

std::string_view text_of(const redisReply* r) {
    if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS &&
               r->type != REDIS_REPLY_ERROR))
        return {};
    return std::string_view(r->str, r->len);
}

subscription_info info_of(proto::subscription_record&& r) {
    subscription_info i;
    i.id = std::move(r.id);
    i.channels = std::move(r.channels);
    i.user_id = std::move(r.user_id);
    i.user_name = std::move(r.user_name);
    i.display_name = std::move(r.display_name);
    i.session_id = std::move(r.session_id);
    i.user_address = std::move(r.user_address);
    i.is_authenticated = r.is_authenticated;
    i.created_at_ms = r.created_at_ms;
    for (auto& [k, v] : r.meta)
        i.meta.set(k, v);
    for (auto& [k, v] : r.connect_args)
        i.connect_args.set(k, v);
    for (auto& [k, v] : r.server_args)
        i.server_args.set(k, v);
    return i;
}

// A snapshot as the record stored in Redis (its identity strings moved).
proto::subscription_record record_of(subscription_info&& i) {
    proto::subscription_record r;
    r.id = std::move(i.id);
    r.channels = std::move(i.channels);
    r.user_id = std::move(i.user_id);
    r.user_name = std::move(i.user_name);
    r.display_name = std::move(i.display_name);
    r.session_id = std::move(i.session_id);
    r.user_address = std::move(i.user_address);
    r.is_authenticated = i.is_authenticated;
    r.created_at_ms = i.created_at_ms;
    for (const auto& [k, v] : i.meta)
        r.meta.emplace_back(k, v);
    for (const auto& [k, v] : i.connect_args)
        r.connect_args.emplace_back(k, v);
    for (const auto& [k, v] : i.server_args)
        r.server_args.emplace_back(k, v);
    return r;
}

proto::topic_kind kind_of(target t) {
    switch (t) {
        case target::all:
            return proto::topic_kind::notify_all;
        case target::channel:
            return proto::topic_kind::notify_channel;
        case target::subscription:
            return proto::topic_kind::notify_subscription;
        case target::user_id:
            return proto::topic_kind::notify_user_id;
        case target::user_name:
            return proto::topic_kind::notify_user_name;
        case target::session:
            return proto::topic_kind::notify_session;
    }
    return proto::topic_kind::notify_all;
}

// The notify target a topic message names, if it is a notify message.
std::optional<target> target_of(proto::topic_kind k) {
    for (target t : {target::all, target::channel, target::subscription, target::user_id,
                     target::user_name, target::session})
        if (kind_of(t) == k) return t;
    return std::nullopt;
}

// The commands that remove subscription `id` and its index entries (inside a
// MULTI), appended to `out`; returns how many.
std::size_t append_removal(std::string& out, std::string_view prefix, std::string_view id,
                           std::string_view user_id, const std::vector<std::string>& channels,
                           std::string_view user_name, std::string_view session_id) {
    auto key = [&](std::string_view kind, std::string_view name) {
        std::string k(prefix);
        k.append(kind).append(name);
        return k;
    };
    std::size_t n = 0;
    auto add = [&](std::initializer_list<std::string_view> args) {
        append_command(out, args);
        ++n;
    };
    add({"DEL", key("id:", id)});
    add({"ZREM", key("ids", ""), id});
    if (!user_id.empty()) add({"SREM", key("userid:", user_id), id});
    for (const auto& ch : channels)
        add({"SREM", key("channel:", ch), id});
    if (!user_name.empty()) add({"SREM", key("username:", user_name), id});
    if (!session_id.empty()) add({"SREM", key("session:", session_id), id});
    return n;
}

class provider_impl;

// One connection to Redis on one shard: commands (pipelined), or the pub/sub
// subscription to the topic.
class redis_conn final : public engine::link_handler {
public:
    redis_conn(provider_impl& p, shard& sh, bool pubsub) : p_(p), shard_(sh), pubsub_(pubsub) {}
    ~redis_conn() {
        close();
        if (reader_) redisReaderFree(reader_);
    }

    void open(const redis_options& o);
    // For good (the shard is stopping): no callback runs.
    void close() noexcept;

    [[nodiscard]] bool ready() const noexcept { return ready_; }
    [[nodiscard]] std::uint64_t epoch() const noexcept { return epoch_; }
    [[nodiscard]] std::size_t queued_bytes() const noexcept {
        return link_ ? link_->queued_bytes() : 0;
    }
    [[nodiscard]] shard& home() const noexcept { return shard_; }

    // Sends formatted commands; `replies` callbacks, one per command, in
    // order (empty ones ignore their reply). False if the link is not ready
    // (nothing sent, no callback called).
    bool send(std::string_view bytes, std::initializer_list<reply_cb> replies);
    bool send(std::string_view bytes, std::vector<reply_cb>&& replies);
    bool send(std::string_view bytes, std::size_t ignored_replies);
    // One command with a callback.
    bool command(std::initializer_list<std::string_view> args, reply_cb cb);
    bool command(const std::vector<std::string>& args, reply_cb cb);

    void on_link_up(engine::link& l) override;
    void on_link_data(engine::link& l, std::string_view bytes) override;
    void on_link_down(engine::link& l, int error) override;

private:
    bool push_bytes(std::string_view bytes);
    void on_reply(redisReply* r);
    void fail_pending();

    provider_impl& p_;
    shard& shard_;
    bool pubsub_;
    engine::link* link_ = nullptr;
    redisReader* reader_ = nullptr;
    std::deque<reply_cb> pending_;
    bool ready_ = false;
    bool was_up_ = false;      // for the log: say "down" once per loss
    std::uint64_t epoch_ = 0;  // bumped when the connection goes
};

// Sequence numbers handed out by one shard: the current block [next, end)
// and the one fetched ahead.
struct seq_block {
    std::int64_t next = 0, end = 0;
    std::int64_t spare_next = 0, spare_end = 0;
    bool fetching = false;
};

// Storing a shard's subscriptions again after its link came (back) up.
struct restore_job {
    std::vector<std::string> ids;
    std::size_t next = 0;
    std::uint64_t epoch = 0;  // of the connection it is for
};

struct shard_part {
    std::unique_ptr<redis_conn> cmd;
    std::unique_ptr<redis_conn> sub;  // shard 0 only
    std::unordered_map<std::string, seq_block> seqs;
    engine::timer_node sweep_timer;  // shard 0 only
    std::unique_ptr<restore_job> restore;
    engine::timer_node restore_timer;
    provider_impl* owner = nullptr;
};

class provider_impl final : public redis_provider {
public:
    provider_impl(engine::server& srv, redis_options o);

    // --- provider ---
    void attach(local_bus& bus) override { bus_ = &bus; }
    void publish(const notification& n) override;
    void registered(const subscription& sub) override;
    void updated(const subscription& sub, const std::vector<std::string>& removed) override;
    void unregistered(const subscription& sub) override;
    void heartbeat(const subscription& sub) override;
    void reset() override;
    void flush(std::chrono::milliseconds limit) override;

    std::optional<subscription_info> find(std::string_view id) const override;
    std::vector<subscription_info> find_by_user_id(std::string_view user_id) const override;
    std::vector<string_map> details(const std::vector<std::string>& channels) const override;
    std::vector<subscription_info> find_in_channels(
        const std::vector<std::string>& channels) const override;
    bool shared() const noexcept override { return true; }
    void find_async(std::string_view id, reply_fn<std::optional<subscription_info>> done) override;
    void find_by_user_id_async(std::string_view user_id,
                               reply_fn<std::vector<subscription_info>> done) override;
    void find_in_channels_async(const std::vector<std::string>& channels,
                                reply_fn<std::vector<subscription_info>> done) override;
    void remote(remote_request r, reply_fn<remote_result> done) override;

    std::int64_t next_anonymous_id() override { return next_sequence("anonUser"); }
    std::int64_t next_sequence(std::string_view name) override;

    redis_status status() const noexcept override;

    // --- from the connections (on their shard) ---
    void command_up(redis_conn& c);
    void command_down(redis_conn& c);
    void subscribed(bool yes) noexcept { subscribed_.store(yes, std::memory_order_release); }
    void topic_message(std::string_view payload);
    // Removes from Redis the subscriptions of nodes that are gone (shard 0).
    void sweep(shard& sh);
    static void on_sweep_timer(engine::timer_node& t) noexcept;
    // Stores the next batch of a shard's subscriptions after a (re)connect.
    void restore_step(shard& sh);
    static void on_restore_timer(engine::timer_node& t) noexcept;
    void count_connect() noexcept { connects_.fetch_add(1, std::memory_order_relaxed); }
    void count_failure() noexcept { failures_.fetch_add(1, std::memory_order_relaxed); }
    [[nodiscard]] const redis_options& opts() const noexcept { return o_; }
    [[nodiscard]] const std::string& topic() const noexcept { return topic_; }

private:
    // This server's shard calling, or nullptr (another thread, or a shard of
    // another server in the same process).
    [[nodiscard]] shard* here() const noexcept {
        shard* s = shard::current();
        return s && &s->owner() == &srv_ ? s : nullptr;
    }
    [[nodiscard]] redis_conn* cmd_on(shard& sh) const noexcept {
        redis_conn* c = parts_[sh.index()]->cmd.get();
        return c && c->ready() ? c : nullptr;
    }
    [[nodiscard]] redis_conn* cmd_here() const noexcept;
    [[nodiscard]] std::string key(std::string_view kind, std::string_view name) const {
        std::string k = o_.prefix;
        k.append(kind).append(name);
        return k;
    }
    void publish_on(shard& sh, const notification& n);
    void store(redis_conn& c, const proto::subscription_record& r,
               const std::vector<std::string>& removed);
    void fetch_block(redis_conn& c, const std::string& name);
    void read_records(redis_conn& c, std::vector<std::string> ids,
                      reply_fn<std::vector<subscription_info>> done);
    // Runs start(done) on shard 0 and waits (a thread that is not a shard).
    template <class T, class Start>
    T wait_for(Start start, T fallback) const;

    engine::server& srv_;
    redis_options o_;
    std::string topic_;
    local_bus* bus_ = nullptr;
    std::vector<std::unique_ptr<shard_part>> parts_;
    std::atomic<bool> subscribed_{false};
    std::atomic<unsigned> cmd_up_{0};
    std::atomic<std::uint64_t> connects_{0}, failures_{0}, published_{0}, received_{0},
        local_only_{0}, skipped_{0}, swept_{0};
    // Numbers handed out while no block has arrived yet (a shard that has not
    // reached Redis): from a random base, so two nodes rarely collide.
    std::atomic<std::int64_t> fallback_seq_;
};

// --- redis_conn ----------------------------------------------------------------------

void redis_conn::open(const redis_options& o) {
    engine::link_options lo;
    lo.host = o.host;
    lo.port = o.port;
    lo.connect_timeout_ms = o.connect_timeout_ms;
    lo.backoff_min_ms = o.backoff_min_ms;
    lo.backoff_max_ms = o.backoff_max_ms;
    lo.max_queued_bytes = o.max_queued_bytes;
    link_ = shard_.open_link(lo, *this);
}

bool redis_conn::push_bytes(std::string_view bytes) {
    if (!link_ || !ready_) return false;
    if (!link_->send(bytes)) {
        // Redis does not keep up (or the link just went): drop the link and
        // start again, rather than queue without bound. Not from inside the
        // caller's stack: it may be iterating replies.
        const std::uint64_t epoch = epoch_;
        engine::link* l = link_;
        shard_.run_on(shard_.index(), [this, epoch, l](shard&) {
            if (epoch_ == epoch && link_ == l) l->reset(ENOBUFS);
        });
        ready_ = false;
        return false;
    }
    return true;
}

bool redis_conn::send(std::string_view bytes, std::initializer_list<reply_cb> replies) {
    if (!push_bytes(bytes)) return false;
    for (const reply_cb& cb : replies)
        pending_.push_back(cb);
    return true;
}

bool redis_conn::send(std::string_view bytes, std::vector<reply_cb>&& replies) {
    if (!push_bytes(bytes)) return false;
    for (reply_cb& cb : replies)
        pending_.push_back(std::move(cb));
    return true;
}

void redis_conn::close() noexcept {
    if (link_) link_->close();
    link_ = nullptr;
    ready_ = false;
    pending_.clear();
    if (was_up_ && !pubsub_) p_.command_down(*this);
    if (pubsub_) p_.subscribed(false);
    was_up_ = false;
}

bool redis_conn::send(std::string_view bytes, std::size_t ignored_replies) {
    if (!push_bytes(bytes)) return false;
    pending_.resize(pending_.size() + ignored_replies);
    return true;
}

bool redis_conn::command(std::initializer_list<std::string_view> args, reply_cb cb) {
    thread_local std::string buf;
    buf.clear();
    append_command(buf, args);
    return send(buf, {std::move(cb)});
}

bool redis_conn::command(const std::vector<std::string>& args, reply_cb cb) {
    std::string buf;
    append_command(buf, args);
    return send(buf, {std::move(cb)});
}

void redis_conn::on_link_up(engine::link&) {
    p_.count_connect();
    if (reader_) redisReaderFree(reader_);
    reader_ = redisReaderCreate();
    ready_ = true;
    auto check = [this](const char* what) {
        return [this, what](const redisReply* r) {
            if (r && r->type == REDIS_REPLY_ERROR) {
                std::fprintf(stderr, "ssepush events: redis %s %s failed: %.*s\n",
                             redis_url(p_.opts()).c_str(), what, int(r->len), r->str);
                if (link_) link_->reset(EACCES);
            }
        };
    };
    const redis_options& o = p_.opts();
    if (!o.password.empty()) command({"AUTH", o.password}, check("AUTH"));
    if (pubsub_) {
        // Replies to SUBSCRIBE are pushes, handled in on_reply.
        thread_local std::string buf;
        buf.clear();
        append_command(buf, {"SUBSCRIBE", p_.topic()});
        (void)push_bytes(buf);
    } else {
        if (o.db) command({"SELECT", std::to_string(o.db)}, check("SELECT"));
        p_.command_up(*this);
    }
    if (!was_up_ && shard_.index() == 0)
        std::fprintf(stderr, "ssepush events: redis %s %s link up\n", redis_url(o).c_str(),
                     pubsub_ ? "pub/sub" : "command");
    was_up_ = true;
}

void redis_conn::on_link_data(engine::link&, std::string_view bytes) {
    if (!reader_) return;
    if (redisReaderFeed(reader_, bytes.data(), bytes.size()) != REDIS_OK) {
        if (link_) link_->reset(EPROTO);
        return;
    }
    const std::uint64_t epoch = epoch_;
    for (;;) {
        void* r = nullptr;
        if (redisReaderGetReply(reader_, &r) != REDIS_OK) {
            std::fprintf(stderr, "ssepush events: redis protocol error: %s\n",
                         redisReaderGetError(reader_));
            if (link_) link_->reset(EPROTO);
            return;
        }
        if (!r) return;
        auto* reply = static_cast<redisReply*>(r);
        on_reply(reply);
        freeReplyObject(reply);
        if (epoch != epoch_ || !reader_) return;  // the connection went meanwhile
    }
}

void redis_conn::on_reply(redisReply* r) {
    if (pubsub_ && r->type == REDIS_REPLY_ARRAY && r->elements >= 3) {
        const std::string_view kind = text_of(r->element[0]);
        if (kind == "message") return p_.topic_message(text_of(r->element[2]));
        if (kind == "subscribe") return p_.subscribed(true);
        return;
    }
    if (pending_.empty()) {
        if (pubsub_) return;
        std::fprintf(stderr, "ssepush events: redis sent a reply nobody asked for\n");
        if (link_) link_->reset(EPROTO);
        return;
    }
    reply_cb cb = std::move(pending_.front());
    pending_.pop_front();
    if (cb) cb(r);
}

void redis_conn::fail_pending() {
    std::deque<reply_cb> failed;
    failed.swap(pending_);
    for (reply_cb& cb : failed)
        if (cb) cb(nullptr);
}

void redis_conn::on_link_down(engine::link&, int error) {
    ++epoch_;
    ready_ = false;
    if (reader_) {
        redisReaderFree(reader_);
        reader_ = nullptr;
    }
    p_.count_failure();
    if (was_up_ && shard_.index() == 0)
        std::fprintf(stderr, "ssepush events: redis %s %s link down: %s (retrying)\n",
                     redis_url(p_.opts()).c_str(), pubsub_ ? "pub/sub" : "command",
                     std::strerror(error));
    if (pubsub_) {
        p_.subscribed(false);
    } else if (was_up_) {
        p_.command_down(*this);
    }
    was_up_ = false;
    fail_pending();
}

// --- provider_impl ----------------------------------------------------------------------

provider_impl::provider_impl(engine::server& srv, redis_options o)
    : srv_(srv), o_(std::move(o)), topic_(o_.prefix + "topic") {
    if (o_.sequence_block == 0) o_.sequence_block = 1;
    std::random_device rd;
    fallback_seq_.store(1'000'000'000 + std::int64_t(rd() % 1'000'000'000));
    const unsigned n = srv.options().shards;
    for (unsigned i = 0; i < n; ++i) {
        parts_.push_back(std::make_unique<shard_part>());
        parts_.back()->owner = this;
        parts_.back()->sweep_timer.set_callback(&provider_impl::on_sweep_timer);
        parts_.back()->restore_timer.set_callback(&provider_impl::on_restore_timer);
    }
    srv.on_shard_start([this](shard& sh) {
        shard_part& p = *parts_[sh.index()];
        p.cmd = std::make_unique<redis_conn>(*this, sh, false);
        p.cmd->open(o_);
        if (sh.index() == 0) {
            p.sub = std::make_unique<redis_conn>(*this, sh, true);
            p.sub->open(o_);
        }
    });
    srv.on_shard_stop([this](shard& sh) {
        shard_part& p = *parts_[sh.index()];
        sh.timers().cancel(p.sweep_timer);
        sh.timers().cancel(p.restore_timer);
        if (p.cmd) p.cmd->close();
        if (p.sub) p.sub->close();
    });
}

redis_status provider_impl::status() const noexcept {
    redis_status s;
    s.subscribed = subscribed_.load(std::memory_order_relaxed);
    s.command_links = unsigned(parts_.size());
    s.command_links_up = cmd_up_.load(std::memory_order_relaxed);
    s.connects = connects_.load(std::memory_order_relaxed);
    s.failures = failures_.load(std::memory_order_relaxed);
    s.published = published_.load(std::memory_order_relaxed);
    s.received = received_.load(std::memory_order_relaxed);
    s.local_only = local_only_.load(std::memory_order_relaxed);
    s.skipped_writes = skipped_.load(std::memory_order_relaxed);
    s.swept = swept_.load(std::memory_order_relaxed);
    return s;
}

void provider_impl::command_up(redis_conn& c) {
    cmd_up_.fetch_add(1, std::memory_order_relaxed);
    // Whatever this shard holds goes (back) into Redis: after an outage the
    // records may be gone (a restart without persistence) or stale. In
    // batches, as the link drains: a shard may hold 100,000 of them.
    shard_part& part = *parts_[c.home().index()];
    part.restore = std::make_unique<restore_job>();
    part.restore->epoch = c.epoch();
    bus_->for_each_held(c.home().index(),
                        [&](const subscription& sub) { part.restore->ids.emplace_back(sub.id()); });
    restore_step(c.home());
    for (auto& [name, block] : part.seqs)
        block.fetching = false;  // a fetch in flight failed with the old connection
    fetch_block(c, "anonUser");
    if (c.home().index() == 0) sweep(c.home());
}

void provider_impl::restore_step(shard& sh) {
    shard_part& part = *parts_[sh.index()];
    restore_job* job = part.restore.get();
    if (!job) return;
    redis_conn* c = cmd_on(sh);
    if (!c || c->epoch() != job->epoch) {
        part.restore.reset();  // the link went: its next start begins again
        return;
    }
    constexpr std::size_t k_batch = 1000;
    constexpr std::size_t k_max_queued = 4u << 20;
    for (std::size_t n = 0;
         n < k_batch && job->next < job->ids.size() && c->queued_bytes() < k_max_queued;
         ++n, ++job->next) {
        // Gone meanwhile: nothing to store (its removal already went out).
        if (auto info = bus_->local_find(job->ids[job->next]))
            store(*c, record_of(std::move(*info)), {});
    }
    if (job->next < job->ids.size()) {
        sh.timers().arm(part.restore_timer, sh.now_ms() + 1);
        return;
    }
    if (!job->ids.empty())
        std::fprintf(stderr, "ssepush events: redis: shard %u stored its %zu subscriptions again\n",
                     sh.index(), job->ids.size());
    part.restore.reset();
}

void provider_impl::on_restore_timer(engine::timer_node& t) noexcept {
    shard_part& part = engine::timer_owner(t, &shard_part::restore_timer);
    if (shard* sh = shard::current()) {
        try {
            part.owner->restore_step(*sh);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "ssepush events: redis re-registration failed: %s\n", e.what());
        }
    }
}

void provider_impl::on_sweep_timer(engine::timer_node& t) noexcept {
    shard_part& part = engine::timer_owner(t, &shard_part::sweep_timer);
    if (shard* sh = shard::current()) {
        try {
            part.owner->sweep(*sh);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "ssepush events: redis sweep failed: %s\n", e.what());
        }
    }
}

void provider_impl::sweep(shard& sh) {
    const auto idle = std::uint64_t(bus_->idle_timeout().count());
    const std::uint64_t period = std::clamp<std::uint64_t>(idle / 2, 1000, 60'000);
    sh.timers().arm(parts_[0]->sweep_timer, sh.now_ms() + period);
    redis_conn* c = cmd_on(sh);
    if (!c) return;
    // Scores are refreshed by every heartbeat, on any node (ServiceStack's too):
    // one older than the idle timeout belongs to a node that is gone.
    const std::string cutoff =
        "(" + std::to_string(proto::ticks_from_unix_ms(unix_ms_now() - std::int64_t(idle)));
    (void)c->command(
        {"ZRANGEBYSCORE", key("ids", ""), "-inf", cutoff, "LIMIT", "0", "256"},
        [this, c](const redisReply* r) {
            if (!r || r->type != REDIS_REPLY_ARRAY || !c->ready()) return;
            for (std::size_t i = 0; i < r->elements; ++i) {
                std::string id(text_of(r->element[i]));
                if (id.empty() || bus_->local_find(id)) continue;  // held here: the timer decides
                (void)c->command({"GET", key("id:", id)}, [this, c, id](const redisReply* g) {
                    if (!g || !c->ready()) return;
                    thread_local std::string buf, msg;
                    buf.clear();
                    std::size_t n = 0;
                    auto add = [&](std::initializer_list<std::string_view> args) {
                        append_command(buf, args);
                        ++n;
                    };
                    add({"MULTI"});
                    auto rec = proto::parse_subscription_record(text_of(g));
                    n += rec ? append_removal(buf, o_.prefix, id, rec->user_id, rec->channels,
                                              rec->user_name, rec->session_id)
                             : append_removal(buf, o_.prefix, id, {}, {}, {}, {});
                    add({"EXEC"});
                    msg.clear();
                    proto::write_id_command(proto::topic_kind::unregister, id, msg);
                    add({"PUBLISH", topic_, msg});
                    if (c->send(buf, n)) swept_.fetch_add(1, std::memory_order_relaxed);
                });
            }
        });
}

void provider_impl::command_down(redis_conn&) {
    cmd_up_.fetch_sub(1, std::memory_order_relaxed);
}

// --- notifications ----------------------------------------------------------------

void provider_impl::publish(const notification& n) {
    if (shard* sh = here()) return publish_on(*sh, n);
    // Another thread: hand a copy to shard 0, which publishes in call order.
    struct copy {
        target to;
        std::string key, selector, body, filter;
    };
    auto c = std::make_shared<copy>(copy{n.to, std::string(n.key), std::string(n.selector),
                                         std::string(n.body), std::string(n.channel_filter)});
    srv_.run_on(0, [this, c](shard& sh) {
        publish_on(sh, notification{c->to, c->key, c->selector, c->body, c->filter});
    });
}

void provider_impl::publish_on(shard& sh, const notification& n) {
    redis_conn* c = cmd_on(sh);
    if (c && subscribed_.load(std::memory_order_acquire)) {
        thread_local std::string msg, buf;
        msg.clear();
        proto::write_notify(kind_of(n.to), n.key, n.selector, n.channel_filter, n.body, msg);
        buf.clear();
        append_command(buf, {"PUBLISH", topic_, msg});
        if (c->send(buf, 1)) {
            published_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
    // Redis is away: this node's subscribers still get it.
    local_only_.fetch_add(1, std::memory_order_relaxed);
    bus_->deliver(n);
}

void provider_impl::topic_message(std::string_view payload) {
    received_.fetch_add(1, std::memory_order_relaxed);
    const proto::topic_message m = proto::parse_topic_message(payload);
    notification n;
    if (auto t = target_of(m.kind)) {
        n.to = *t;
    } else {
        switch (m.kind) {
            case proto::topic_kind::pulse:
                return bus_->held_pulse(m.who);
            case proto::topic_kind::unregister:
                return bus_->held_unregister(m.who);
            case proto::topic_kind::subscribe:
            case proto::topic_kind::unsubscribe: {
                auto channels = proto::parse_channels_payload(m.json);
                if (!channels || channels->empty()) return;
                if (m.kind == proto::topic_kind::subscribe)
                    return bus_->held_update(m.who, {}, std::move(*channels));
                return bus_->held_update(m.who, std::move(*channels), {});
            }
            default:
                return;  // control messages (CTRL:PULSE) and anything unknown
        }
    }
    if (m.selector.empty() || m.who.size() > 0xffff || m.channel.size() > 0xffff) return;
    if (n.to != target::all && m.who.empty()) return;
    n.key = m.who;
    n.selector = m.selector;
    n.body = m.json;
    n.channel_filter = m.channel;
    bus_->deliver(n);
}

// --- subscription state ------------------------------------------------------------------

void provider_impl::store(redis_conn& c, const proto::subscription_record& i,
                          const std::vector<std::string>& removed) {
    thread_local std::string json, buf;
    json.clear();
    proto::write_subscription_record(i, json);
    buf.clear();
    std::size_t n = 0;
    auto add = [&](std::initializer_list<std::string_view> args) {
        append_command(buf, args);
        ++n;
    };
    const std::string ticks = ticks_now();
    add({"MULTI"});
    for (const auto& ch : removed)
        add({"SREM", key("channel:", ch), i.id});
    add({"ZADD", key("ids", ""), ticks, i.id});
    add({"SET", key("id:", i.id), json});
    add({"SADD", key("userid:", i.user_id), i.id});
    for (const auto& ch : i.channels)
        add({"SADD", key("channel:", ch), i.id});
    if (!i.user_name.empty()) add({"SADD", key("username:", i.user_name), i.id});
    if (!i.session_id.empty()) add({"SADD", key("session:", i.session_id), i.id});
    add({"EXEC"});
    if (!c.send(buf, n)) skipped_.fetch_add(1, std::memory_order_relaxed);
}

// The state calls come on the subscription's own shard.
redis_conn* provider_impl::cmd_here() const noexcept {
    shard* sh = here();
    return sh ? cmd_on(*sh) : nullptr;
}

void provider_impl::registered(const subscription& sub) {
    if (redis_conn* c = cmd_here())
        store(*c, record_of(sub.info()), {});
    else
        skipped_.fetch_add(1, std::memory_order_relaxed);
}

void provider_impl::updated(const subscription& sub, const std::vector<std::string>& removed) {
    if (redis_conn* c = cmd_here())
        store(*c, record_of(sub.info()), removed);
    else
        skipped_.fetch_add(1, std::memory_order_relaxed);
}

void provider_impl::unregistered(const subscription& sub) {
    redis_conn* c = cmd_here();
    if (!c) {
        skipped_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    thread_local std::string buf;
    buf.clear();
    append_command(buf, {"MULTI"});
    std::size_t n = 2 + append_removal(buf, o_.prefix, sub.id(), sub.user_id(), sub.channels(),
                                       sub.user_name(), sub.session_id());
    append_command(buf, {"EXEC"});
    if (!c->send(buf, n)) skipped_.fetch_add(1, std::memory_order_relaxed);
}

void provider_impl::heartbeat(const subscription& sub) {
    if (redis_conn* c = cmd_here()) {
        if (!c->command({"ZADD", key("ids", ""), ticks_now(), sub.id()}, {}))
            skipped_.fetch_add(1, std::memory_order_relaxed);
    }
}

void provider_impl::reset() {
    // ServiceStack's Reset: every subscription record of every node goes;
    // sequences stay. KEYS, as ServiceStack does, inside one script.
    static constexpr std::string_view script =
        "local n = redis.call('DEL', KEYS[1]) "
        "for _, p in ipairs(ARGV) do "
        "  for _, k in ipairs(redis.call('KEYS', p)) do n = n + redis.call('DEL', k) end "
        "end return n";
    auto run = [this](shard& sh) {
        if (redis_conn* c = cmd_on(sh)) {
            std::vector<std::string> args = {"EVAL", std::string(script), "1", key("ids", "")};
            for (const char* kind : {"id:*", "channel:*", "userid:*", "username:*", "session:*"})
                args.push_back(key(kind, ""));
            (void)c->command(args, {});
        }
    };
    if (shard* sh = here())
        run(*sh);
    else
        srv_.run_on(0, run);
}

void provider_impl::flush(std::chrono::milliseconds limit) {
    // A PING on each shard's connection: its answer comes after everything
    // sent before it on that connection.
    struct waiter {
        std::mutex m;
        std::condition_variable cv;
        unsigned left;
    };
    auto w = std::make_shared<waiter>();
    w->left = unsigned(parts_.size());
    auto one_done = [w] {
        std::lock_guard lock(w->m);
        if (--w->left == 0) w->cv.notify_all();
    };
    for (unsigned i = 0; i < parts_.size(); ++i)
        srv_.run_on(i, [this, one_done](shard& sh) {
            redis_conn* c = cmd_on(sh);
            if (!c || !c->command({"PING"}, [one_done](const redisReply*) { one_done(); }))
                one_done();
        });
    std::unique_lock lock(w->m);
    w->cv.wait_for(lock, limit, [&] { return w->left == 0; });
}

// --- queries --------------------------------------------------------------------------------

void provider_impl::read_records(redis_conn& c, std::vector<std::string> ids,
                                 reply_fn<std::vector<subscription_info>> done) {
    if (ids.empty()) return done({});
    std::vector<std::string> args;
    args.reserve(ids.size() + 1);
    args.emplace_back("MGET");
    for (const auto& id : ids)
        args.push_back(key("id:", id));
    auto d = std::make_shared<reply_fn<std::vector<subscription_info>>>(std::move(done));
    if (!c.command(args, [d](const redisReply* r) {
            std::vector<subscription_info> out;
            if (r && r->type == REDIS_REPLY_ARRAY) {
                for (std::size_t i = 0; i < r->elements; ++i)
                    if (auto rec = proto::parse_subscription_record(text_of(r->element[i])))
                        out.push_back(info_of(std::move(*rec)));
            }
            (*d)(std::move(out));
        }))
        (*d)({});
}

void provider_impl::find_async(std::string_view id,
                               reply_fn<std::optional<subscription_info>> done) {
    if (auto local = bus_->local_find(id)) return done(std::move(local));
    shard* sh = here();
    redis_conn* c = sh ? cmd_on(*sh) : nullptr;
    if (!c) return done(std::nullopt);
    auto d = std::make_shared<reply_fn<std::optional<subscription_info>>>(std::move(done));
    if (!c->command({"GET", key("id:", id)}, [d](const redisReply* r) {
            std::optional<subscription_info> out;
            if (auto rec = proto::parse_subscription_record(text_of(r)))
                out = info_of(std::move(*rec));
            (*d)(std::move(out));
        }))
        (*d)(std::nullopt);
}

void provider_impl::find_by_user_id_async(std::string_view user_id,
                                          reply_fn<std::vector<subscription_info>> done) {
    shard* sh = here();
    redis_conn* c = sh ? cmd_on(*sh) : nullptr;
    if (!c) return done(bus_->local_find_by_user_id(user_id));
    auto d = std::make_shared<reply_fn<std::vector<subscription_info>>>(std::move(done));
    if (!c->command({"SMEMBERS", key("userid:", user_id)}, [this, c, d](const redisReply* r) {
            std::vector<std::string> ids;
            if (r && r->type == REDIS_REPLY_ARRAY)
                for (std::size_t i = 0; i < r->elements; ++i)
                    ids.emplace_back(text_of(r->element[i]));
            if (!r || !c->ready()) return (*d)({});
            read_records(*c, std::move(ids), std::move(*d));
        }))
        (*d)(bus_->local_find_by_user_id(user_id));
}

void provider_impl::find_in_channels_async(const std::vector<std::string>& channels,
                                           reply_fn<std::vector<subscription_info>> done) {
    shard* sh = here();
    redis_conn* c = sh ? cmd_on(*sh) : nullptr;
    if (!c) return done(bus_->local_find_in_channels(channels));
    auto d = std::make_shared<reply_fn<std::vector<subscription_info>>>(std::move(done));
    if (channels.empty()) {
        // Every subscription: the members of sse:ids.
        if (!c->command({"ZRANGE", key("ids", ""), "0", "-1"}, [this, c, d](const redisReply* r) {
                std::vector<std::string> ids;
                if (r && r->type == REDIS_REPLY_ARRAY)
                    for (std::size_t i = 0; i < r->elements; ++i)
                        ids.emplace_back(text_of(r->element[i]));
                if (!r || !c->ready()) return (*d)({});
                read_records(*c, std::move(ids), std::move(*d));
            }))
            (*d)(bus_->local_find_in_channels(channels));
        return;
    }
    // The members of each channel, pipelined; joined in channel order, once each.
    struct gather {
        std::vector<std::vector<std::string>> per;
        std::size_t left;
        bool failed = false;
    };
    auto g = std::make_shared<gather>(gather{{}, channels.size()});
    g->per.resize(channels.size());
    std::string buf;
    std::vector<reply_cb> cbs;
    for (std::size_t i = 0; i < channels.size(); ++i) {
        append_command(buf, {"SMEMBERS", key("channel:", channels[i])});
        cbs.push_back([this, c, d, g, i](const redisReply* r) {
            if (!r) g->failed = true;
            if (r && r->type == REDIS_REPLY_ARRAY)
                for (std::size_t k = 0; k < r->elements; ++k)
                    g->per[i].emplace_back(text_of(r->element[k]));
            if (--g->left) return;
            if (g->failed || !c->ready()) return (*d)({});
            std::vector<std::string> ids;
            std::unordered_set<std::string> seen;
            for (auto& v : g->per)
                for (auto& id : v)
                    if (seen.insert(id).second) ids.push_back(std::move(id));
            read_records(*c, std::move(ids), std::move(*d));
        });
    }
    if (!c->send(buf, std::move(cbs))) (*d)(bus_->local_find_in_channels(channels));
}

template <class T, class Start>
T provider_impl::wait_for(Start start, T fallback) const {
    auto pr = std::make_shared<std::promise<T>>();
    auto fut = pr->get_future();
    srv_.run_on(0, [start = std::move(start), pr](shard&) mutable {
        start([pr](T v) { pr->set_value(std::move(v)); });
    });
    if (fut.wait_for(std::chrono::milliseconds(o_.query_timeout_ms)) != std::future_status::ready)
        return fallback;
    return fut.get();
}

std::optional<subscription_info> provider_impl::find(std::string_view id) const {
    auto local = bus_->local_find(id);
    if (local || here()) return local;
    auto* self = const_cast<provider_impl*>(this);
    return wait_for<std::optional<subscription_info>>(
        [self, id = std::string(id)](reply_fn<std::optional<subscription_info>> done) {
            self->find_async(id, std::move(done));
        },
        std::nullopt);
}

std::vector<subscription_info> provider_impl::find_by_user_id(std::string_view user_id) const {
    if (here()) return bus_->local_find_by_user_id(user_id);
    auto* self = const_cast<provider_impl*>(this);
    return wait_for<std::vector<subscription_info>>(
        [self, u = std::string(user_id)](reply_fn<std::vector<subscription_info>> done) {
            self->find_by_user_id_async(u, std::move(done));
        },
        bus_->local_find_by_user_id(user_id));
}

std::vector<subscription_info> provider_impl::find_in_channels(
    const std::vector<std::string>& channels) const {
    if (here()) return bus_->local_find_in_channels(channels);
    auto* self = const_cast<provider_impl*>(this);
    return wait_for<std::vector<subscription_info>>(
        [self, channels](reply_fn<std::vector<subscription_info>> done) {
            self->find_in_channels_async(channels, std::move(done));
        },
        bus_->local_find_in_channels(channels));
}

std::vector<string_map> provider_impl::details(const std::vector<std::string>& channels) const {
    std::vector<string_map> out;
    for (auto& i : find_in_channels(channels))
        out.push_back(std::move(i.meta));
    return out;
}

// --- requests for subscriptions held elsewhere ---------------------------------------------

void provider_impl::remote(remote_request r, reply_fn<remote_result> done) {
    shard* sh = here();
    redis_conn* c = sh ? cmd_on(*sh) : nullptr;
    if (!c) return done(remote_result{503, {}});
    auto req = std::make_shared<remote_request>(std::move(r));
    auto d = std::make_shared<reply_fn<remote_result>>(std::move(done));
    const bool sent =
        c->command({"GET", key("id:", req->id)}, [this, c, req, d](const redisReply* reply) {
            if (!reply || !c->ready()) return (*d)(remote_result{503, {}});
            auto rec = proto::parse_subscription_record(text_of(reply));
            if (!rec) return (*d)(remote_result{404, {}});
            if (!req->address.empty() && rec->user_address != req->address)
                return (*d)(remote_result{403, {}});
            std::string buf, msg;
            std::size_t n = 0;
            remote_result res{200, {}};
            switch (req->action) {
                case remote_action::heartbeat:
                    append_command(buf, {"ZADD", key("ids", ""), ticks_now(), req->id});
                    proto::write_id_command(proto::topic_kind::pulse, req->id, msg);
                    append_command(buf, {"PUBLISH", topic_, msg});
                    n = 2;
                    break;
                case remote_action::unregister:
                    proto::write_id_command(proto::topic_kind::unregister, req->id, msg);
                    append_command(buf, {"PUBLISH", topic_, msg});
                    n = 1;
                    res.meta_json = proto::meta_json_of(text_of(reply));
                    break;
                case remote_action::update: {
                    auto joined = [](const std::vector<std::string>& v) {
                        std::string s;
                        for (const auto& x : v) {
                            if (!s.empty()) s.push_back(',');
                            s += x;
                        }
                        return s;
                    };
                    for (const auto& ch : req->unsubscribe) {
                        append_command(buf, {"SREM", key("channel:", ch), req->id});
                        ++n;
                    }
                    if (!req->unsubscribe.empty()) {
                        proto::write_channels_command(proto::topic_kind::unsubscribe, req->id,
                                                      joined(req->unsubscribe), msg);
                        append_command(buf, {"PUBLISH", topic_, msg});
                        ++n;
                    }
                    if (!req->subscribe.empty()) {
                        msg.clear();
                        proto::write_channels_command(proto::topic_kind::subscribe, req->id,
                                                      joined(req->subscribe), msg);
                        append_command(buf, {"PUBLISH", topic_, msg});
                        ++n;
                    }
                    break;
                }
            }
            if (n && !c->send(buf, n)) return (*d)(remote_result{503, {}});
            (*d)(std::move(res));
        });
    if (!sent) (*d)(remote_result{503, {}});
}

// --- sequences ------------------------------------------------------------------------------

void provider_impl::fetch_block(redis_conn& c, const std::string& name) {
    seq_block& b = parts_[c.home().index()]->seqs[name];
    if (b.fetching || b.spare_next < b.spare_end) return;
    b.fetching = true;
    const unsigned index = c.home().index();
    const bool sent = c.command({"INCRBY", key("seq:", name), std::to_string(o_.sequence_block)},
                                [this, index, name](const redisReply* r) {
                                    seq_block& blk = parts_[index]->seqs[name];
                                    blk.fetching = false;
                                    if (!r || r->type != REDIS_REPLY_INTEGER) return;
                                    blk.spare_end = r->integer + 1;
                                    blk.spare_next = blk.spare_end - o_.sequence_block;
                                });
    if (!sent) b.fetching = false;
}

std::int64_t provider_impl::next_sequence(std::string_view name) {
    shard* sh = here();
    if (!sh) {
        // Another thread: the shared counter itself, one INCR.
        auto* self = this;
        const std::int64_t v = wait_for<std::int64_t>(
            [self, n = std::string(name)](reply_fn<std::int64_t> done) {
                shard& s0 = self->srv_.shard_at(0);
                redis_conn* c = self->cmd_on(s0);
                auto d = std::make_shared<reply_fn<std::int64_t>>(std::move(done));
                if (!c || !c->command({"INCR", self->key("seq:", n)}, [d](const redisReply* r) {
                        (*d)(r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1);
                    }))
                    (*d)(-1);
            },
            std::int64_t(-1));
        return v > 0 ? v : fallback_seq_.fetch_add(1, std::memory_order_relaxed);
    }
    std::string n(name);
    seq_block& b = parts_[sh->index()]->seqs[n];
    if (b.next >= b.end && b.spare_next < b.spare_end) {
        b.next = b.spare_next;
        b.end = b.spare_end;
        b.spare_next = b.spare_end = 0;
    }
    // Fetch the next block while half of this one is left.
    if (b.end - b.next <= std::int64_t(o_.sequence_block / 2) + 1)
        if (redis_conn* c = cmd_on(*sh)) fetch_block(*c, n);
    seq_block& blk = parts_[sh->index()]->seqs[n];
    if (blk.next < blk.end) return blk.next++;
    return fallback_seq_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

std::unique_ptr<redis_provider> make_redis_provider(engine::server& srv, redis_options o) {
    return std::make_unique<provider_impl>(srv, std::move(o));
}

}  // namespace ssepush::events
