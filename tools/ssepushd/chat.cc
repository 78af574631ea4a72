#include "chat.h"

#include <string>

#include "ssepush/proto/json.h"
#include "ssepush/proto/request_fields.h"
#include "ssepush/proto/url.h"

namespace ssepushd {

namespace eng = ssepush::engine;
namespace ev_ns = ssepush::events;
using ssepush::proto::json_writer;
using ssepush::proto::request_fields;

namespace {

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

// The sender must be a live subscription (ServiceStack answers 404 otherwise).
std::optional<ev_ns::subscription_info> sender(eng::exchange& ex, ev_ns::server_events& ev,
                                               const chat_request& r) {
    auto sub = ev.get_subscription_info(r.from);
    if (!sub) respond_error(ex, 404, "NotFound", "Subscription " + r.from + " does not exist");
    return sub;
}

bool check_target(eng::exchange& ex, const chat_request& r) {
    if (r.to_user_id.empty() && r.channel.empty()) {
        respond_error(ex, 400, "ArgumentException", "channel or toUserId is required");
        return false;
    }
    return true;
}

void post_chat(eng::exchange& ex, ev_ns::server_events& ev, std::string_view route_channel) {
    chat_request r = bind_chat(ex, route_channel);
    auto from = sender(ex, ev, r);
    if (!from || !check_target(ex, r)) return;
    const std::string selector = r.selector.empty() ? "cmd.chat" : r.selector;
    const std::int64_t id = ev.next_sequence("chatMsg");
    auto message_json = [&](std::string_view text, bool priv) {
        std::string out;
        json_writer w(out);
        w.begin_object();
        w.member("id", id);
        if (!r.channel.empty()) w.member("channel", r.channel);
        w.member("fromUserId", from->user_id);
        w.member("fromName", from->display_name);
        w.member("displayName", from->display_name);
        w.member("message", text);
        w.member("private", priv);
        w.end_object();
        return out;
    };
    try {
        if (!r.to_user_id.empty()) {
            ev.notify_user_id(r.to_user_id, selector, message_json(r.message, true));
            // The sender sees what it sent, once per subscription of the target user.
            for (const auto& to : ev.get_subscription_infos_by_user_id(r.to_user_id))
                ev.notify_subscription(
                    r.from, selector, message_json("@" + to.display_name + ": " + r.message, true));
            return ex.respond(200, "application/json; charset=utf-8",
                              message_json(r.message, true));
        }
        const std::string body = message_json(r.message, false);
        ev.notify_channel(r.channel, selector, body);
        ex.respond(200, "application/json; charset=utf-8", body);
    } catch (const std::invalid_argument& e) {
        respond_error(ex, 400, "ArgumentException", e.what());
    }
}

void post_raw(eng::exchange& ex, ev_ns::server_events& ev, std::string_view route_channel) {
    chat_request r = bind_chat(ex, route_channel);
    auto from = sender(ex, ev, r);
    if (!from || !check_target(ex, r)) return;
    // A string message becomes a JSON string; no message, an empty body.
    if (r.selector.empty())
        return respond_error(ex, 400, "ArgumentException",
                             "selector is required (e.g. cmd.announce)");
    std::string body;
    if (r.has_message) ssepush::proto::json_string(r.message, body);
    const std::string& selector = r.selector;
    try {
        if (!r.to_user_id.empty()) {
            ev.notify_user_id(r.to_user_id, selector, body);
        } else {
            ev.notify_channel(r.channel, selector, body);
        }
        no_content(ex);
    } catch (const std::invalid_argument& e) {
        respond_error(ex, 400, "ArgumentException", e.what());
    }
}

void post_object(eng::exchange& ex, ev_ns::server_events& ev, std::string_view route_channel) {
    chat_request r = bind_chat(ex, route_channel);
    if (!check_target(ex, r)) return;
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

}  // namespace

void install_chat(eng::server& srv, ev_ns::server_events& ev) {
    const auto any = eng::method_set::any();
    // /channels/{Channel}/{chat|raw|object}
    srv.route_prefix(any, "/channels/", [&ev](eng::exchange& ex) {
        std::string_view rest = ex.request().path.substr(std::string_view("/channels/").size());
        const auto slash = rest.rfind('/');
        if (slash == std::string_view::npos || slash == 0)
            return ex.respond(404, "text/plain", "expected /channels/{Channel}/chat|raw|object\n");
        const std::string_view channel = rest.substr(0, slash);
        const std::string_view op = rest.substr(slash + 1);
        if (op == "chat") return post_chat(ex, ev, channel);
        if (op == "raw") return post_raw(ex, ev, channel);
        if (op == "object") return post_object(ex, ev, channel);
        ex.respond(404, "text/plain", "expected /channels/{Channel}/chat|raw|object\n");
    });
    srv.route(any, "/reset-serverevents", [&ev](eng::exchange& ex) {
        ev.reset();
        no_content(ex);
    });
    for (const char* base : {"/api/", "/json/reply/"}) {
        const std::string b = base;
        srv.route(any, b + "PostChatToChannel",
                  [&ev](eng::exchange& ex) { post_chat(ex, ev, {}); });
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
