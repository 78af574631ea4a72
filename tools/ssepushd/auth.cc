#include "auth.h"

#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

#include "log.h"
#include "ssepush/proto/jwt.h"
#include "ssepush/proto/request_fields.h"
#include "ssepush/proto/url.h"

namespace ssepushd {

namespace proto = ssepush::proto;

namespace {

struct verifier {
    std::optional<proto::jwt_key> key;  // always set once built
    proto::jwt_rules rules;
    jwt_config cfg;
};

// The token a request presents: Authorization: Bearer, then the cookie, then
// the query parameter (each only where configured). Empty: none.
std::string token_of(const verifier& v, const engine::exchange& ex) {
    const auto& r = ex.request();
    std::string_view h = r.find("authorization");
    if (h.size() > 7 && (h.substr(0, 7) == "Bearer " || h.substr(0, 7) == "bearer "))
        return std::string(h.substr(7));
    if (!v.cfg.cookie.empty())
        if (auto c = proto::cookie(r.find("cookie"), v.cfg.cookie)) return std::string(*c);
    if (!v.cfg.query_param.empty()) {
        std::string t;
        if (proto::find_param(r.query, v.cfg.query_param, t)) return t;
    }
    return {};
}

}  // namespace

std::function<events::identity(const engine::exchange&)> make_jwt_authenticator(
    const jwt_config& cfg) {
    auto v = std::make_shared<verifier>();
    v->cfg = cfg;
    std::optional<proto::jwt_key> key;
    std::string error;
    if (!cfg.hs256_secret.empty()) {
        key = proto::jwt_key::hs256(cfg.hs256_secret, &error);
        if (!key) throw config_error("jwt.hs256_secret: " + error);
    } else if (!cfg.hs256_secret_base64.empty()) {
        key = proto::jwt_key::hs256_base64(cfg.hs256_secret_base64, &error);
        if (!key) throw config_error("jwt.hs256_secret_base64: " + error);
    } else {
        std::ifstream f(cfg.rs256_public_key_file);
        if (!f)
            throw config_error("jwt.rs256_public_key_file: cannot read " +
                               cfg.rs256_public_key_file);
        std::stringstream ss;
        ss << f.rdbuf();
        key = proto::jwt_key::rs256_pem(ss.str(), &error);
        if (!key)
            throw config_error("jwt.rs256_public_key_file: " + cfg.rs256_public_key_file + ": " +
                               error);
    }
    if (!key) throw config_error("jwt: no usable key");
    v->key = std::move(key);
    v->rules.issuer = cfg.issuer;
    v->rules.audience = cfg.audience;
    v->rules.leeway_seconds = cfg.leeway.count();

    return [v](const engine::exchange& ex) {
        events::identity who;
        // Anonymous callers keep their ServiceStack session cookie, if any.
        if (auto c = proto::cookie(ex.request().find("cookie"), "ss-id"))
            who.session_id = std::string(*c);
        const std::string token = token_of(*v, ex);
        if (token.empty()) return who;
        proto::jwt_claims claims;
        const proto::jwt_error err =
            proto::verify_jwt(token, *v->key, v->rules, std::int64_t(std::time(nullptr)), claims);
        if (err != proto::jwt_error::none) {
            who.refused = std::string("invalid token: ") + proto::to_string(err);
            SSEPUSHD_LOG(info, "refused a stream from %s: %s", ex.peer().ip().c_str(),
                         proto::to_string(err));
            return who;
        }
        who.is_authenticated = true;
        who.user_id = claims.user_id;
        who.user_name = claims.user_name;
        // ServiceStack shows the user name unless it looks like an e-mail or a
        // number; then the display name (PROTOCOL 5.2).
        const bool name_ok = !claims.user_name.empty() &&
                             claims.user_name.find('@') == std::string::npos &&
                             claims.user_name.find_first_not_of("0123456789") != std::string::npos;
        who.display_name = name_ok ? claims.user_name : claims.display_name;
        if (who.display_name.empty()) who.display_name = claims.user_name;
        who.profile_url = claims.profile_url;
        who.roles = std::move(claims.roles);
        if (!claims.session_id.empty()) who.session_id = claims.session_id;
        return who;
    };
}

}  // namespace ssepushd
