// Tests for JWT verification (HS256, RS256): keys and tokens are made here with
// OpenSSL, so nothing secret is committed; three known-answer tokens were
// computed outside this code (RFC 7515 A.1, and `openssl dgst` in a shell).
#include "ssepush/proto/jwt.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ssepush::proto {
namespace {

using namespace std::literals;

constexpr std::int64_t k_now = 1'700'000'000;
constexpr std::string_view k_secret = "an-hs256-test-secret-of-at-least-32-bytes";

// ---------------------------------------------------------------------------
// Token making (the signing side, which proto does not have)

constexpr std::string_view k_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64url(std::string_view bytes) {
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : bytes) {
        acc = (acc << 8) | static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(k_alphabet[(acc >> bits) & 0x3F]);
        }
    }
    if (bits > 0) out.push_back(k_alphabet[(acc << (6 - bits)) & 0x3F]);
    return out;
}

std::string hmac_sha256(std::string_view secret, std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &n);
    return std::string(reinterpret_cast<const char*>(md), n);
}

struct pkey_free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

pkey_ptr make_rsa(int bits) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr);
    EVP_PKEY* key = nullptr;
    EXPECT_EQ(EVP_PKEY_keygen_init(ctx), 1);
    EXPECT_EQ(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits), 1);
    EXPECT_EQ(EVP_PKEY_keygen(ctx, &key), 1);
    EVP_PKEY_CTX_free(ctx);
    return pkey_ptr(key);
}

std::string rsa_sha256(EVP_PKEY* key, std::string_view data) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
    std::size_t len = 0;
    const auto* in = reinterpret_cast<const unsigned char*>(data.data());
    EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &len, in, data.size()), 1);
    std::string sig(len, '\0');
    EXPECT_EQ(
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in, data.size()),
        1);
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    return sig;
}

// The public key as PEM: SubjectPublicKeyInfo ("PUBLIC KEY"), or PKCS#1 ("RSA
// PUBLIC KEY", the RSA type-specific structure), or the private key.
std::string to_pem(EVP_PKEY* key, int selection, const char* structure) {
    OSSL_ENCODER_CTX* ctx =
        OSSL_ENCODER_CTX_new_for_pkey(key, selection, "PEM", structure, nullptr);
    unsigned char* data = nullptr;
    std::size_t len = 0;
    EXPECT_EQ(OSSL_ENCODER_to_data(ctx, &data, &len), 1);
    std::string out(reinterpret_cast<const char*>(data), len);
    OPENSSL_free(data);
    OSSL_ENCODER_CTX_free(ctx);
    return out;
}

std::string public_pem(EVP_PKEY* key) {
    return to_pem(key, EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo");
}

// One RSA 2048 key pair for the whole suite (generation is the slow part).
EVP_PKEY* rsa_key() {
    static const pkey_ptr key = make_rsa(2048);
    return key.get();
}

std::string hs_token(std::string_view header, std::string_view payload,
                     std::string_view secret = k_secret) {
    std::string t = b64url(header) + "." + b64url(payload);
    return t + "." + b64url(hmac_sha256(secret, t));
}

std::string rs_token(std::string_view header, std::string_view payload, EVP_PKEY* key = nullptr) {
    std::string t = b64url(header) + "." + b64url(payload);
    return t + "." + b64url(rsa_sha256(key != nullptr ? key : rsa_key(), t));
}

constexpr std::string_view k_hs_header = R"({"typ":"JWT","alg":"HS256"})";
constexpr std::string_view k_rs_header = R"({"typ":"JWT","alg":"RS256"})";

// A payload valid at k_now with the given members added.
std::string payload_with(std::string_view extra = {}) {
    std::string p = R"({"iss":"ssjwt","sub":"7","iat":1700000000,"exp":1700003600)";
    if (!extra.empty()) p += "," + std::string(extra);
    return p + "}";
}

std::string payload_only(std::string_view members) {
    // Built stepwise: g++ 12 -Wrestrict misfires on "{" + s + "}" at -O3.
    std::string p = "{";
    p.append(members);
    p.push_back('}');
    return p;
}

jwt_key hs_key(std::string_view secret = k_secret) {
    auto k = jwt_key::hs256(secret);
    EXPECT_TRUE(k.has_value());
    return std::move(*k);
}

jwt_key rs_key() {
    std::string error;
    auto k = jwt_key::rs256_pem(public_pem(rsa_key()), &error);
    EXPECT_TRUE(k.has_value()) << error;
    return std::move(*k);
}

jwt_error verify(std::string_view token, const jwt_key& key, const jwt_rules& rules = {},
                 std::int64_t now = k_now) {
    jwt_claims c;
    return verify_jwt(token, key, rules, now, c);
}

jwt_error verify_hs_payload(std::string_view payload, const jwt_rules& rules = {},
                            std::int64_t now = k_now) {
    return verify(hs_token(k_hs_header, payload), hs_key(), rules, now);
}

// ---------------------------------------------------------------------------
// Valid tokens and claim mapping

TEST(jwt, hs256_token_as_servicestack_issues_it) {
    const std::string payload =
        R"({"iss":"ssjwt","sub":1,"iat":1700000000,"exp":1701209600,)"
        R"("email":"test@example.org","given_name":"First","family_name":"Last",)"
        R"("name":"Test User","preferred_username":"test","picture":"https://x/y.png",)"
        R"("roles":["Admin","Employee"],"perms":["ThePermission"],"jti":"12"})";
    const std::string token = hs_token(R"({"typ":"JWT","alg":"HS256","kid":"YW4"})", payload);
    jwt_claims c;
    ASSERT_EQ(verify_jwt(token, hs_key(), {"ssjwt", "", 60}, k_now, c), jwt_error::none);
    EXPECT_EQ(c.sub, "1");
    EXPECT_EQ(c.user_id, "1");
    EXPECT_EQ(c.user_name, "test");
    EXPECT_EQ(c.display_name, "Test User");
    EXPECT_EQ(c.email, "test@example.org");
    EXPECT_EQ(c.profile_url, "https://x/y.png");
    EXPECT_EQ(c.session_id, "");
    EXPECT_EQ(c.roles, (std::vector<std::string>{"Admin", "Employee"}));
    EXPECT_EQ(c.permissions, (std::vector<std::string>{"ThePermission"}));
    EXPECT_EQ(c.exp, 1701209600);
    EXPECT_EQ(c.iat, 1700000000);
    EXPECT_EQ(c.nbf, 0);
    EXPECT_EQ(c.raw_payload, payload);
}

TEST(jwt, rs256_token_with_spki_and_pkcs1_keys) {
    const std::string token =
        rs_token(k_rs_header, payload_with(R"("preferred_username":"rsa","jid":"s-1")"));
    for (const char* structure : {"SubjectPublicKeyInfo", "type-specific"}) {
        const std::string pem = to_pem(rsa_key(), EVP_PKEY_PUBLIC_KEY, structure);
        std::string error;
        const auto key = jwt_key::rs256_pem(pem, &error);
        ASSERT_TRUE(key.has_value()) << structure << ": " << error;
        EXPECT_EQ(key->alg(), jwt_alg::rs256);
        jwt_claims c;
        EXPECT_EQ(verify_jwt(token, *key, {}, k_now, c), jwt_error::none) << structure;
        EXPECT_EQ(c.user_name, "rsa");
        EXPECT_EQ(c.session_id, "s-1");
    }
    EXPECT_NE(to_pem(rsa_key(), EVP_PKEY_PUBLIC_KEY, "type-specific").find("BEGIN RSA PUBLIC KEY"),
              std::string::npos);
}

TEST(jwt, sub_after_last_bar_is_the_user_id) {
    const auto key = hs_key();
    jwt_claims c;
    const auto sub = [&](std::string_view v) {
        const std::string p = payload_only(R"("exp":1700003600,"sub":)" + std::string(v));
        EXPECT_EQ(verify_jwt(hs_token(k_hs_header, p), key, {}, k_now, c), jwt_error::none) << v;
        return std::pair(c.sub, c.user_id);
    };
    EXPECT_EQ(sub(R"("auth0|42")"), std::pair("auth0|42"s, "42"s));
    EXPECT_EQ(sub(R"("a|b|")"), std::pair("a|b|"s, ""s));
    EXPECT_EQ(sub(R"("plain")"), std::pair("plain"s, "plain"s));
    EXPECT_EQ(sub("123"), std::pair("123"s, "123"s));
    EXPECT_EQ(sub("-5"), std::pair("-5"s, "-5"s));
    EXPECT_EQ(sub("18446744073709551615"),
              std::pair("18446744073709551615"s, "18446744073709551615"s));
    EXPECT_EQ(sub("true"), std::pair("true"s, "true"s));
    EXPECT_EQ(sub("null"), std::pair(""s, ""s));
}

TEST(jwt, text_claims_take_strings_integers_and_booleans) {
    const auto key = hs_key();
    jwt_claims c;
    const std::string p =
        payload_with(R"("name":42,"preferred_username":false,"email":"\u00e9@x","jid":7)");
    ASSERT_EQ(verify_jwt(hs_token(k_hs_header, p), key, {}, k_now, c), jwt_error::none);
    EXPECT_EQ(c.display_name, "42");
    EXPECT_EQ(c.user_name, "false");
    EXPECT_EQ(c.email, "\xC3\xA9@x");
    EXPECT_EQ(c.session_id, "7");

    for (const auto bad : {R"("sub":1.5)"sv, R"("sub":{})"sv, R"("sub":[])"sv, R"("name":["a"])"sv,
                           R"("email":{"a":1})"sv, R"("picture":1e3)"sv, R"("jid":[1])"sv,
                           R"("preferred_username":0.0)"sv}) {
        EXPECT_EQ(verify_hs_payload(payload_only(R"("exp":1700003600,)" + std::string(bad))),
                  jwt_error::malformed)
            << bad;
    }
}

TEST(jwt, roles_and_perms) {
    const auto key = hs_key();
    jwt_claims c;
    const auto roles = [&](std::string_view v) {
        const std::string p = payload_with(R"("roles":)" + std::string(v));
        const jwt_error e = verify_jwt(hs_token(k_hs_header, p), key, {}, k_now, c);
        return e == jwt_error::none ? std::optional(c.roles) : std::nullopt;
    };
    using list = std::vector<std::string>;
    EXPECT_EQ(roles(R"(["Admin","a,b",""])"), (list{"Admin", "a,b", ""}));
    EXPECT_EQ(roles("[]"), list{});
    EXPECT_EQ(roles(R"("Admin")"), list{"Admin"});
    EXPECT_EQ(roles(R"("")"), list{});
    EXPECT_EQ(roles("null"), list{});
    EXPECT_EQ(roles("[1]"), std::nullopt);
    EXPECT_EQ(roles(R"(["a",null])"), std::nullopt);
    EXPECT_EQ(roles(R"(["a",["b"]])"), std::nullopt);
    EXPECT_EQ(roles("{}"), std::nullopt);
    EXPECT_EQ(roles("1"), std::nullopt);
    EXPECT_EQ(roles("true"), std::nullopt);

    ASSERT_EQ(verify_jwt(hs_token(k_hs_header, payload_with(R"("perms":["p1","p2"])")), key, {},
                         k_now, c),
              jwt_error::none);
    EXPECT_EQ(c.permissions, (list{"p1", "p2"}));
    EXPECT_TRUE(c.roles.empty());
    EXPECT_EQ(verify_hs_payload(payload_with(R"("perms":[{}])")), jwt_error::malformed);
    // Only the names ServiceStack writes: "Roles", "permissions" are other claims.
    ASSERT_EQ(verify_jwt(hs_token(k_hs_header, payload_with(R"("Roles":["x"],"permissions":1)")),
                         key, {}, k_now, c),
              jwt_error::none);
    EXPECT_TRUE(c.roles.empty());
    EXPECT_TRUE(c.permissions.empty());
}

TEST(jwt, repeated_claims_are_malformed) {
    for (const auto name : {"sub"sv, "preferred_username"sv, "name"sv, "email"sv, "picture"sv,
                            "jid"sv, "roles"sv, "perms"sv, "nbf"sv, "iat"sv, "iss"sv, "aud"sv}) {
        std::string members = R"("exp":1700003600)";
        for (int i = 0; i < 2; ++i) {
            members += ",\"" + std::string(name) + "\":";
            members += name == "roles" || name == "perms" || name == "aud" ? R"(["x"])" : "5";
        }
        EXPECT_EQ(verify_hs_payload(payload_only(members)), jwt_error::malformed) << name;
    }
    EXPECT_EQ(verify_hs_payload(payload_only(R"("exp":1700003600,"exp":1700003600)")),
              jwt_error::malformed);
    // Claims this verifier does not read may repeat.
    EXPECT_EQ(verify_hs_payload(payload_with(R"("x":1,"x":2)")), jwt_error::none);
    EXPECT_EQ(verify(hs_token(R"({"alg":"HS256","alg":"HS256"})", payload_with()), hs_key()),
              jwt_error::malformed);
    EXPECT_EQ(
        verify(hs_token(R"({"alg":"HS256","typ":"JWT","typ":"JWT"})", payload_with()), hs_key()),
        jwt_error::none);
}

// ---------------------------------------------------------------------------
// Known answers, computed outside this code

TEST(jwt, known_answer_rfc7515_appendix_a1) {
    // RFC 7515 A.1: the key is the JWK "k" (base64url) turned into standard base64.
    const auto key = jwt_key::hs256_base64(
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ+EstJQLr/T+1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow==");
    ASSERT_TRUE(key.has_value());
    constexpr std::string_view token =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cn"
        "Vl"
        "fQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    jwt_claims c;
    EXPECT_EQ(verify_jwt(token, *key, {"joe", "", 0}, 1300819379, c), jwt_error::none);
    EXPECT_EQ(c.exp, 1300819380);
    EXPECT_EQ(c.raw_payload,
              "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}");
    EXPECT_EQ(verify_jwt(token, *key, {"joe", "", 0}, 1300819380, c), jwt_error::expired);
    EXPECT_EQ(verify_jwt(token, *key, {"ssjwt", "", 0}, 1300819379, c), jwt_error::wrong_issuer);
}

TEST(jwt, known_answer_servicestack_shaped_hs256) {
    // printf '%s' "$h.$p" | openssl dgst -sha256 -hmac "$secret" -binary | base64url
    const auto key = jwt_key::hs256("ssepush-known-answer-test-secret-0123456789");
    ASSERT_TRUE(key.has_value());
    constexpr std::string_view token =
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImtpZCI6ImMzTiJ9."
        "eyJpc3MiOiJzc2p3dCIsInN1YiI6MSwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDEyMDk2MDAsImVtYWlsIjoidG"
        "VzdEBleGFtcGxlLm9yZyIsIm5hbWUiOiJUZXN0IFVzZXIiLCJwcmVmZXJyZWRfdXNlcm5hbWUiOiJ0ZXN0Iiwicm9s"
        "ZXMiOlsiQWRtaW4iXSwicGVybXMiOlsiVGhlUGVybWlzc2lvbiJdLCJqdGkiOiIxIn0."
        "pG7qX5UADBZZdFsNCBjyrfexZJhrT-ghAUbw_6CGNOA";
    jwt_claims c;
    ASSERT_EQ(verify_jwt(token, *key, {"ssjwt", "", 60}, k_now, c), jwt_error::none);
    EXPECT_EQ(c.user_id, "1");
    EXPECT_EQ(c.user_name, "test");
    EXPECT_EQ(c.display_name, "Test User");
    EXPECT_EQ(c.email, "test@example.org");
    EXPECT_EQ(c.roles, std::vector<std::string>{"Admin"});
    EXPECT_EQ(c.permissions, std::vector<std::string>{"ThePermission"});
    // The same token under a different secret.
    EXPECT_EQ(verify(token, *jwt_key::hs256("ssepush-known-answer-test-secret-0123456788")),
              jwt_error::bad_signature);
}

// openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 (private key discarded);
// signed with openssl dgst -sha256 -sign.
constexpr std::string_view k_kat_spki =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu2xUU26UrMLz96g0kplZ\n"
    "zmGurKuxfPJMv/qazbiuoWOxjrQ8oMv1/azyirpdfkOLyzrpqd9mjff6lhiDk+K3\n"
    "/bf1vo05g2bkmk5e7k4GQpWSWxDdLBJPMy9CsiiI3obi/pOJc4N4VgK0UhJbKCLp\n"
    "3G5Oyx9sL7SeOLsZLqcekpi3zXNBPyp4uRff3fVQ4fmSb3juJ/5fRHcGtWeNjIzq\n"
    "TNB23MlsvXnW1j5N/is6u5MhqlrZP18SiT2oEqCzcUfrGwHRa3YNuS3xnExbY5pG\n"
    "XeKPdhXS+k8EipB/BcdSNaDc7gsTOfDFtQq1dqbpRgTV2TdXCerep1ZhThyK5O4X\n"
    "QwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::string_view k_kat_pkcs1 =
    "-----BEGIN RSA PUBLIC KEY-----\n"
    "MIIBCgKCAQEAu2xUU26UrMLz96g0kplZzmGurKuxfPJMv/qazbiuoWOxjrQ8oMv1\n"
    "/azyirpdfkOLyzrpqd9mjff6lhiDk+K3/bf1vo05g2bkmk5e7k4GQpWSWxDdLBJP\n"
    "My9CsiiI3obi/pOJc4N4VgK0UhJbKCLp3G5Oyx9sL7SeOLsZLqcekpi3zXNBPyp4\n"
    "uRff3fVQ4fmSb3juJ/5fRHcGtWeNjIzqTNB23MlsvXnW1j5N/is6u5MhqlrZP18S\n"
    "iT2oEqCzcUfrGwHRa3YNuS3xnExbY5pGXeKPdhXS+k8EipB/BcdSNaDc7gsTOfDF\n"
    "tQq1dqbpRgTV2TdXCerep1ZhThyK5O4XQwIDAQAB\n"
    "-----END RSA PUBLIC KEY-----\n";
constexpr std::string_view k_kat_rs256 =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJpc3MiOiJzc2p3dCIsInN1YiI6ImF1dGgwfDQyIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDEyMDk2MDAsIm5h"
    "bWUiOiJSU0EgVXNlciIsInByZWZlcnJlZF91c2VybmFtZSI6InJzYSIsInJvbGVzIjpbIkFkbWluIiwiRW1wbG95ZWUi"
    "XSwiamlkIjoic2Vzcy0xIn0."
    "aubV81E4WNFqOxOBiTO5Vblati_7ywpqZXaTp6yBAWrUPwu1Jr7WClyf6ImG80CveLa1lZy02ShbtA-yvecNuYa1U7y3ll"
    "yGDQ9OnucvcYcbvBI5S_ScwhVhJ45A7X60dNPvM4-Zvxzl7__SMEpPnVA-"
    "QOO1i6jeNbgqSuvcIYHuN070WGUDnPTQjZrnL"
    "x4GNIPXrjnyd-1S8baT3p4WJm-zmGHVxNQARwSyphzhSMfd8dWt9gEXZKw7-qtBpOfKsSdwA3F8tl-_OQpi0Al-XPVZOlN"
    "Y6JZ6gQParU3E8Eh6Bb_WP4ZKecl1AxAKgymNTzWqjuV5PvTC_zQFsd_k-A";

TEST(jwt, known_answer_rs256) {
    for (const auto pem : {k_kat_spki, k_kat_pkcs1}) {
        std::string error;
        const auto key = jwt_key::rs256_pem(pem, &error);
        ASSERT_TRUE(key.has_value()) << error;
        jwt_claims c;
        ASSERT_EQ(verify_jwt(k_kat_rs256, *key, {"ssjwt", "", 60}, k_now, c), jwt_error::none);
        EXPECT_EQ(c.sub, "auth0|42");
        EXPECT_EQ(c.user_id, "42");
        EXPECT_EQ(c.display_name, "RSA User");
        EXPECT_EQ(c.user_name, "rsa");
        EXPECT_EQ(c.session_id, "sess-1");
        EXPECT_EQ(c.roles, (std::vector<std::string>{"Admin", "Employee"}));
        EXPECT_EQ(c.exp, 1701209600);
    }
    // Another key does not verify it.
    EXPECT_EQ(verify(k_kat_rs256, rs_key()), jwt_error::bad_signature);
}

// ---------------------------------------------------------------------------
// Algorithms: the key decides

TEST(jwt, alg_none_and_unsupported_algorithms) {
    const auto hs = hs_key();
    const auto rs = rs_key();
    const std::string p = payload_with();
    for (const auto header :
         {R"({"alg":"none"})"sv, R"({"alg":"None"})"sv, R"({"alg":"NONE"})"sv, R"({"typ":"JWT"})"sv,
          R"({})"sv, R"({"alg":null})"sv, R"({"alg":256})"sv, R"({"alg":["HS256"]})"sv,
          R"({"alg":{"HS256":1}})"sv, R"({"alg":"HS512"})"sv, R"({"alg":"HS384"})"sv,
          R"({"alg":"RS384"})"sv, R"({"alg":"RS512"})"sv, R"({"alg":"ES256"})"sv,
          R"({"alg":"PS256"})"sv, R"({"alg":"hs256"})"sv, R"({"alg":"HS256 "})"sv,
          R"({"alg":""})"sv}) {
        // Unsigned, and signed with the right HMAC key anyway: the header decides first.
        const std::string unsigned_token = b64url(header) + "." + b64url(p) + ".";
        EXPECT_EQ(verify(unsigned_token, hs), jwt_error::unsupported_alg) << header;
        EXPECT_EQ(verify(unsigned_token, rs), jwt_error::unsupported_alg) << header;
        EXPECT_EQ(verify(hs_token(header, p), hs), jwt_error::unsupported_alg) << header;
    }
}

TEST(jwt, rs256_to_hs256_key_confusion_is_refused) {
    // The attacker signs with HMAC, using the server's public key PEM as the secret.
    const std::string pem = public_pem(rsa_key());
    const std::string forged = hs_token(k_hs_header, payload_with(R"("roles":["Admin"])"), pem);
    EXPECT_EQ(verify(forged, rs_key()), jwt_error::alg_mismatch);
    // It is a genuine HS256 token for that "secret": only the key's algorithm stops it.
    EXPECT_EQ(verify(forged, *jwt_key::hs256(pem)), jwt_error::none);
    // Same with the PKCS#1 PEM and with the KAT key.
    const std::string pkcs1 = to_pem(rsa_key(), EVP_PKEY_PUBLIC_KEY, "type-specific");
    EXPECT_EQ(verify(hs_token(k_hs_header, payload_with(), pkcs1), rs_key()),
              jwt_error::alg_mismatch);
    EXPECT_EQ(
        verify(hs_token(k_hs_header, payload_with(), k_kat_spki), *jwt_key::rs256_pem(k_kat_spki)),
        jwt_error::alg_mismatch);
}

TEST(jwt, rs256_token_against_hs256_key_is_a_mismatch) {
    EXPECT_EQ(verify(rs_token(k_rs_header, payload_with()), hs_key()), jwt_error::alg_mismatch);
    EXPECT_EQ(verify(hs_token(k_rs_header, payload_with()), hs_key()), jwt_error::alg_mismatch);
}

TEST(jwt, unsupported_header_members) {
    const std::string p = payload_with();
    for (const auto header :
         {R"({"alg":"HS256","crit":["exp"]})"sv, R"({"alg":"HS256","crit":[]})"sv,
          R"({"alg":"HS256","jku":"https://evil/keys"})"sv,
          R"({"alg":"HS256","jwk":{"kty":"oct","k":"AAAA"}})"sv,
          R"({"alg":"HS256","x5u":"https://evil/cert"})"sv, R"({"alg":"HS256","x5c":["MIIB"]})"sv,
          R"({"typ":"JWTR","alg":"HS256"})"sv}) {
        EXPECT_EQ(verify(hs_token(header, p), hs_key()), jwt_error::unsupported_alg) << header;
    }
    // kid and other typ values are fine.
    for (const auto header :
         {R"({"alg":"HS256","kid":"abc"})"sv, R"({"alg":"HS256","typ":"at+jwt"})"sv,
          R"({"alg":"HS256","typ":7,"cty":"JWT"})"sv}) {
        EXPECT_EQ(verify(hs_token(header, p), hs_key()), jwt_error::none) << header;
    }
}

// ---------------------------------------------------------------------------
// Signatures

TEST(jwt, tampered_payload_and_signature) {
    for (const bool rsa : {false, true}) {
        const auto key = rsa ? rs_key() : hs_key();
        const std::string_view header = rsa ? k_rs_header : k_hs_header;
        const std::string token = rsa ? rs_token(header, payload_with(R"("roles":["User"])"))
                                      : hs_token(header, payload_with(R"("roles":["User"])"));
        ASSERT_EQ(verify(token, key), jwt_error::none);
        const std::size_t dot1 = token.find('.');
        const std::size_t dot2 = token.rfind('.');
        const std::string sig = token.substr(dot2);

        // Another payload under the old signature.
        const std::string admin =
            token.substr(0, dot1 + 1) + b64url(payload_with(R"("roles":["Admin"])")) + sig;
        EXPECT_EQ(verify(admin, key), jwt_error::bad_signature) << rsa;
        // Another header (still the right alg) under the old signature.
        const std::string hdr = b64url(rsa ? R"({"alg":"RS256"})" : R"({"alg":"HS256"})") +
                                token.substr(dot1, std::string::npos);
        EXPECT_EQ(verify(hdr, key), jwt_error::bad_signature) << rsa;
        // Each character of the signature changed in turn (keeping it canonical).
        for (std::size_t i = dot2 + 1; i + 1 < token.size(); i += 7) {
            std::string t = token;
            t[i] = t[i] == 'A' ? 'B' : 'A';
            EXPECT_EQ(verify(t, key), jwt_error::bad_signature) << rsa << " " << i;
        }
        // Signatures of the wrong length: empty, cut, longer.
        const std::size_t sig_chars = token.size() - dot2 - 1;
        EXPECT_EQ(verify(token.substr(0, dot2 + 1), key), jwt_error::bad_signature);
        EXPECT_EQ(verify(token.substr(0, dot2 + 1 + sig_chars / 4 * 4 - 4), key),
                  jwt_error::bad_signature);
        EXPECT_EQ(verify(token + "AAAA", key), jwt_error::bad_signature);
        // A payload character changed.
        std::string t = token;
        t[dot1 + 3] = t[dot1 + 3] == 'x' ? 'y' : 'x';
        EXPECT_NE(verify(t, key), jwt_error::none);
    }
    // A signature by another RSA key of the same size.
    const pkey_ptr other = make_rsa(2048);
    EXPECT_EQ(verify(rs_token(k_rs_header, payload_with(), other.get()), rs_key()),
              jwt_error::bad_signature);
    // HMAC with another secret.
    EXPECT_EQ(verify(hs_token(k_hs_header, payload_with(), "another-secret-of-32-bytes-or-more!"),
                     hs_key()),
              jwt_error::bad_signature);
}

// ---------------------------------------------------------------------------
// Shape and encoding

TEST(jwt, segments) {
    const auto key = hs_key();
    const std::string token = hs_token(k_hs_header, payload_with());
    const std::size_t dot1 = token.find('.');
    const std::size_t dot2 = token.rfind('.');
    for (const std::string& t : {
             ""s,
             "."s,
             ".."s,
             "..."s,
             token.substr(0, dot1),
             token.substr(0, dot2),
             token.substr(0, dot1 + 1),
             token.substr(dot1),
             "." + token.substr(dot1 + 1),
             token.substr(0, dot1 + 1) + token.substr(dot2),
             token + ".",
             token + "." + token.substr(dot2 + 1),
             token + "." + token,
             "a.b.c.d.e"s,
             token.substr(0, dot1) + ".." + token.substr(dot1 + 1),
         }) {
        EXPECT_EQ(verify(t, key), jwt_error::malformed) << t;
    }
    // A JWE-looking five-segment token.
    EXPECT_EQ(
        verify(b64url(R"({"alg":"RSA-OAEP","enc":"A128CBC-HS256"})") + ".AAAA.AAAA.AAAA.AAAA", key),
        jwt_error::malformed);
}

TEST(jwt, base64url_is_strict) {
    const auto key = hs_key();
    const std::string token = hs_token(k_hs_header, payload_with());
    const std::size_t dot1 = token.find('.');
    const std::size_t dot2 = token.rfind('.');
    const auto at = [&](std::size_t pos, std::string_view insert) {
        std::string t = token;
        t.insert(pos, insert);
        return t;
    };
    // Characters outside the URL-safe alphabet, anywhere: standard base64's
    // '+' '/', padding, whitespace, NUL, non-ASCII.
    for (const auto bad : {"+"sv, "/"sv, "="sv, "=="sv, " "sv, "\t"sv, "\n"sv, "\r\n"sv, "\0"sv,
                           "\xC3\xA9"sv, "%"sv, "*"sv}) {
        for (const std::size_t pos :
             {std::size_t{0}, std::size_t{4}, dot1, dot1 + 1, dot2, dot2 + 1, token.size()}) {
            EXPECT_EQ(verify(at(pos, bad), key), jwt_error::malformed)
                << pos << " " << testing::PrintToString(std::string(bad));
        }
    }
    // Whitespace and "Bearer " around the token: the caller strips them.
    EXPECT_EQ(verify(" " + token, key), jwt_error::malformed);
    EXPECT_EQ(verify(token + "\r\n", key), jwt_error::malformed);
    EXPECT_EQ(verify("Bearer " + token, key), jwt_error::malformed);

    // Padding as standard base64 would write it, on a segment that needs it.
    const std::string h = b64url(R"({"alg":"HS256","xy":12})");  // 23 bytes: 31 characters
    ASSERT_EQ(h.size() % 4, 3u);
    const std::string p = b64url(payload_with());
    const std::string padded = h + "=." + p;
    EXPECT_EQ(verify(padded + "." + b64url(hmac_sha256(k_secret, padded)), key),
              jwt_error::malformed);
    // Length 1 mod 4 is never base64.
    const std::string t1 = token.substr(0, dot1) + "A" + token.substr(dot1);
    EXPECT_EQ(verify(t1, key), jwt_error::malformed);

    // Non-canonical: an unused low bit of the last character set. The
    // signature is recomputed over the text, so only the encoding is wrong.
    const auto set_low_bit = [](std::string s) {
        s.back() = k_alphabet[k_alphabet.find(s.back()) | 1];
        return s;
    };
    const std::string nc = set_low_bit(h) + "." + p;
    EXPECT_EQ(verify(nc + "." + b64url(hmac_sha256(k_secret, nc)), key), jwt_error::malformed);
    // The same for the signature (32 bytes: 43 characters, 2 unused bits).
    const std::string sig = token.substr(dot2 + 1);
    ASSERT_EQ(sig.size(), 43u);
    EXPECT_EQ(verify(token.substr(0, dot2 + 1) + set_low_bit(sig), key), jwt_error::malformed);
}

TEST(jwt, header_and_payload_must_be_json_objects) {
    const auto key = hs_key();
    for (const auto header :
         {""sv, "null"sv, "[]"sv, R"(["alg","HS256"])"sv, R"("HS256")"sv, "{"sv,
          R"({"alg":"HS256",})"sv, R"({'alg':'HS256'})"sv, "{\"alg\":\"HS256\"}x"sv,
          "{\"alg\":\"HS\xFF\"}"sv, "\xEF\xBB\xBF{\"alg\":\"HS256\"}"sv}) {
        EXPECT_EQ(verify(hs_token(header, payload_with()), key), jwt_error::malformed) << header;
    }
    for (const auto payload :
         {"null"sv, "[]"sv, "1700003600"sv, R"("exp")"sv, "{"sv, R"({"exp":1700003600,})"sv,
          "{\"exp\":1700003600,\"name\":\"\xC3\"}"sv, R"({"exp":1700003600,"n":"\ud800"})"sv,
          "{\"exp\":1700003600} {}"sv, R"({"exp":1700003600,"big":123456789012345678901234})"sv}) {
        EXPECT_EQ(verify(hs_token(k_hs_header, payload), key), jwt_error::malformed) << payload;
    }
    // Insignificant whitespace inside the JSON is fine.
    EXPECT_EQ(verify(hs_token(" {\n\"alg\" : \"HS256\"\t} ", " { \"exp\" : 1700003600 } "), key),
              jwt_error::none);
}

TEST(jwt, size_limit) {
    const auto key = hs_key();
    // The largest token that fits, and the next larger one.
    const auto make = [](std::size_t n) {
        return hs_token(k_hs_header, payload_with(R"("pad":")" + std::string(n, 'x') + "\""));
    };
    std::size_t fits = 0;
    std::size_t too_big = k_max_jwt_size;
    while (fits + 1 < too_big) {
        const std::size_t mid = (fits + too_big) / 2;
        (make(mid).size() <= k_max_jwt_size ? fits : too_big) = mid;
    }
    EXPECT_GE(make(fits).size(), k_max_jwt_size - 3);
    EXPECT_EQ(verify(make(fits), key), jwt_error::none);
    EXPECT_GT(make(too_big).size(), k_max_jwt_size);
    EXPECT_EQ(verify(make(too_big), key), jwt_error::malformed);
    EXPECT_EQ(verify(std::string(1 << 20, 'A'), key), jwt_error::malformed);
    EXPECT_EQ(verify(std::string(1 << 20, '.'), key), jwt_error::malformed);
    // Nesting: fine up to simdjson's depth limit (1024), malformed beyond.
    const auto deep = [](std::size_t n) {
        return R"({"exp":1700003600,"d":)" + std::string(n, '[') + std::string(n, ']') + "}";
    };
    EXPECT_EQ(verify(hs_token(k_hs_header, deep(1000)), key), jwt_error::none);
    EXPECT_EQ(verify(hs_token(k_hs_header, deep(2000)), key), jwt_error::malformed);
}

// ---------------------------------------------------------------------------
// Times

TEST(jwt, exp_is_required_and_typed) {
    EXPECT_EQ(verify_hs_payload(R"({"sub":"1"})"), jwt_error::malformed);
    EXPECT_EQ(verify_hs_payload("{}"), jwt_error::malformed);
    const auto exp = [](std::string_view v) {
        return verify_hs_payload(payload_only(R"("exp":)" + std::string(v)));
    };
    EXPECT_EQ(exp("1700003600"), jwt_error::none);
    EXPECT_EQ(exp(R"("1700003600")"), jwt_error::none);  // long.Parse text, as ServiceStack reads
    EXPECT_EQ(exp(R"("01700003600")"), jwt_error::none);
    EXPECT_EQ(exp("9223372036854775807"), jwt_error::none);
    EXPECT_EQ(exp(R"("9223372036854775807")"), jwt_error::none);
    EXPECT_EQ(exp("-9223372036854775808"), jwt_error::expired);
    EXPECT_EQ(exp(R"("-1")"), jwt_error::expired);
    for (const auto bad :
         {"null"sv, R"("")"sv, "1700003600.0"sv, "1.7000036e9"sv, "1e10"sv, R"("1700003600.5")"sv,
          R"("+1700003600")"sv, R"(" 1700003600")"sv, R"("1700003600 ")"sv, R"("0x10")"sv,
          R"("-")"sv, R"("12a")"sv, "true"sv, "[1700003600]"sv, R"({"v":1})"sv,
          "9223372036854775808"sv, R"("9223372036854775808")"sv, "18446744073709551616"sv}) {
        EXPECT_EQ(exp(bad), jwt_error::malformed) << bad;
    }
}

TEST(jwt, exp_around_the_leeway) {
    const auto at = [](std::int64_t exp, std::int64_t leeway) {
        return verify_hs_payload(payload_only(R"("exp":)" + std::to_string(exp)), {"", "", leeway});
    };
    // ServiceStack: expired when now >= exp. Here: now >= exp + leeway.
    EXPECT_EQ(at(k_now - 59, 60), jwt_error::none);
    EXPECT_EQ(at(k_now - 60, 60), jwt_error::expired);
    EXPECT_EQ(at(k_now - 61, 60), jwt_error::expired);
    EXPECT_EQ(at(k_now + 1, 0), jwt_error::none);
    EXPECT_EQ(at(k_now, 0), jwt_error::expired);
    EXPECT_EQ(at(k_now, -100), jwt_error::expired);  // negative leeway is 0
    EXPECT_EQ(at(k_now + 1, -100), jwt_error::none);
    EXPECT_EQ(at(0, 60), jwt_error::expired);
    // Overflow at the edges saturates.
    EXPECT_EQ(
        at(std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::max()),
        jwt_error::none);
    EXPECT_EQ(verify_hs_payload(payload_only(R"("exp":9223372036854775807)"), {"", "", 60},
                                std::numeric_limits<std::int64_t>::max()),
              jwt_error::expired);
    EXPECT_EQ(verify_hs_payload(payload_only(R"("exp":-9223372036854775808)"), {"", "", 60},
                                std::numeric_limits<std::int64_t>::min()),
              jwt_error::none);
}

TEST(jwt, nbf_and_iat_around_the_leeway) {
    for (const auto claim : {"nbf"sv, "iat"sv}) {
        const auto at = [&](std::int64_t t, std::int64_t leeway) {
            return verify_hs_payload(payload_only(R"("exp":1700003600,")" + std::string(claim) +
                                                  "\":" + std::to_string(t)),
                                     {"", "", leeway});
        };
        EXPECT_EQ(at(k_now + 60, 60), jwt_error::none) << claim;
        EXPECT_EQ(at(k_now + 61, 60), jwt_error::not_yet_valid) << claim;
        EXPECT_EQ(at(k_now, 0), jwt_error::none) << claim;
        EXPECT_EQ(at(k_now + 1, 0), jwt_error::not_yet_valid) << claim;
        EXPECT_EQ(at(k_now - 100000, 0), jwt_error::none) << claim;
        EXPECT_EQ(at(std::numeric_limits<std::int64_t>::min(), 0), jwt_error::none) << claim;
        EXPECT_EQ(at(std::numeric_limits<std::int64_t>::max(), 1000), jwt_error::not_yet_valid)
            << claim;
        // Strings as ServiceStack reads them; empty and null are absent.
        const auto raw = [&](std::string_view v) {
            return verify_hs_payload(payload_only(R"("exp":1700003600,")" + std::string(claim) +
                                                  "\":" + std::string(v)));
        };
        EXPECT_EQ(raw(R"("1700000100")"), jwt_error::not_yet_valid) << claim;
        EXPECT_EQ(raw(R"("")"), jwt_error::none) << claim;
        EXPECT_EQ(raw("null"), jwt_error::none) << claim;
        EXPECT_EQ(raw("1.5"), jwt_error::malformed) << claim;
        EXPECT_EQ(raw(R"("soon")"), jwt_error::malformed) << claim;
    }
    // Expired wins over not yet valid (ServiceStack's order).
    EXPECT_EQ(verify_hs_payload(payload_only(R"("exp":1,"nbf":1800000000)")), jwt_error::expired);
}

// ---------------------------------------------------------------------------
// Issuer and audience

TEST(jwt, issuer) {
    const jwt_rules rules{"ssjwt", "", 60};
    EXPECT_EQ(verify_hs_payload(payload_with(), rules), jwt_error::none);
    EXPECT_EQ(verify_hs_payload(payload_only(R"("exp":1700003600)"), rules),
              jwt_error::wrong_issuer);
    EXPECT_EQ(verify_hs_payload(payload_only(R"("exp":1700003600,"iss":null)"), rules),
              jwt_error::wrong_issuer);
    EXPECT_EQ(verify_hs_payload(payload_only(R"("exp":1700003600,"iss":"SSJWT")"), rules),
              jwt_error::wrong_issuer);
    EXPECT_EQ(verify_hs_payload(payload_only(R"("exp":1700003600,"iss":"ssjwt ")"), rules),
              jwt_error::wrong_issuer);
    EXPECT_EQ(verify_hs_payload(payload_only(R"("exp":1700003600,"iss":["ssjwt"])"), rules),
              jwt_error::malformed);
    // Not checked when the rules have none.
    EXPECT_EQ(verify_hs_payload(payload_only(R"("exp":1700003600,"iss":"other")")),
              jwt_error::none);
    // Checked after the times.
    EXPECT_EQ(verify_hs_payload(payload_only(R"("exp":1,"iss":"other")"), rules),
              jwt_error::expired);
}

TEST(jwt, audience_string_or_array) {
    const jwt_rules rules{"", "https://api", 60};
    const auto aud = [&](std::string_view v) {
        return verify_hs_payload(payload_with(R"("aud":)" + std::string(v)), rules);
    };
    EXPECT_EQ(aud(R"("https://api")"), jwt_error::none);
    EXPECT_EQ(aud(R"(["other","https://api"])"), jwt_error::none);
    EXPECT_EQ(aud(R"(["https://api"])"), jwt_error::none);
    EXPECT_EQ(aud(R"("other")"), jwt_error::wrong_audience);
    EXPECT_EQ(aud(R"("https://api,other")"), jwt_error::wrong_audience);
    EXPECT_EQ(aud(R"(["other"])"), jwt_error::wrong_audience);
    EXPECT_EQ(aud("[]"), jwt_error::wrong_audience);
    EXPECT_EQ(aud("null"), jwt_error::wrong_audience);
    EXPECT_EQ(verify_hs_payload(payload_with(), rules), jwt_error::wrong_audience);
    EXPECT_EQ(aud("1"), jwt_error::malformed);
    EXPECT_EQ(aud(R"(["https://api",1])"), jwt_error::malformed);
    EXPECT_EQ(aud(R"({"https://api":1})"), jwt_error::malformed);
    // Not checked when the rules have none (but still typed).
    EXPECT_EQ(verify_hs_payload(payload_with(R"("aud":["x","y"])")), jwt_error::none);
    EXPECT_EQ(verify_hs_payload(payload_with(R"("aud":true)")), jwt_error::malformed);
    // Issuer is checked before audience.
    EXPECT_EQ(verify_hs_payload(payload_with(R"("aud":"other")"), {"nope", "https://api", 60}),
              jwt_error::wrong_issuer);
}

// ---------------------------------------------------------------------------
// Keys, results, robustness

TEST(jwt, key_creation) {
    std::string error;
    EXPECT_FALSE(jwt_key::hs256("", &error).has_value());
    EXPECT_FALSE(error.empty());
    EXPECT_FALSE(jwt_key::hs256(std::string(31, 'k')).has_value());
    ASSERT_TRUE(jwt_key::hs256(std::string(32, 'k')).has_value());
    EXPECT_EQ(jwt_key::hs256(std::string(32, 'k'))->alg(), jwt_alg::hs256);
    ASSERT_TRUE(jwt_key::hs256(std::string(32, '\0')).has_value());  // bytes, not text

    // AuthKeyBase64: standard alphabet, padded, whitespace around ignored.
    const std::string secret = "0123456789abcdef0123456789abcdef!?";  // 34 bytes: "=="
    std::string b64 = b64url(secret);                                 // no '-' or '_' in this one
    ASSERT_EQ(b64.find_first_of("-_"), std::string::npos);
    b64 += std::string((4 - b64.size() % 4) % 4, '=');
    const auto k64 = jwt_key::hs256_base64("  " + b64 + "\n");
    ASSERT_TRUE(k64.has_value());
    EXPECT_EQ(verify(hs_token(k_hs_header, payload_with(), secret), *k64), jwt_error::none);
    for (const auto bad :
         {""sv, "===="sv, "AAAA"sv, "AB-_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"sv,
          "not base64 at all, not at all, not at all!!"sv}) {
        EXPECT_FALSE(jwt_key::hs256_base64(bad, &error).has_value()) << bad;
    }
    const std::string unpadded = b64.substr(0, b64.find('='));
    EXPECT_FALSE(jwt_key::hs256_base64(unpadded).has_value());
    EXPECT_FALSE(jwt_key::hs256_base64(b64 + "=").has_value());
    EXPECT_FALSE(jwt_key::hs256_base64(b64.substr(0, 20) + " " + b64.substr(20)).has_value());

    // RS256: public keys only, RSA only, 2048 bits and up.
    error.clear();
    EXPECT_FALSE(jwt_key::rs256_pem("", &error).has_value());
    EXPECT_FALSE(error.empty());
    EXPECT_FALSE(jwt_key::rs256_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
                     .has_value());
    EXPECT_FALSE(
        jwt_key::rs256_pem(to_pem(rsa_key(), EVP_PKEY_KEYPAIR, "PrivateKeyInfo")).has_value());
    std::string truncated = public_pem(rsa_key());
    truncated.erase(truncated.size() / 2, 10);
    EXPECT_FALSE(jwt_key::rs256_pem(truncated).has_value());
    const pkey_ptr small = make_rsa(1024);
    error.clear();
    EXPECT_FALSE(jwt_key::rs256_pem(public_pem(small.get()), &error).has_value());
    EXPECT_NE(error.find("2048"), std::string::npos) << error;
    char curve[] = "P-256";
    EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
    ASSERT_NE(ec, nullptr);
    EXPECT_FALSE(jwt_key::rs256_pem(public_pem(ec)).has_value());
    EVP_PKEY_free(ec);
    // Text around the PEM block (as in a config file) is fine.
    EXPECT_TRUE(jwt_key::rs256_pem("key:\n" + public_pem(rsa_key()) + "\n").has_value());
}

TEST(jwt, keys_move) {
    auto a = hs_key();
    const std::string token = hs_token(k_hs_header, payload_with());
    jwt_key b = std::move(a);
    EXPECT_EQ(verify(token, b), jwt_error::none);
    EXPECT_EQ(verify(token, a), jwt_error::bad_signature);  // NOLINT(bugprone-use-after-move)
    jwt_key c = rs_key();
    c = std::move(b);
    EXPECT_EQ(c.alg(), jwt_alg::hs256);
    EXPECT_EQ(verify(token, c), jwt_error::none);
    jwt_key& same = c;
    c = std::move(same);  // self-move leaves it as it was
    EXPECT_EQ(verify(token, c), jwt_error::none);
}

TEST(jwt, claims_are_reset_on_failure) {
    const auto key = hs_key();
    jwt_claims c;
    ASSERT_EQ(verify_jwt(hs_token(k_hs_header, payload_with(R"("roles":["a"],"name":"n")")), key,
                         {}, k_now, c),
              jwt_error::none);
    EXPECT_FALSE(c.roles.empty());
    // Fails after the claims were read.
    EXPECT_EQ(verify_jwt(hs_token(k_hs_header, payload_with(R"("roles":["a"],"name":"n")")), key,
                         {}, k_now + 100000, c),
              jwt_error::expired);
    EXPECT_TRUE(c.roles.empty());
    EXPECT_TRUE(c.display_name.empty());
    EXPECT_TRUE(c.sub.empty());
    EXPECT_TRUE(c.raw_payload.empty());
    EXPECT_EQ(c.exp, 0);
    EXPECT_EQ(c.iat, 0);
    // A second valid token overwrites everything from the first.
    ASSERT_EQ(verify_jwt(hs_token(k_hs_header, payload_with(R"("roles":["a"],"name":"n")")), key,
                         {}, k_now, c),
              jwt_error::none);
    ASSERT_EQ(
        verify_jwt(hs_token(k_hs_header, payload_only(R"("exp":1700003600)")), key, {}, k_now, c),
        jwt_error::none);
    EXPECT_TRUE(c.roles.empty());
    EXPECT_TRUE(c.display_name.empty());
    EXPECT_EQ(c.iat, 0);
}

TEST(jwt, every_error_has_a_distinct_description) {
    std::vector<std::string> seen;
    for (int i = 0; i <= static_cast<int>(jwt_error::wrong_audience); ++i) {
        const char* s = to_string(static_cast<jwt_error>(i));
        ASSERT_NE(s, nullptr);
        EXPECT_NE(std::string_view(s), "");
        for (const auto& other : seen)
            EXPECT_NE(other, s);
        seen.emplace_back(s);
    }
    EXPECT_NE(to_string(static_cast<jwt_error>(200)), nullptr);
}

TEST(jwt, random_bytes_and_mutations_never_verify) {
    const auto hs = hs_key();
    const auto rs = rs_key();
    const std::string valid = hs_token(k_hs_header, payload_with(R"("roles":["a","b"])"));
    const std::string valid_rs = rs_token(k_rs_header, payload_with());
    std::mt19937_64 rng(12345);
    jwt_claims c;
    for (int i = 0; i < 3000; ++i) {
        std::string t;
        switch (i % 3) {
            case 0: {  // random bytes, biased to the token alphabet
                const std::size_t n = rng() % 300;
                static constexpr std::string_view k_chars =
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
                for (std::size_t j = 0; j < n; ++j) {
                    t.push_back(rng() % 4 == 0 ? static_cast<char>(rng())
                                               : k_chars[rng() % k_chars.size()]);
                }
                break;
            }
            case 1:
            case 2: {  // a valid token with a few bytes changed, cut or duplicated
                t = i % 3 == 1 ? valid : valid_rs;
                for (int m = 1 + static_cast<int>(rng() % 3); m > 0; --m) {
                    const std::size_t pos = rng() % t.size();
                    switch (rng() % 3) {
                        case 0:
                            t[pos] = static_cast<char>(rng());
                            break;
                        case 1:
                            t.erase(pos, 1 + rng() % 8);
                            break;
                        default: {
                            const std::string piece = t.substr(pos, 1 + rng() % 8);
                            t.insert(pos, piece);
                            break;
                        }
                    }
                    if (t.empty()) t.push_back('x');
                }
                break;
            }
        }
        if (t == valid || t == valid_rs) continue;
        EXPECT_NE(verify_jwt(t, hs, {}, k_now, c), jwt_error::none) << t;
        EXPECT_NE(verify_jwt(t, rs, {}, k_now, c), jwt_error::none) << t;
        EXPECT_TRUE(c.raw_payload.empty());
    }
}

}  // namespace
}  // namespace ssepush::proto
