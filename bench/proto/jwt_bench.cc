// JWT verification of ServiceStack-shaped bearer tokens: HS256 and RS256
// (2048-bit), accepted, and the cheap refusals (a forged HMAC, the key-confusion
// attack refused before any signature work). The tokens are the known-answer
// vectors of tests/proto/jwt_test.cc (test data; the RSA private key was
// discarded).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "ssepush/proto/jwt.h"

namespace ssepush::proto {
namespace {

constexpr std::int64_t k_now = 1'700'000'000;

// 344 bytes: iss, integer sub, iat, exp, email, name, preferred_username, one
// role, one permission, jti.
constexpr std::string_view k_hs256_secret = "ssepush-known-answer-test-secret-0123456789";
constexpr std::string_view k_hs256_token =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImtpZCI6ImMzTiJ9."
    "eyJpc3MiOiJzc2p3dCIsInN1YiI6MSwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDEyMDk2MDAsImVtYWlsIjoidGVzdE"
    "BleGFtcGxlLm9yZyIsIm5hbWUiOiJUZXN0IFVzZXIiLCJwcmVmZXJyZWRfdXNlcm5hbWUiOiJ0ZXN0Iiwicm9sZXMiOls"
    "iQWRtaW4iXSwicGVybXMiOlsiVGhlUGVybWlzc2lvbiJdLCJqdGkiOiIxIn0."
    "pG7qX5UADBZZdFsNCBjyrfexZJhrT-ghAUbw_6CGNOA";

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
// 587 bytes, of which 342 are the RSA-2048 signature.
constexpr std::string_view k_rs256_token =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJpc3MiOiJzc2p3dCIsInN1YiI6ImF1dGgwfDQyIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDEyMDk2MDAsIm5hbW"
    "UiOiJSU0EgVXNlciIsInByZWZlcnJlZF91c2VybmFtZSI6InJzYSIsInJvbGVzIjpbIkFkbWluIiwiRW1wbG95ZWUiXSwi"
    "amlkIjoic2Vzcy0xIn0."
    "aubV81E4WNFqOxOBiTO5Vblati_7ywpqZXaTp6yBAWrUPwu1Jr7WClyf6ImG80CveLa1lZy02ShbtA-yvecNuYa1U7y3ll"
    "yGDQ9OnucvcYcbvBI5S_ScwhVhJ45A7X60dNPvM4-Zvxzl7__SMEpPnVA-"
    "QOO1i6jeNbgqSuvcIYHuN070WGUDnPTQjZrnL"
    "x4GNIPXrjnyd-1S8baT3p4WJm-zmGHVxNQARwSyphzhSMfd8dWt9gEXZKw7-qtBpOfKsSdwA3F8tl-_OQpi0Al-XPVZOlN"
    "Y6JZ6gQParU3E8Eh6Bb_WP4ZKecl1AxAKgymNTzWqjuV5PvTC_zQFsd_k-A";

void run(benchmark::State& state, std::string_view token, const jwt_key& key, jwt_error expect) {
    const jwt_rules rules{"ssjwt", "", 60};
    jwt_claims claims;
    if (verify_jwt(token, key, rules, k_now, claims) != expect) {
        state.SkipWithError("unexpected verification result");
        return;
    }
    for (auto _ : state) {
        const jwt_error e = verify_jwt(token, key, rules, k_now, claims);
        benchmark::DoNotOptimize(e);
        benchmark::DoNotOptimize(claims.user_id.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(token.size()));
}

const jwt_key& hs_key() {
    static const jwt_key key = *jwt_key::hs256(k_hs256_secret);
    return key;
}

const jwt_key& rs_key() {
    static const jwt_key key = *jwt_key::rs256_pem(k_rs256_pem);
    return key;
}

void bm_jwt_hs256_verify(benchmark::State& state) {
    run(state, k_hs256_token, hs_key(), jwt_error::none);
}
BENCHMARK(bm_jwt_hs256_verify);

void bm_jwt_rs256_verify(benchmark::State& state) {
    run(state, k_rs256_token, rs_key(), jwt_error::none);
}
BENCHMARK(bm_jwt_rs256_verify);

// A forged HS256 signature: everything but reading the claims.
void bm_jwt_hs256_bad_signature(benchmark::State& state) {
    std::string forged(k_hs256_token);
    forged[forged.size() - 2] = forged[forged.size() - 2] == 'A' ? 'B' : 'A';
    run(state, forged, hs_key(), jwt_error::bad_signature);
}
BENCHMARK(bm_jwt_hs256_bad_signature);

// An HS256 token against the RS256 key: refused after the header, no RSA work.
void bm_jwt_rs256_key_confusion_refused(benchmark::State& state) {
    run(state, k_hs256_token, rs_key(), jwt_error::alg_mismatch);
}
BENCHMARK(bm_jwt_rs256_key_confusion_refused);

}  // namespace
}  // namespace ssepush::proto
