#include "publish_api.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <simdjson.h>

#include <memory>
#include <string>
#include <string_view>

#include "log.h"
#include "ssepush/proto/json.h"
#include "ssepush/proto/request_fields.h"
#include "ssepush/proto/url.h"

namespace ssepushd {

namespace eng = ssepush::engine;
namespace ev_ns = ssepush::events;
using ssepush::proto::json_writer;

namespace {

constexpr std::string_view k_prefix = "/event-publish";

struct publish_api {
    ev_ns::server_events& ev;
    unsigned char key_digest[SHA256_DIGEST_LENGTH];
};

// Compares SHA-256 digests with CRYPTO_memcmp: the time taken does not depend
// on how much of the key a caller got right, nor (to first order) on its length.
bool key_matches(const publish_api& api, std::string_view given) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), d);
    return CRYPTO_memcmp(d, api.key_digest, sizeof d) == 0;
}

void json_error(eng::exchange& ex, std::uint16_t status, std::string_view message,
                std::string_view extra_headers = {}) {
    std::string body;
    json_writer w(body);
    w.begin_object().member("error", message).end_object();
    body.push_back('\n');
    ex.respond(eng::response{status, "application/json", body, extra_headers, {}});
}

bool authorized(const publish_api& api, eng::exchange& ex) {
    std::string_view h = ex.request().find("authorization");
    constexpr std::string_view k_bearer = "bearer ";  // the scheme is case-insensitive
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c + 32) : c; };
    if (h.size() < k_bearer.size() || !std::equal(k_bearer.begin(), k_bearer.end(), h.begin(),
                                                  [&](char a, char b) { return a == lower(b); })) {
        json_error(ex, 401, "missing 'Authorization: Bearer <publish key>'",
                   "WWW-Authenticate: Bearer realm=\"ssepush publish\"\r\n");
        return false;
    }
    if (!key_matches(api, h.substr(k_bearer.size()))) {
        json_error(ex, 403, "wrong publish key");
        return false;
    }
    return true;
}

bool parse_target(std::string_view name, ev_ns::target& out) {
    if (name == "all")
        out = ev_ns::target::all;
    else if (name == "channel")
        out = ev_ns::target::channel;
    else if (name == "subscription")
        out = ev_ns::target::subscription;
    else if (name == "user")
        out = ev_ns::target::user_id;
    else if (name == "username")
        out = ev_ns::target::user_name;
    else if (name == "session")
        out = ev_ns::target::session;
    else
        return false;
    return true;
}

constexpr std::string_view k_targets = "all, channel, subscription, user, username, session";

void write_map(json_writer& w, std::string_view name, const ev_ns::string_map& m) {
    w.key(name).begin_object();
    for (const auto& [k, v] : m)
        w.member(k, v);
    w.end_object();
}

void write_info(json_writer& w, const ev_ns::subscription_info& i) {
    w.begin_object();
    w.member("id", i.id);
    w.key("channels").begin_array();
    for (const auto& c : i.channels)
        w.value(c);
    w.end_array();
    w.member("userId", i.user_id);
    if (!i.user_name.empty()) w.member("userName", i.user_name);
    w.member("displayName", i.display_name);
    if (!i.session_id.empty()) w.member("sessionId", i.session_id);
    w.member("userAddress", i.user_address);
    w.member("isAuthenticated", i.is_authenticated);
    w.member("createdAt", i.created_at_ms);
    write_map(w, "meta", i.meta);
    write_map(w, "connectArgs", i.connect_args);
    write_map(w, "serverArgs", i.server_args);
    w.end_object();
}

// The message body must be JSON (it is written verbatim after the selector),
// or empty for a null message.
bool valid_json(std::string_view body) {
    if (body.empty()) return true;
    thread_local simdjson::dom::parser parser;
    simdjson::padded_string padded(body);
    return parser.parse(padded).error() == simdjson::SUCCESS;
}

void publish_one(publish_api& api, eng::exchange& ex, std::string_view rest) {
    // rest: "all" | "<target>/<key>"
    const auto slash = rest.find('/');
    ev_ns::target t;
    if (!parse_target(rest.substr(0, slash), t))
        return json_error(ex, 404,
                          "unknown target '" + std::string(rest.substr(0, slash)) + "': expected " +
                              std::string(k_targets));
    std::string key;
    if (t != ev_ns::target::all) {
        if (slash == std::string_view::npos || slash + 1 == rest.size())
            return json_error(ex, 400,
                              "missing the target's id: /event-publish/" +
                                  std::string(rest.substr(0, slash)) + "/{id}");
        ssepush::proto::url_decode(rest.substr(slash + 1), key, false);
    } else if (slash != std::string_view::npos) {
        return json_error(ex, 404, "/event-publish/all takes no id");
    }
    std::string selector, channel;
    (void)ssepush::proto::find_param(ex.request().query, "selector", selector);
    (void)ssepush::proto::find_param(ex.request().query, "channel", channel);
    if (selector.empty()) return json_error(ex, 400, "missing ?selector=op.target");
    const std::string_view body = ex.request().body;
    if (!valid_json(body)) return json_error(ex, 400, "the body is not valid JSON");
    if (t == ev_ns::target::channel && !channel.empty())
        return json_error(ex, 400,
                          "?channel= filters user, session and subscription targets; "
                          "a channel target is the channel");
    try {
        api.ev.notify(ev_ns::notification{t, key, selector, body, channel});
    } catch (const std::invalid_argument& e) {
        return json_error(ex, 400, e.what());
    }
    SSEPUSHD_LOG(debug, "publish target=%.*s key=%s selector=%s bytes=%zu",
                 int(rest.substr(0, slash).size()), rest.data(), key.c_str(), selector.c_str(),
                 body.size());
    ex.respond(202, "application/json", "{\"published\":1}\n");
}

void publish_batch(publish_api& api, eng::exchange& ex) {
    thread_local simdjson::ondemand::parser parser;
    simdjson::padded_string padded(ex.request().body);
    std::string error;
    std::size_t index = 0;
    // Parsed and checked whole before anything is sent: a bad item sends nothing.
    struct item {
        ev_ns::target t;
        std::string key, selector, channel, message;
    };
    std::vector<item> items;
    auto fail = [&](const std::string& what) {
        json_error(ex, 400, "items[" + std::to_string(index) + "]: " + what);
    };
    simdjson::ondemand::document doc;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS)
        return json_error(ex, 400, "the body is not valid JSON");
    simdjson::ondemand::array arr;
    if (doc.get_array().get(arr) != simdjson::SUCCESS)
        return json_error(ex, 400,
                          "expected a JSON array of {target, id, selector, channel, message}");
    for (auto element : arr) {
        simdjson::ondemand::object obj;
        if (element.get_object().get(obj) != simdjson::SUCCESS) return fail("expected an object");
        item it{ev_ns::target::all, {}, {}, {}, {}};
        bool has_target = false;
        for (auto field : obj) {
            std::string_view name;
            if (field.unescaped_key().get(name) != simdjson::SUCCESS) return fail("bad key");
            simdjson::ondemand::value v = field.value();
            auto get_string = [&](std::string& out) -> bool {
                if (v.is_null()) return true;
                std::string_view sv;
                if (v.get_string().get(sv) != simdjson::SUCCESS) return false;
                out.assign(sv);
                return true;
            };
            if (name == "target") {
                std::string tn;
                if (!get_string(tn) || !parse_target(tn, it.t))
                    return fail("target: expected one of " + std::string(k_targets));
                has_target = true;
            } else if (name == "id") {
                if (!get_string(it.key)) return fail("id: expected a string");
            } else if (name == "selector") {
                if (!get_string(it.selector)) return fail("selector: expected a string");
            } else if (name == "channel") {
                if (!get_string(it.channel)) return fail("channel: expected a string");
            } else if (name == "message") {
                if (!v.is_null()) {
                    std::string_view raw;
                    if (simdjson::to_json_string(v).get(raw) != simdjson::SUCCESS)
                        return fail("message: bad JSON");
                    it.message.assign(raw);
                    while (!it.message.empty() &&
                           (it.message.back() == ' ' || it.message.back() == '\n' ||
                            it.message.back() == '\r' || it.message.back() == '\t'))
                        it.message.pop_back();
                }
            } else {
                return fail("unknown field '" + std::string(name) +
                            "': expected target, id, selector, channel, message");
            }
        }
        if (!has_target) return fail("missing target");
        if (it.selector.empty()) return fail("missing selector");
        if (it.t != ev_ns::target::all && it.key.empty()) return fail("missing id");
        items.push_back(std::move(it));
        ++index;
    }
    std::size_t sent = 0;
    for (index = 0; index < items.size(); ++index) {
        const item& it = items[index];
        try {
            api.ev.notify(ev_ns::notification{it.t, it.key, it.selector, it.message,
                                              it.t == ev_ns::target::channel
                                                  ? std::string_view{}
                                                  : std::string_view(it.channel)});
            ++sent;
        } catch (const std::invalid_argument& e) {
            // Checked up front where possible; what notify refuses is reported,
            // the items before it went out.
            std::string body;
            json_writer w(body);
            w.begin_object().member("published", sent);
            w.member("error", "items[" + std::to_string(index) + "]: " + e.what()).end_object();
            return ex.respond(400, "application/json", body + "\n");
        }
    }
    SSEPUSHD_LOG(debug, "publish batch items=%zu bytes=%zu", sent, ex.request().body.size());
    ex.respond(202, "application/json", "{\"published\":" + std::to_string(sent) + "}\n");
}

void subscribers(publish_api& api, eng::exchange& ex) {
    ssepush::proto::request_fields f;
    f.parse(ex.request().query, {}, {});
    std::vector<std::string> channels = f.get_list("channels");
    // Answered when the provider has them (at once from memory; with Redis,
    // every node's, after a round trip).
    ex.defer();
    const eng::conn_id conn = ex.connection();
    api.ev.get_subscriptions(channels, [conn](std::vector<ev_ns::subscription_info> infos) {
        std::string out;
        json_writer w(out);
        w.begin_array();
        for (const auto& i : infos)
            write_info(w, i);
        w.end_array();
        out.push_back('\n');
        if (eng::shard* sh = eng::shard::current()) sh->respond(conn, 200, "application/json", out);
    });
}

void subscription(publish_api& api, eng::exchange& ex, std::string_view id_enc) {
    std::string id;
    ssepush::proto::url_decode(id_enc, id, false);
    ex.defer();
    const eng::conn_id conn = ex.connection();
    api.ev.get_subscription_info(id, [conn, id](std::optional<ev_ns::subscription_info> info) {
        eng::shard* sh = eng::shard::current();
        if (!sh) return;
        std::string out;
        json_writer w(out);
        if (!info) {
            w.begin_object();
            w.member("error", "no subscription '" + id + "'");
            w.end_object();
            out.push_back('\n');
            sh->respond(conn, 404, "application/json", out);
            return;
        }
        write_info(w, *info);
        out.push_back('\n');
        sh->respond(conn, 200, "application/json", out);
    });
}

}  // namespace

void install_publish_api(eng::server& srv, ev_ns::server_events& ev, std::string key) {
    auto api = std::make_shared<publish_api>(publish_api{ev, {}});
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), api->key_digest);
    const auto any = eng::method_set::any();
    srv.route(any, std::string(k_prefix), [api](eng::exchange& ex) {
        if (!authorized(*api, ex)) return;
        if (ex.request().verb != ssepush::proto::method::post)
            return json_error(ex, 405, "POST a JSON array of items", "Allow: POST\r\n");
        publish_batch(*api, ex);
    });
    srv.route_prefix(any, std::string(k_prefix) + "/", [api](eng::exchange& ex) {
        if (!authorized(*api, ex)) return;
        const std::string_view rest = ex.request().path.substr(k_prefix.size() + 1);
        const auto verb = ex.request().verb;
        if (verb == ssepush::proto::method::get) {
            if (rest == "subscribers") return subscribers(*api, ex);
            if (rest.starts_with("subscription/"))
                return subscription(*api, ex,
                                    rest.substr(std::string_view("subscription/").size()));
            return json_error(ex, 404,
                              "GET serves /event-publish/subscribers and "
                              "/event-publish/subscription/{id}");
        }
        if (verb != ssepush::proto::method::post)
            return json_error(ex, 405, "publish with POST", "Allow: GET, POST\r\n");
        publish_one(*api, ex, rest);
    });
}

}  // namespace ssepushd
