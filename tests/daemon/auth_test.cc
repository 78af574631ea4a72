// ssepushd's subscriber authentication: JWTs as ServiceStack's JwtAuthProvider
// issues them, over real sockets. Tokens are signed here with OpenSSL.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>

#include "auth.h"
#include "support/events_server.h"
#include "support/sse_client.h"

using namespace ssepush::testing;
namespace events = ssepush::events;

namespace {

const std::string k_secret = "an-hs256-secret-of-at-least-32-bytes!!";

std::string b64url(std::string_view in) {
    static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = unsigned(std::uint8_t(in[i])) << 16 | unsigned(std::uint8_t(in[i + 1])) << 8 |
                     std::uint8_t(in[i + 2]);
        for (int s = 18; s >= 0; s -= 6)
            out.push_back(k[(v >> s) & 63]);
    }
    if (in.size() - i == 1) {
        unsigned v = unsigned(std::uint8_t(in[i])) << 16;
        out.push_back(k[(v >> 18) & 63]);
        out.push_back(k[(v >> 12) & 63]);
    } else if (in.size() - i == 2) {
        unsigned v = unsigned(std::uint8_t(in[i])) << 16 | unsigned(std::uint8_t(in[i + 1])) << 8;
        out.push_back(k[(v >> 18) & 63]);
        out.push_back(k[(v >> 12) & 63]);
        out.push_back(k[(v >> 6) & 63]);
    }
    return out;
}

std::string hs256(const std::string& header, const std::string& payload,
                  const std::string& secret = k_secret) {
    std::string input = b64url(header) + "." + b64url(payload);
    unsigned char mac[32];
    unsigned len = 0;
    HMAC(EVP_sha256(), secret.data(), int(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
    return input + "." + b64url(std::string(reinterpret_cast<char*>(mac), len));
}

std::string payload(long exp_offset, const std::string& extra = {}) {
    const long now = long(std::time(nullptr));
    return R"({"iss":"ssjwt","sub":"7","iat":)" + std::to_string(now) +
           ",\"exp\":" + std::to_string(now + exp_offset) +
           R"(,"preferred_username":"alice","name":"Alice A.","jid":"sess-1","roles":["Admin","Editor"])" +
           (extra.empty() ? "" : "," + extra) + "}";
}

const std::string k_hs_header = R"({"alg":"HS256","typ":"JWT"})";

events::options with_jwt(const ssepushd::jwt_config& cfg, bool limit = false) {
    events::options o;
    o.authenticate = ssepushd::make_jwt_authenticator(cfg);
    o.limit_to_authenticated_users = limit;
    return o;
}

ssepushd::jwt_config hs_config() {
    ssepushd::jwt_config c;
    c.hs256_secret = k_secret;
    c.query_param = "ss-tok";
    return c;
}

TEST(jwt_auth, a_valid_token_from_header_cookie_or_query_authenticates) {
    events_server s(with_jwt(hs_config()));
    s.start();
    const std::string token = hs256(k_hs_header, payload(3600));
    std::vector<std::unique_ptr<sse_client>> clients;
    for (const auto& [query, headers] : std::vector<std::pair<std::string, std::string>>{
             {"channels=a", "Authorization: Bearer " + token + "\r\n"},
             {"channels=a", "Cookie: ss-tok=" + token + "\r\n"},
             {"channels=a&ss-tok=" + token, ""}}) {
        auto& c =
            *clients.emplace_back(std::make_unique<sse_client>(s.port(), query, nullptr, headers));
        ASSERT_TRUE(c.connect()) << headers << query;
        EXPECT_EQ(c.info().at("isAuthenticated"), "true");
        EXPECT_EQ(c.info().at("userId"), "7");
        EXPECT_EQ(c.info().at("displayName"), "alice");
    }
    s.settle();
    auto infos = s.ev().get_subscription_infos_by_user_id("7");
    ASSERT_EQ(infos.size(), 3u);
    EXPECT_EQ(infos[0].user_name, "alice");
    EXPECT_EQ(infos[0].session_id, "sess-1");
    ASSERT_NE(infos[0].server_args.get("roles"), nullptr);
    EXPECT_EQ(*infos[0].server_args.get("roles"), "Admin,Editor");
}

TEST(jwt_auth, invalid_tokens_are_refused_with_401) {
    events_server s(with_jwt(hs_config()));
    s.start();
    const std::string rs_header = R"({"alg":"RS256","typ":"JWT"})";
    const std::string cases[] = {
        hs256(k_hs_header, payload(-3600)),  // expired
        hs256(k_hs_header, payload(3600, "\"nbf\":" + std::to_string(std::time(nullptr) + 3600))),
        hs256(k_hs_header, payload(3600), k_secret + "x"),                // bad signature
        b64url(R"({"alg":"none"})") + "." + b64url(payload(3600)) + ".",  // alg none
        hs256(rs_header, payload(3600)),                                  // wrong algorithm
        "not.a.token",
    };
    for (const auto& token : cases) {
        sse_client c(s.port(), "channels=a", nullptr, "Authorization: Bearer " + token + "\r\n");
        EXPECT_EQ(c.status(), 401) << token;
        EXPECT_NE(c.error_body().find("invalid token"), std::string::npos) << c.error_body();
    }
    // No token at all: anonymous (the stream is not limited here).
    sse_client anon(s.port(), "channels=a");
    ASSERT_TRUE(anon.connect());
    EXPECT_EQ(anon.info().at("isAuthenticated"), "false");
}

TEST(jwt_auth, limit_to_authenticated_users_needs_a_valid_token) {
    events_server s(with_jwt(hs_config(), true));
    s.start();
    EXPECT_EQ(sse_client(s.port(), "channels=a").status(), 401);
    sse_client ok(s.port(), "channels=a", nullptr,
                  "Authorization: Bearer " + hs256(k_hs_header, payload(60)) + "\r\n");
    EXPECT_TRUE(ok.connect());
}

TEST(jwt_auth, rs256_with_a_public_key_file) {
    // A 2048-bit key pair made for this test; the public half goes to a file.
    EVP_PKEY* pkey = nullptr;
    EVP_PKEY_CTX* kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr);
    ASSERT_TRUE(kctx && EVP_PKEY_keygen_init(kctx) > 0 &&
                EVP_PKEY_CTX_set_rsa_keygen_bits(kctx, 2048) > 0 &&
                EVP_PKEY_keygen(kctx, &pkey) > 0);
    EVP_PKEY_CTX_free(kctx);
    char path[] = "/tmp/ssepush-rs256-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    FILE* f = fdopen(fd, "w");
    PEM_write_PUBKEY(f, pkey);
    std::fclose(f);
    auto sign = [&](const std::string& header, const std::string& body) {
        std::string input = b64url(header) + "." + b64url(body);
        EVP_MD_CTX* md = EVP_MD_CTX_new();
        std::size_t len = 0;
        EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, pkey);
        EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size());
        std::string sig(len, '\0');
        EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size());
        EVP_MD_CTX_free(md);
        sig.resize(len);
        return input + "." + b64url(sig);
    };
    ssepushd::jwt_config cfg;
    cfg.rs256_public_key_file = path;
    events_server s(with_jwt(cfg));
    s.start();
    sse_client ok(
        s.port(), "channels=a", nullptr,
        "Authorization: Bearer " + sign(R"({"alg":"RS256","typ":"JWT"})", payload(600)) + "\r\n");
    ASSERT_TRUE(ok.connect());
    EXPECT_EQ(ok.info().at("userId"), "7");
    // The key-confusion attack: an HS256 token keyed with the public key's PEM.
    std::ifstream in(path);
    std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    sse_client forged(s.port(), "channels=a", nullptr,
                      "Authorization: Bearer " + hs256(k_hs_header, payload(600), pem) + "\r\n");
    EXPECT_EQ(forged.status(), 401);
    std::remove(path);
    EVP_PKEY_free(pkey);
}

TEST(jwt_auth, unusable_key_material_is_a_configuration_error) {
    ssepushd::jwt_config short_secret;
    short_secret.hs256_secret = "too-short";
    EXPECT_THROW(ssepushd::make_jwt_authenticator(short_secret), ssepushd::config_error);
    ssepushd::jwt_config missing;
    missing.rs256_public_key_file = "/nonexistent/key.pem";
    EXPECT_THROW(ssepushd::make_jwt_authenticator(missing), ssepushd::config_error);
}

}  // namespace
