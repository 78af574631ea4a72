#include "chat.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ssepush/engine/shard.h"
#include "ssepush/proto/json.h"
#include "ssepush/proto/request_fields.h"
#include "ssepush/proto/url.h"

namespace ssepushd {

namespace eng = ssepush::engine;
namespace ev_ns = ssepush::events;
using ssepush::proto::json_writer;
using ssepush::proto::request_fields;

namespace {

// The recent public chat messages of each channel, for GetChatHistory: a
// bounded ring per channel behind one mutex (a demo service, off the fan-out
// path). At most k_max_channels channels are kept; past that the channel whose
// latest message is the oldest is forgotten.
class chat_history {
public:
    static constexpr std::size_t k_max_channels = 1024;

    explicit chat_history(unsigned per_channel) : per_channel_(per_channel) {}

    [[nodiscard]] unsigned capacity() const noexcept { return per_channel_; }

    void record(const std::string& channel, std::int64_t id, std::string json) {
        if (per_channel_ == 0) return;
        std::lock_guard lock(mu_);
        auto it = rings_.find(channel);
        if (it == rings_.end()) {
            if (rings_.size() >= k_max_channels) evict_stalest();
            it = rings_.emplace(channel, std::deque<entry>{}).first;
        }
        auto& ring = it->second;
        ring.push_back(entry{id, std::move(json)});
        while (ring.size() > per_channel_)
            ring.pop_front();
    }

    // The messages of `channels` (every channel when empty) with an id above
    // `after_id`, oldest first, at most the `take` most recent ones.
    [[nodiscard]] std::vector<std::string> recent(const std::vector<std::string>& channels,
                                                  std::int64_t after_id, std::size_t take) const {
        std::vector<const entry*> picked;
        std::lock_guard lock(mu_);
        auto collect = [&](const std::deque<entry>& ring) {
            for (const auto& e : ring)
                if (e.id > after_id) picked.push_back(&e);
        };
        if (channels.empty()) {
            for (const auto& [name, ring] : rings_)
                collect(ring);
        } else {
            std::vector<std::string> seen;
            for (const auto& c : channels) {
                if (std::find(seen.begin(), seen.end(), c) != seen.end()) continue;
                seen.push_back(c);
                if (auto it = rings_.find(c); it != rings_.end()) collect(it->second);
            }
        }
        std::sort(picked.begin(), picked.end(),
                  [](const entry* a, const entry* b) { return a->id < b->id; });
        const std::size_t skip = picked.size() > take ? picked.size() - take : 0;
        std::vector<std::string> out;
        out.reserve(picked.size() - skip);
        for (std::size_t i = skip; i < picked.size(); ++i)
            out.push_back(picked[i]->json);
        return out;
    }

private:
    struct entry {
        std::int64_t id;
        std::string json;  // the ChatMessage as it was sent
    };

    void evict_stalest() {
        auto stalest = rings_.end();
        for (auto it = rings_.begin(); it != rings_.end(); ++it) {
            const std::int64_t last = it->second.empty() ? 0 : it->second.back().id;
            if (stalest == rings_.end() ||
                last < (stalest->second.empty() ? 0 : stalest->second.back().id))
                stalest = it;
        }
        if (stalest != rings_.end()) rings_.erase(stalest);
    }

    const unsigned per_channel_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, std::deque<entry>> rings_;
};

struct chat_request {
    std::string from, to_user_id, channel, message, selector;
    bool has_message = false;
    request_fields fields;
};

// Fields from the query, form or JSON body; the channel from the route's
// {Channel} segment when there is one (URL-decoded: "*" travels as %2A).
chat_request bind_chat(const eng::exchange& ex, std::string_view route_channel) {
    chat_request r;
    const auto& req = ex.request();
    r.fields.parse(req.query, req.find("content-type"), req.body);
    r.from = r.fields.get("from").value_or("");
    r.to_user_id = r.fields.get("toUserId").value_or("");
    if (!route_channel.empty()) {
        ssepush::proto::url_decode(route_channel, r.channel, false);
    } else {
        r.channel = r.fields.get("channel").value_or("");
    }
    if (auto m = r.fields.get("message")) {
        r.message = *m;
        r.has_message = true;
    }
    r.selector = r.fields.get("selector").value_or("");
    return r;
}

std::string error_body(std::string_view code, std::string_view message) {
    std::string out;
    json_writer w(out);
    w.begin_object().key("responseStatus").begin_object();
    w.member("errorCode", code).member("message", message);
    w.key("errors").begin_array().end_array();
    w.end_object().end_object();
    return out;
}

void respond_error(eng::exchange& ex, std::uint16_t status, std::string_view code,
                   std::string_view message) {
    ex.respond(status, "application/json; charset=utf-8", error_body(code, message));
}

void no_content(eng::exchange& ex) {
    ex.respond(eng::response{204, {}, {}, {}, {}});
}

constexpr std::string_view k_no_target = "channel or toUserId is required";

bool has_target(const chat_request& r) {
    return !r.to_user_id.empty() || !r.channel.empty();
}

// The answer to a chat request that waits on a subscription query. While the
// handler is still running (the memory provider answers inline) it goes
// through the exchange, exactly as a synchronous handler would answer; once
// the handler has returned and deferred it (Redis: after a round trip to see
// every node's subscriptions), through the shard that holds the connection,
// where the query's callback runs. Only the first answer counts.
class pending_reply {
public:
    explicit pending_reply(eng::exchange& ex) : ex_(&ex), conn_(ex.connection()) {}

    void respond(const eng::response& r) {
        if (answered_) return;
        answered_ = true;
        if (ex_) return ex_->respond(r);
        if (eng::shard* sh = eng::shard::current()) sh->respond(conn_, r);
    }
    void respond(std::uint16_t status, std::string_view content_type, std::string_view body) {
        respond(eng::response{status, content_type, body, {}, {}});
    }
    void error(std::uint16_t status, std::string_view code, std::string_view message) {
        respond(status, "application/json; charset=utf-8", error_body(code, message));
    }
    void no_content() { respond(eng::response{204, {}, {}, {}, {}}); }

    // Runs a step of the answer (a query's callback). What notify refuses is a
    // 400, as it always was; anything else thrown goes to the dispatcher (500)
    // while the handler runs, and is answered 500 here once it has returned
    // (a callback must not throw into the provider).
    template <class Fn>
    void run(Fn&& fn) {
        try {
            fn();
        } catch (const std::invalid_argument& e) {
            error(400, "ArgumentException", e.what());
        } catch (const std::exception&) {
            if (ex_) throw;
            respond(500, "text/plain", "internal error\n");
        }
    }

    // The handler, after starting the query: unless answered already, the
    // answer comes later, from the callback. `ex` is not used past this.
    void detach(eng::exchange& ex) {
        if (!ex.answered()) ex.defer();
        ex_ = nullptr;
    }
    // The handler is throwing: the dispatcher answers; a late callback must not.
    void abandon() noexcept {
        ex_ = nullptr;
        answered_ = true;
    }

private:
    eng::exchange* ex_;
    const eng::conn_id conn_;
    bool answered_ = false;
};

// Starts `query` (one of server_events' asynchronous forms, its callback
// bound to `reply`) and lets the handler return.
template <class Query>
void answer_later(eng::exchange& ex, const std::shared_ptr<pending_reply>& reply, Query&& query) {
    try {
        query();
    } catch (...) {
        reply->abandon();
        throw;
    }
    reply->detach(ex);
}

// A ChatMessage: what is known once the sender is.
struct chat_message {
    std::int64_t id = 0;
    std::string channel, from_user_id, from_name;

    [[nodiscard]] std::string json(std::string_view text, bool priv) const {
        std::string out;
        json_writer w(out);
        w.begin_object();
        w.member("id", id);
        if (!channel.empty()) w.member("channel", channel);
        w.member("fromUserId", from_user_id);
        w.member("fromName", from_name);
        w.member("displayName", from_name);
        w.member("message", text);
        w.member("private", priv);
        w.end_object();
        return out;
    }
};

std::string not_found(const chat_request& r) {
    return "Subscription " + r.from + " does not exist";
}

// The sender must be a live subscription on any node (ServiceStack answers 404
// otherwise); the query answers on this shard, maybe before it returns.
void post_chat(eng::exchange& ex, ev_ns::server_events& ev,
               const std::shared_ptr<chat_history>& history, std::string_view route_channel) {
    auto r = std::make_shared<const chat_request>(bind_chat(ex, route_channel));
    auto reply = std::make_shared<pending_reply>(ex);
    answer_later(ex, reply, [&] {
        ev.get_subscription_info(r->from, [&ev, history, r,
                                           reply](std::optional<ev_ns::subscription_info> from) {
            reply->run([&] {
                if (!from) return reply->error(404, "NotFound", not_found(*r));
                if (!has_target(*r)) return reply->error(400, "ArgumentException", k_no_target);
                const std::string selector = r->selector.empty() ? "cmd.chat" : r->selector;
                auto msg = std::make_shared<const chat_message>(chat_message{
                    ev.next_sequence("chatMsg"), r->channel, from->user_id, from->display_name});
                if (!r->to_user_id.empty()) {
                    ev.notify_user_id(r->to_user_id, selector, msg->json(r->message, true));
                    // The sender sees what it sent, once per subscription of the
                    // target user (on any node).
                    ev.get_subscription_infos_by_user_id(
                        r->to_user_id,
                        [&ev, r, reply, msg, selector](std::vector<ev_ns::subscription_info> to) {
                            reply->run([&] {
                                for (const auto& t : to)
                                    ev.notify_subscription(
                                        r->from, selector,
                                        msg->json("@" + t.display_name + ": " + r->message, true));
                                reply->respond(200, "application/json; charset=utf-8",
                                               msg->json(r->message, true));
                            });
                        });
                    return;
                }
                std::string body = msg->json(r->message, false);
                ev.notify_channel(r->channel, selector, body);
                reply->respond(200, "application/json; charset=utf-8", body);
                // Only what reached a channel is history (private messages are not).
                history->record(r->channel, msg->id, std::move(body));
            });
        });
    });
}

void post_raw(eng::exchange& ex, ev_ns::server_events& ev, std::string_view route_channel) {
    auto r = std::make_shared<const chat_request>(bind_chat(ex, route_channel));
    auto reply = std::make_shared<pending_reply>(ex);
    answer_later(ex, reply, [&] {
        ev.get_subscription_info(
            r->from, [&ev, r, reply](std::optional<ev_ns::subscription_info> from) {
                reply->run([&] {
                    if (!from) return reply->error(404, "NotFound", not_found(*r));
                    if (!has_target(*r)) return reply->error(400, "ArgumentException", k_no_target);
                    // A string message becomes a JSON string; no message, an empty body.
                    if (r->selector.empty())
                        return reply->error(400, "ArgumentException",
                                            "selector is required (e.g. cmd.announce)");
                    std::string body;
                    if (r->has_message) ssepush::proto::json_string(r->message, body);
                    const std::string& selector = r->selector;
                    if (!r->to_user_id.empty()) {
                        ev.notify_user_id(r->to_user_id, selector, body);
                    } else {
                        ev.notify_channel(r->channel, selector, body);
                    }
                    reply->no_content();
                });
            });
    });
}

void post_object(eng::exchange& ex, ev_ns::server_events& ev, std::string_view route_channel) {
    chat_request r = bind_chat(ex, route_channel);
    if (!has_target(r)) return respond_error(ex, 400, "ArgumentException", k_no_target);
    try {
        for (const auto& [field, type] :
             {std::pair{"customType", "CustomType"}, std::pair{"setterType", "SetterType"}}) {
            auto raw = r.fields.get_raw(field);
            if (!raw) continue;
            const std::string selector =
                r.selector.empty() ? std::string("cmd.") + type : r.selector;
            if (!r.to_user_id.empty()) {
                ev.notify_user_id(r.to_user_id, selector, *raw);
            } else {
                ev.notify_channel(r.channel, selector, *raw);
            }
        }
        no_content(ex);
    } catch (const std::invalid_argument& e) {
        respond_error(ex, 400, "ArgumentException", e.what());
    }
}

// GetChatHistory: `channels` (a list; every channel when absent), `afterId`
// (only newer messages), `take` (the most recent ones; default and maximum
// the history size) -> {"results":[ChatMessage...]}, oldest first.
void get_history(eng::exchange& ex, const chat_history& history) {
    const auto& req = ex.request();
    request_fields f;
    f.parse(req.query, req.find("content-type"), req.body);
    if (!f.error().empty()) return respond_error(ex, 400, "SerializationException", f.error());
    auto number = [&](std::string_view name, std::int64_t fallback) -> std::optional<std::int64_t> {
        auto v = f.get(name);
        if (!v || v->empty()) return fallback;
        std::int64_t out = 0;
        auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
        if (ec != std::errc{} || p != v->data() + v->size()) return std::nullopt;
        return out;
    };
    const auto after_id = number("afterId", 0);
    const auto take = number("take", history.capacity());
    if (!after_id || !take || *take < 0)
        return respond_error(ex, 400, "ArgumentException",
                             "afterId and take must be integers (take >= 0)");
    std::vector<std::string> channels;
    for (auto& c : f.get_list("channels"))
        if (!c.empty()) channels.push_back(std::move(c));
    const auto msgs =
        history.recent(channels, *after_id,
                       static_cast<std::size_t>(std::min<std::int64_t>(*take, history.capacity())));
    std::string out;
    json_writer w(out);
    w.begin_object().key("results").begin_array();
    for (const auto& m : msgs)
        w.raw(m);
    w.end_array().end_object();
    ex.respond(200, "application/json; charset=utf-8", out);
}

}  // namespace

void install_chat(eng::server& srv, ev_ns::server_events& ev, unsigned history) {
    const auto any = eng::method_set::any();
    auto hist = std::make_shared<chat_history>(history);
    // /channels/{Channel}/{chat|raw|object}
    srv.route_prefix(any, "/channels/", [&ev, hist](eng::exchange& ex) {
        std::string_view rest = ex.request().path.substr(std::string_view("/channels/").size());
        const auto slash = rest.rfind('/');
        if (slash == std::string_view::npos || slash == 0)
            return ex.respond(404, "text/plain", "expected /channels/{Channel}/chat|raw|object\n");
        const std::string_view channel = rest.substr(0, slash);
        const std::string_view op = rest.substr(slash + 1);
        if (op == "chat") return post_chat(ex, ev, hist, channel);
        if (op == "raw") return post_raw(ex, ev, channel);
        if (op == "object") return post_object(ex, ev, channel);
        ex.respond(404, "text/plain", "expected /channels/{Channel}/chat|raw|object\n");
    });
    srv.route(any, "/chathistory", [hist](eng::exchange& ex) { get_history(ex, *hist); });
    srv.route(any, "/reset-serverevents", [&ev](eng::exchange& ex) {
        ev.reset();
        no_content(ex);
    });
    for (const char* base : {"/api/", "/json/reply/"}) {
        const std::string b = base;
        srv.route(any, b + "PostChatToChannel",
                  [&ev, hist](eng::exchange& ex) { post_chat(ex, ev, hist, {}); });
        srv.route(any, b + "GetChatHistory", [hist](eng::exchange& ex) { get_history(ex, *hist); });
        srv.route(any, b + "PostRawToChannel", [&ev](eng::exchange& ex) { post_raw(ex, ev, {}); });
        srv.route(any, b + "PostObjectToChannel",
                  [&ev](eng::exchange& ex) { post_object(ex, ev, {}); });
        srv.route(any, b + "ResetServerEvents", [&ev](eng::exchange& ex) {
            ev.reset();
            no_content(ex);
        });
    }
}

}  // namespace ssepushd
