// libFuzzer target for JWT verification.
//
// The first byte picks a mode (its value mod 3; the seeds use '0', '1', '2'):
//   0  the rest is a token, verified as is with a fixed HS256 key and a fixed
//      RS256 public key;
//   1  the rest is "<header JSON>\n<payload JSON>": both are base64url-encoded
//      and signed with the HS256 key, so the fuzzer reaches header and claim
//      parsing behind a valid signature;
//   2  the rest is "<header segment>.<payload segment>" as text, signed with
//      the HS256 key: base64url decoding behind a valid signature.
// Checked for every input, under two sets of rules:
//   - verify_jwt() returns (ASan/UBSan watch it), and returns the same twice;
//   - on an error the claims are empty; on success they are consistent (user_id
//     is sub after its last '|', the times pass the rules, the token fits);
//   - an HS256-signed token never verifies under the RS256 key, and the claims
//     of a token the HS256 key accepts in mode 1 keep the payload as given.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "ssepush/proto/jwt.h"

using namespace ssepush::proto;

namespace {

constexpr std::int64_t k_now = 1'700'000'000;
constexpr std::string_view k_secret = "ssepush-fuzz-hs256-secret-0123456789";

// A test key: the private half was discarded (same as tests/proto/jwt_test.cc).
constexpr std::string_view k_rs256_pem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu2xUU26UrMLz96g0kplZ\n"
    "zmGurKuxfPJMv/qazbiuoWOxjrQ8oMv1/azyirpdfkOLyzrpqd9mjff6lhiDk+K3\n"
    "/bf1vo05g2bkmk5e7k4GQpWSWxDdLBJPMy9CsiiI3obi/pOJc4N4VgK0UhJbKCLp\n"
    "3G5Oyx9sL7SeOLsZLqcekpi3zXNBPyp4uRff3fVQ4fmSb3juJ/5fRHcGtWeNjIzq\n"
    "TNB23MlsvXnW1j5N/is6u5MhqlrZP18SiT2oEqCzcUfrGwHRa3YNuS3xnExbY5pG\n"
    "XeKPdhXS+k8EipB/BcdSNaDc7gsTOfDFtQq1dqbpRgTV2TdXCerep1ZhThyK5O4X\n"
    "QwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

const jwt_key& hs_key() {
    static const jwt_key key = *jwt_key::hs256(k_secret);
    return key;
}

const jwt_key& rs_key() {
    static const jwt_key key = *jwt_key::rs256_pem(k_rs256_pem);
    return key;
}

std::string b64url(std::string_view bytes) {
    static constexpr std::string_view k_alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
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

// `signing_input` "." base64url(HMAC-SHA256(secret, signing_input)).
std::string signed_token(std::string_view signing_input) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), k_secret.data(), static_cast<int>(k_secret.size()),
         reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), md,
         &n);
    return std::string(signing_input) + "." +
           b64url(std::string_view(reinterpret_cast<const char*>(md), n));
}

bool empty(const jwt_claims& c) {
    return c.sub.empty() && c.user_id.empty() && c.user_name.empty() && c.display_name.empty() &&
           c.email.empty() && c.profile_url.empty() && c.session_id.empty() && c.roles.empty() &&
           c.permissions.empty() && c.exp == 0 && c.nbf == 0 && c.iat == 0 && c.raw_payload.empty();
}

jwt_error check(std::string_view token, const jwt_key& key, const jwt_rules& rules, jwt_claims& c) {
    const jwt_error e = verify_jwt(token, key, rules, k_now, c);
    jwt_claims again;
    again.roles.emplace_back("stale");  // must be cleared
    SSEPUSH_FUZZ_CHECK(verify_jwt(token, key, rules, k_now, again) == e);
    SSEPUSH_FUZZ_CHECK(to_string(e) != nullptr);
    if (e != jwt_error::none) {
        SSEPUSH_FUZZ_CHECK(empty(c));
        SSEPUSH_FUZZ_CHECK(empty(again));
        return e;
    }
    SSEPUSH_FUZZ_CHECK(token.size() <= k_max_jwt_size);
    SSEPUSH_FUZZ_CHECK(!c.raw_payload.empty());
    SSEPUSH_FUZZ_CHECK(c.raw_payload == again.raw_payload && c.roles == again.roles);
    const std::size_t bar = c.sub.rfind('|');
    SSEPUSH_FUZZ_CHECK(c.user_id == (bar == std::string::npos ? c.sub : c.sub.substr(bar + 1)));
    const std::int64_t leeway = rules.leeway_seconds;
    // exp > now - leeway, nbf/iat <= now + leeway (no overflow for these values).
    SSEPUSH_FUZZ_CHECK(c.exp > k_now - leeway);
    SSEPUSH_FUZZ_CHECK(c.nbf <= k_now + leeway && c.iat <= k_now + leeway);
    return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const int mode = data[0] % 3;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    const jwt_rules open{};
    const jwt_rules strict{"ssjwt", "https://api", 0};

    std::string token;
    switch (mode) {
        case 0:
            token.assign(in);
            break;
        case 1: {
            const std::size_t nl = in.find('\n');
            const std::string_view header = in.substr(0, nl);
            const std::string_view payload =
                nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
            token = signed_token(b64url(header) + "." + b64url(payload));
            break;
        }
        default:
            token = signed_token(in);
            break;
    }

    jwt_claims c;
    for (const jwt_rules* rules : {&open, &strict}) {
        const jwt_error hs = check(token, hs_key(), *rules, c);
        if (mode == 1 && hs == jwt_error::none) {
            const std::size_t nl = in.find('\n');
            SSEPUSH_FUZZ_CHECK(nl != std::string_view::npos && c.raw_payload == in.substr(nl + 1));
        }
        // An HMAC signature never passes as RSA.
        const jwt_error rs = check(token, rs_key(), *rules, c);
        if (mode != 0) SSEPUSH_FUZZ_CHECK(rs != jwt_error::none);
    }
    return 0;
}
