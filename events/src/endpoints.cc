// The HTTP endpoints of PROTOCOL.md 1: /event-stream, /event-heartbeat,
// /event-unregister, /event-subscribers, /event-subscribers/{id}, the
// predefined /api/ and /json/reply/ routes, and CORS preflights.
//
// A heartbeat, unregister or update may arrive on any shard; the
// subscription id names the shard that holds it (its first character). The
// request is deferred, the work runs there, and the answer goes back to the
// shard that holds the request's connection.
#include <array>
#include <ctime>
#include <string>

#include "ssepush/engine/shard.h"
#include "ssepush/events/server_events.h"
#include "ssepush/proto/json.h"
#include "ssepush/proto/request_fields.h"
#include "ssepush/proto/url.h"
#include "state.h"

namespace ssepush::events::detail {

namespace {

using proto::method;

std::int64_t unix_ms_now() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return std::int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// ServiceStack's error body: {"responseStatus":{"errorCode":..,"message":..,"errors":[]}}
std::string error_json(std::string_view code, std::string_view message) {
    std::string out;
    proto::json_writer w(out);
    w.begin_object();
    w.key("responseStatus");
    w.begin_object();
    w.key("errorCode");
    w.value(code);
    w.key("message");
    w.value(message);
    w.key("errors");
    w.begin_array();
    w.end_array();
    w.end_object();
    w.end_object();
    return out;
}

answer json_answer(std::uint16_t status, std::string body, std::string cors) {
    answer a;
    a.status = status;
    a.content_type = "application/json; charset=utf-8";
    a.body = std::move(body);
    a.headers = std::move(cors);
    return a;
}

answer not_found(std::string_view id, std::string cors, bool bare) {
    answer a;
    if (!bare)
        a = json_answer(
            404, error_json("NotFound", "Subscription '" + std::string(id) + "' does not exist"),
            std::move(cors));
    else
        a.headers = std::move(cors);
    a.status = 404;
    a.reason = "Subscription '" + std::string(id) + "' does not exist";
    return a;
}

answer forbidden(std::string_view id, std::string cors) {
    return json_answer(
        403,
        error_json("Forbidden", "Access to Subscription '" + std::string(id) + "' is forbidden"),
        std::move(cors));
}

answer bad_request(std::string_view message, std::string cors) {
    return json_answer(400, error_json("ArgumentException", message), std::move(cors));
}

// Request fields from the query string and, for requests with a body, the
// form or JSON body (ServiceStack binds all of them).
proto::request_fields fields_of(const engine::exchange& ex) {
    proto::request_fields f;
    const auto& r = ex.request();
    f.parse(r.query, r.find("content-type"), r.body);
    return f;
}

}  // namespace

// --- CORS -------------------------------------------------------------------------

std::string state::cors_headers(const engine::exchange& ex) const {
    if (opts.cors_origins.empty()) return {};
    const std::string_view origin = ex.request().find("origin");
    if (origin.empty()) return {};
    bool ok = false;
    for (const auto& o : opts.cors_origins)
        ok = ok || o == "*" || o == origin;
    if (!ok) return {};
    for (char ch : origin)
        if (static_cast<unsigned char>(ch) < 0x20) return {};  // never echo a header break
    std::string h = "Access-Control-Allow-Origin: ";
    h.append(origin).append("\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\n");
    return h;
}

void state::handle_preflight(engine::exchange& ex) {
    std::string h = cors_headers(ex);
    if (h.empty()) return ex.respond(403, "text/plain", "origin not allowed\n");
    h += "Access-Control-Allow-Methods: GET, POST, PUT, DELETE, OPTIONS\r\n";
    std::string_view asked = ex.request().find("access-control-request-headers");
    bool clean = true;
    for (char ch : asked)
        clean = clean && static_cast<unsigned char>(ch) >= 0x20;
    h += "Access-Control-Allow-Headers: ";
    h += clean && !asked.empty() ? std::string(asked) : std::string("Content-Type");
    h += "\r\nAccess-Control-Max-Age: 86400\r\n";
    ex.respond(engine::response{204, {}, {}, h, {}});
}

// --- deferred answers from the owning shard -----------------------------------------

template <class Work>
void state::answer_from_owner(engine::exchange& ex, std::string_view id, std::string cors,
                              bool bare_404, Work work) {
    const unsigned owner = proto::shard_of_subscription_id(id);
    engine::shard& here = ex.owner();
    if (owner == here.index()) {
        subscription* sub = find_local(here, id);
        answer a = sub ? work(here, *sub, cors) : not_found(id, cors, bare_404);
        return ex.respond(a.view());
    }
    if (owner >= srv.shard_count())
        return ex.respond(not_found(id, std::move(cors), bare_404).view());
    // The subscription is elsewhere: defer, work there, answer here.
    ex.defer();
    const engine::conn_id conn = ex.connection();
    const unsigned back = here.index();
    srv.run_on(owner, [this, id = std::string(id), cors = std::move(cors), work = std::move(work),
                       conn, back, bare_404](engine::shard& sh) mutable {
        subscription* sub = find_local(sh, id);
        auto a =
            std::make_shared<answer>(sub ? work(sh, *sub, cors) : not_found(id, cors, bare_404));
        srv.run_on(back, [a, conn](engine::shard& s) { s.respond(conn, a->view()); });
    });
}

void state::answer_remote(engine::exchange& ex, remote_request r, std::string cors) {
    ex.defer();
    const engine::conn_id conn = ex.connection();
    const remote_action action = r.action;
    std::string id = r.id;
    prov->remote(std::move(r), [conn, action, id = std::move(id),
                                cors = std::move(cors)](remote_result res) {
        const bool heartbeat = action == remote_action::heartbeat;
        answer a;
        switch (res.status) {
            case 200:
                if (action == remote_action::unregister)
                    a = json_answer(200, res.meta_json.empty() ? "{}" : std::move(res.meta_json),
                                    cors);
                else if (action == remote_action::update)
                    a = json_answer(200, "{}", cors);
                else
                    a.headers = cors;
                break;
            case 403:
                if (heartbeat) {
                    a.status = 403;
                    a.reason = "Invalid User Address";
                    a.headers = cors;
                } else {
                    a = forbidden(id, cors);
                }
                break;
            case 404:
                a = not_found(id, cors, heartbeat);
                break;
            default:
                a = json_answer(503,
                                error_json("ServiceUnavailable",
                                           "the shared subscription store cannot be reached"),
                                cors);
                a.headers += "Retry-After: 2\r\n";
                break;
        }
        if (engine::shard* sh = engine::shard::current()) sh->respond(conn, a.view());
    });
}

// --- /event-stream ----------------------------------------------------------------

void state::handle_stream(engine::exchange& ex) {
    engine::shard& sh = ex.owner();
    std::string cors = cors_headers(ex);
    if (stopped.load(std::memory_order_relaxed))
        return ex.respond(engine::response{
            503, "text/plain", "server events are stopped\n", cors + "Retry-After: 5\r\n", {}});
    if (opts.on_init && !opts.on_init(ex))
        return ex.respond(engine::response{403, "text/plain", "refused\n", cors, {}});

    const proto::request_fields q = fields_of(ex);
    identity who;
    if (opts.authenticate) {
        who = opts.authenticate(ex);
    } else {
        // Anonymous; the ServiceStack session id, if the client has one, still
        // lets NotifySession reach it.
        const std::string_view cookies = ex.request().find("cookie");
        const bool perm = proto::cookie(cookies, "ss-opt").value_or("") == "perm" ||
                          q.get("ss-opt").value_or("") == "perm";
        const char* name = perm ? "ss-pid" : "ss-id";
        if (auto c = proto::cookie(cookies, name))
            who.session_id = std::string(*c);
        else if (auto v = q.get(name))
            who.session_id = *v;
    }
    if (!who.refused.empty()) {
        return ex.respond(
            engine::response{401,
                             "application/json; charset=utf-8",
                             error_json("Unauthorized", who.refused),
                             cors + "WWW-Authenticate: " + opts.www_authenticate + "\r\n",
                             {}});
    }
    if (opts.limit_to_authenticated_users && !who.is_authenticated) {
        return ex.respond(
            engine::response{401,
                             "application/json; charset=utf-8",
                             error_json("Unauthorized", "Not Authenticated"),
                             cors + "WWW-Authenticate: " + opts.www_authenticate + "\r\n",
                             {}});
    }

    // Channels: `channel` first, then `channels`; split on ',' only (PROTOCOL 1.1).
    std::vector<std::string> channels;
    for (const char* key : {"channel", "channels"}) {
        if (auto v = q.get(key)) {
            auto part = proto::split_channels(*v);
            channels.insert(channels.end(), part.begin(), part.end());
        }
    }
    if (channels.empty()) channels.push_back("*");
    if (auto why = check_channels(channels); !why.empty())
        return ex.respond(bad_request(why, cors).view());

    // The subscription (PROTOCOL 5.1-5.2).
    auto owned = std::make_unique<subscription>();
    subscription& sub = *owned;
    sub.state_ = this;
    const std::int64_t n = prov->next_anonymous_id();  // counted on every connection
    const std::string id = proto::make_subscription_id(sh.index(), *shards[sh.index()]->rng);
    const std::string anonymous_id = who.user_id.empty() ? "-" + std::to_string(n) : std::string();
    const std::string anonymous_name = who.display_name.empty() && who.user_name.empty()
                                           ? "user" + std::to_string(n)
                                           : std::string();
    const std::string address = ex.peer().ip();
    std::array<std::string_view, subscription::k_text_fields> text;
    text[subscription::k_id] = id;
    text[subscription::k_user_id] = who.user_id.empty() ? anonymous_id : who.user_id;
    text[subscription::k_user_name] = who.user_name;
    text[subscription::k_display_name] = !who.display_name.empty() ? who.display_name
                                         : !who.user_name.empty()  ? who.user_name
                                                                   : anonymous_name;
    text[subscription::k_session_id] = who.session_id;
    text[subscription::k_user_address] = address;
    text[subscription::k_profile_url] = who.profile_url;  // empty: the server's default
    sub.text_ = detail::packed_strings<subscription::k_text_fields>(text);
    sub.channels_ = std::move(channels);
    sub.is_authenticated_ = who.is_authenticated;
    sub.created_at_ms_ = unix_ms_now();
    if (!who.roles.empty()) sub.server_args().set("roles", join(who.roles));
    sub.last_pulse_ms_ = sh.now_ms();
    sub.idle_timer_.set_callback(&state::on_idle_timer);
    if (opts.on_created) opts.on_created(sub, ex);

    // cmd.onConnect: Meta, the URLs, the timings, then ConnectArgs.
    std::string base = opts.base_url;
    if (base.empty()) {
        const auto& r = ex.request();
        std::string_view proto_hdr =
            opts.trust_forwarded_headers ? r.find("x-forwarded-proto") : "";
        std::string_view host = opts.trust_forwarded_headers ? r.find("x-forwarded-host") : "";
        if (host.empty()) host = r.find("host");
        base = (proto_hdr == "https" ? "https://" : "http://") + std::string(host);
    }
    std::string session_params;
    for (const char* key : {"ss-id", "ss-pid", "ss-opt"}) {
        if (auto v = q.get(key)) {
            session_params.append("&").append(key).append("=");
            proto::url_encode(*v, session_params);
        }
    }
    string_map connect;
    for_each_meta(sub, sub.current_extras(),
                  [&](std::string_view k, std::string_view v) { connect.set(k, v); });
    connect.set("id", id);
    if (!opts.unregister_path.empty())
        connect.set("unRegisterUrl", base + opts.unregister_path + "?id=" + id + session_params);
    if (!opts.heartbeat_path.empty())
        connect.set("heartbeatUrl", base + opts.heartbeat_path + "?id=" + id + session_params);
    if (!opts.update_subscriber_path.empty())
        connect.set("updateSubscriberUrl", base + opts.update_subscriber_path + "/" + id);
    connect.set("heartbeatIntervalMs", std::to_string(opts.heartbeat_interval.count()));
    connect.set("idleTimeoutMs", std::to_string(opts.idle_timeout.count()));
    if (const auto* x = sub.current_extras())
        for (const auto& [k, v] : x->connect_args)
            connect.set(k, v);
    if (opts.on_connect) opts.on_connect(sub, connect);

    // The stream, registration, onConnect strictly first, then the joins.
    engine::stream_options so;
    so.extra_headers = "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n";
    std::string headers;
    if (!cors.empty()) {
        headers = std::string(so.extra_headers) + cors;
        so.extra_headers = headers;
    }
    so.hooks = &hooks;
    so.user = &sub;
    const engine::stream_ref stream = ex.open_stream(so);
    if (!stream) return;  // HEAD: headers only
    owned.release();      // owned by its stream from now on (deleted in on_stream_closed)
    register_sub(sh, sub, stream);
    std::string data = "cmd.onConnect ";
    {
        proto::json_writer w(data);
        w.begin_object();
        for (const auto& [k, v] : connect) {
            w.key(k);
            w.value(std::string_view(v));
        }
        w.end_object();
    }
    send_to(sh, sub, data);
    arm_idle(sh, sub);
    if (opts.on_subscribe) opts.on_subscribe(sub);
    if (!sub.registered_) return;  // the hook unsubscribed it
    publish_edits(sh, sub);
    // ServiceStack, with notices off, writes a bare "\n" to every subscriber of
    // the channels instead, to find dead connections by writing to them: that
    // is O(subscribers) per join (O(n^2) to fill a channel), and the engine
    // already sees a closed connection when it happens. Clients drop the "\n",
    // so it is not sent.
    if (opts.notify_channel_of_subscriptions) notice(sub, "cmd.onJoin", sub.channels_);
}

// --- /event-heartbeat ---------------------------------------------------------------

void state::handle_heartbeat(engine::exchange& ex) {
    answer a;
    a.headers = cors_headers(ex);
    std::string id;  // read from the query string only (PROTOCOL 1.2)
    (void)proto::find_param(ex.request().query, "id", id);
    // Answered by the shard that received it, from the owner's index (read
    // under its lock); the pulse runs on the owner, posted there when that is
    // another shard. So a heartbeat never waits for a round trip to a shard
    // that may be a long fan-out turn away, and pipelined heartbeats on one
    // connection do not wait for each other.
    const std::string ip = opts.validate_user_address ? ex.peer().ip() : std::string();
    switch (peek(id, ip)) {
        case presence::missing:
            if (prov->shared() && !id.empty()) {
                // Held by another node, perhaps: it pulses it when told to.
                remote_request r;
                r.action = remote_action::heartbeat;
                r.id = std::move(id);
                r.address = ip;
                return answer_remote(ex, std::move(r), std::move(a.headers));
            }
            return ex.respond(not_found(id, std::move(a.headers), true).view());
        case presence::other_address:
            a.status = 403;
            a.reason = "Invalid User Address";
            return ex.respond(a.view());
        case presence::present:
            break;
    }
    auto beat = [this, id](engine::shard& sh) {
        if (subscription* sub = find_local(sh, id)) {
            pulse(sh, *sub);
            prov->heartbeat(*sub);
        }
    };
    engine::shard& here = ex.owner();
    const unsigned owner = proto::shard_of_subscription_id(id);
    if (owner == here.index())
        beat(here);
    else
        srv.run_on(owner, std::move(beat));
    ex.respond(a.view());  // 200, empty body
}

// --- /event-unregister --------------------------------------------------------------

void state::handle_unregister(engine::exchange& ex) {
    std::string cors = cors_headers(ex);
    const proto::request_fields f = fields_of(ex);
    if (!f.error().empty()) return ex.respond(bad_request(f.error(), cors).view());
    const std::string id = f.get("id").value_or("");
    const engine::peer_address peer = ex.peer();
    if (prov->shared() && !id.empty() && peek(id, {}) == presence::missing) {
        remote_request r;
        r.action = remote_action::unregister;
        r.id = id;
        if (opts.validate_user_address) r.address = peer.ip();
        return answer_remote(ex, std::move(r), std::move(cors));
    }
    answer_from_owner(ex, id, std::move(cors), false,
                      [this, peer](engine::shard& sh, subscription& sub, const std::string& c) {
                          if (opts.validate_user_address && peer.ip() != sub.user_address())
                              return forbidden(sub.id(), c);
                          answer a = json_answer(200, meta_json(sub), c);
                          remove_sub(sh, sub, true);
                          return a;
                      });
}

// --- /event-subscribers/{id}, UpdateEventSubscriber -----------------------------------

void state::handle_update(engine::exchange& ex, std::string_view path_id) {
    std::string cors = cors_headers(ex);
    const proto::request_fields f = fields_of(ex);
    if (!f.error().empty()) return ex.respond(bad_request(f.error(), cors).view());
    std::string id = path_id.empty() ? f.get("id").value_or("") : std::string(path_id);
    std::vector<std::string> sub_channels = f.get_list("subscribeChannels");
    std::vector<std::string> unsub_channels = f.get_list("unsubscribeChannels");
    if (auto why = check_channels(sub_channels); !why.empty())
        return ex.respond(bad_request(why, cors).view());
    const engine::peer_address peer = ex.peer();
    if (prov->shared() && !id.empty() && peek(id, {}) == presence::missing) {
        remote_request r;
        r.action = remote_action::update;
        r.id = std::move(id);
        if (opts.validate_user_address) r.address = peer.ip();
        r.subscribe = std::move(sub_channels);
        r.unsubscribe = std::move(unsub_channels);
        return answer_remote(ex, std::move(r), std::move(cors));
    }
    answer_from_owner(
        ex, id, std::move(cors), false,
        [this, peer, subs = std::move(sub_channels), unsubs = std::move(unsub_channels)](
            engine::shard& sh, subscription& sub, const std::string& c) {
            if (opts.validate_user_address && peer.ip() != sub.user_address())
                return forbidden(sub.id(), c);
            std::size_t total = sub.channels().size();
            for (const auto& ch : subs)
                total += sub.has_channel(ch) ? 0 : 1;
            if (total > opts.max_channels_per_subscription)
                return bad_request("too many channels: at most " +
                                       std::to_string(opts.max_channels_per_subscription),
                                   c);
            update_channels(sh, sub, unsubs, subs);
            return json_answer(200, "{}", c);
        });
}

// --- /event-subscribers, GetEventSubscribers ------------------------------------------

void state::handle_subscribers(engine::exchange& ex) {
    std::string cors = cors_headers(ex);
    const proto::request_fields f = fields_of(ex);
    if (!f.error().empty()) return ex.respond(bad_request(f.error(), cors).view());
    std::vector<std::string> channels = f.get_list("channels");
    for (auto& c : f.get_list("channel"))
        channels.push_back(std::move(c));
    auto write = [](std::string& out, const string_map& meta) {
        out.push_back(out.size() > 1 ? ',' : '[');
        proto::json_writer w(out);
        w.begin_object();
        for (const auto& [k, v] : meta) {
            w.key(k);
            w.value(std::string_view(v));
        }
        w.end_object();
    };
    if (!prov->shared()) {
        std::string out;
        for (const string_map& meta : prov->details(channels))
            write(out, meta);
        out += out.empty() ? "[]" : "]";
        return ex.respond(json_answer(200, std::move(out), std::move(cors)).view());
    }
    // Every node's subscribers, read from the shared store.
    ex.defer();
    const engine::conn_id conn = ex.connection();
    prov->find_in_channels_async(
        channels, [conn, cors = std::move(cors), write](std::vector<subscription_info> infos) {
            std::string out;
            for (const subscription_info& i : infos)
                write(out, i.meta);
            out += out.empty() ? "[]" : "]";
            if (engine::shard* sh = engine::shard::current())
                sh->respond(conn, json_answer(200, std::move(out), cors).view());
        });
}

// --- routes -------------------------------------------------------------------------

void state::install_routes() {
    const auto any = engine::method_set::any();
    const auto options_only = engine::method_set::of({method::options});
    // Every method but OPTIONS, which answers CORS preflights.
    engine::method_set not_options = any;
    not_options.bits &= std::uint8_t(~(1u << unsigned(method::options)));
    auto add = [&](const std::string& path, engine::handler h) {
        if (path.empty()) return;
        srv.route(not_options, path, std::move(h));
        srv.route(options_only, path, [this](engine::exchange& ex) { handle_preflight(ex); });
    };
    add(opts.stream_path, [this](engine::exchange& ex) { handle_stream(ex); });
    add(opts.heartbeat_path, [this](engine::exchange& ex) { handle_heartbeat(ex); });
    add(opts.unregister_path, [this](engine::exchange& ex) { handle_unregister(ex); });
    add(opts.subscribers_path, [this](engine::exchange& ex) { handle_subscribers(ex); });
    if (!opts.update_subscriber_path.empty()) {
        const std::string prefix = opts.update_subscriber_path + "/";
        srv.route_prefix(not_options, prefix, [this, n = prefix.size()](engine::exchange& ex) {
            std::string id;
            proto::url_decode(ex.request().path.substr(n), id, false);
            handle_update(ex, id);
        });
        srv.route_prefix(options_only, prefix,
                         [this](engine::exchange& ex) { handle_preflight(ex); });
    }
    if (opts.predefined_routes) {
        for (const char* base : {"/api/", "/json/reply/"}) {
            add(std::string(base) + "GetEventSubscribers",
                [this](engine::exchange& ex) { handle_subscribers(ex); });
            add(std::string(base) + "UpdateEventSubscriber",
                [this](engine::exchange& ex) { handle_update(ex, {}); });
        }
    }
}

}  // namespace ssepush::events::detail
