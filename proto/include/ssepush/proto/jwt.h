#pragma once
// JSON Web Token verification for bearer tokens issued by ServiceStack's
// JwtAuthProvider (or anything that issues the same claims): the compact JWS
// form `base64url(header) "." base64url(payload) "." base64url(signature)`
// (RFC 7515 §7.1, RFC 7519), signed with HS256 (HMAC-SHA256) or RS256 (RSA
// PKCS#1 v1.5 with SHA-256). The cryptography is OpenSSL's; HMACs are compared
// in constant time (CRYPTO_memcmp).
//
// The algorithm comes from the key, never from the token. A jwt_key is made for
// one algorithm, and a token whose header names another one is refused before
// any signature work: "none", "None", a missing or non-string "alg", HS384/512,
// RS384/512, ES*, PS* are unsupported_alg; "HS256" against an RS256 key (the
// key-confusion attack: the public key used as an HMAC secret) and "RS256"
// against an HS256 key are alg_mismatch. Headers that carry key material or
// extensions we do not implement ("crit", "jku", "jwk", "x5u", "x5c") are
// unsupported_alg too, as is `"typ":"JWTR"`: a ServiceStack refresh token,
// which carries no roles and lives a year, is not a bearer token. ServiceStack
// itself refuses a foreign "alg" the same way (RequireHashAlgorithm, on by
// default); it does not look at "typ". "kid" is ignored (there is one key).
//
// Parsing is strict. The token is at most k_max_jwt_size bytes and exactly
// three segments; base64url is the URL-safe alphabet without padding (any '=',
// whitespace or other byte is malformed) and canonical (the unused low bits of
// the last character are zero), so each token has one spelling. Header and
// payload are complete, valid JSON objects (simdjson: RFC 8259 and UTF-8);
// JWE tokens (five segments, ServiceStack's EncryptPayload) are malformed.
// The caller removes "Bearer " from an Authorization header; surrounding
// whitespace is malformed.
//
// Claims (ServiceStack: JwtAuthProvider.CreateJwtPayload writes them,
// JwtAuthProviderReader + UserAuthExtensions.PopulateFromMap read them back):
//
//   claim              jwt_claims      ServiceStack session field
//   sub                sub, user_id    UserAuthId = the text after sub's last '|'
//   preferred_username user_name       UserName (no fallback: ServiceStack has none)
//   name               display_name    DisplayName
//   email              email           Email
//   picture            profile_url     ProfileUrl
//   jid                session_id      Id; absent in the tokens ServiceStack
//                                      issues (a CreatePayloadFilter may add it),
//                                      in which case ServiceStack makes a new id
//                                      and so should the caller
//   roles, perms       roles, permissions  Roles, Permissions
//   exp, nbf, iat      exp, nbf, iat   (0 when absent)
//   iss, aud           checked against jwt_rules, not returned
//
// ServiceStack's JsonObject writes a value that looks like a number or a
// boolean without quotes, so an integer UserAuthId arrives as `"sub":1` and a
// user called "42" as `"name":42`. So a text claim (sub, preferred_username,
// name, email, picture, jid, iss) may be a string (unescaped), an integer or a
// boolean (taken as its text: "1", "true"); null is absent; a fraction, object
// or array is malformed. roles/perms are an array of strings (any other item is
// malformed), a lone string (one item; some issuers write a single role so), or
// null. aud is a string or an array of strings. Times (exp, nbf, iat) are an
// integer or a string of decimal digits with an optional '-' (ServiceStack
// reads them with long.Parse); an empty string or null is absent; fractions,
// exponents and values beyond int64 are malformed. A claim read here that
// appears twice is malformed (so is a repeated "alg"); other claims are not
// looked at (raw_payload keeps them all).
//
// display_name is the raw "name" claim. ServiceStack's Server Events show
// session.GetSafeDisplayName() instead: the user name unless it contains '@' or
// is an integer, else the display name; that choice belongs to the events layer.
//
// Validation, after the signature, in this order (now = now_unix, L =
// jwt_rules::leeway_seconds, negative treated as 0):
//   - exp is required (ServiceStack always writes it): missing is malformed;
//   - expired       when now >= exp + L   (ServiceStack: now >= exp, i.e. L = 0);
//   - not_yet_valid when nbf > now + L or iat > now + L (ServiceStack checks
//     nbf without leeway and does not check iat; a token "issued in the future"
//     beyond the leeway is refused here);
//   - wrong_issuer  when jwt_rules::issuer is set and "iss" is absent or differs
//     (ServiceStack writes iss, default "ssjwt", but never checks it);
//   - wrong_audience when jwt_rules::audience is set and "aud" is absent or
//     lists no equal value (ServiceStack's RequiresAudience = true; with its
//     default a token without "aud" passes).
// Comparisons are byte-exact.
//
// Totality: verify_jwt() never throws, never crashes and never reads outside
// `token`, whatever bytes it holds; every outcome is a jwt_error. An allocation
// failure (the claim strings) also yields malformed.
//
// Threading: a jwt_key is immutable after creation; any number of threads may
// verify with the same key at once. verify_jwt() keeps a thread-local JSON
// parser and scratch buffer, bounded by k_max_jwt_size.
// Allocation: verify_jwt() allocates the claim strings and, for each call, the
// OpenSSL contexts of one HMAC or RSA verification.
// Cost (bench/proto/jwt_bench.cc, 2 vCPU EPYC VM): an HS256 token of ~350
// bytes verifies in ~1.7 us, an RS256 token (2048-bit key) in ~22 us; a token
// refused by its header costs ~0.4 us and no signature work.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// OpenSSL's own struct tags (EVP_MAC_CTX, EVP_PKEY): this header does not
// include OpenSSL; proto links it privately.
struct evp_mac_ctx_st;
struct evp_pkey_st;

namespace ssepush::proto {

// Tokens longer than this are malformed (ServiceStack keeps its token in a
// cookie, so its tokens stay under 4 KiB).
inline constexpr std::size_t k_max_jwt_size = 8192;

// The one algorithm a jwt_key verifies ("HS256" or "RS256" in a token header).
enum class jwt_alg : std::uint8_t { hs256, rs256 };

enum class jwt_error : std::uint8_t {
    none,             // valid: the claims are filled in
    malformed,        // not three canonical base64url segments of JSON objects, bad
                      // claim types, missing exp, repeated claim, over k_max_jwt_size
    unsupported_alg,  // header: alg not HS256/RS256 (none, None, HS512, missing,
                      // not a string), or crit/jku/jwk/x5u/x5c, or typ "JWTR"
    alg_mismatch,     // header: HS256 for an RS256 key or RS256 for an HS256 key
    bad_signature,    // the signature does not verify (or has the wrong length)
    expired,          // now >= exp + leeway
    not_yet_valid,    // nbf or iat later than now + leeway
    wrong_issuer,     // jwt_rules::issuer set and iss absent or different
    wrong_audience,   // jwt_rules::audience set and not in aud
};

// A short English description ("token has expired"); never null.
[[nodiscard]] const char* to_string(jwt_error e) noexcept;

struct jwt_rules;
struct jwt_claims;

// Verification material for one algorithm. Move-only; owns its OpenSSL objects.
// A moved-from key verifies nothing (bad_signature).
class jwt_key {
public:
    // HS256 with a secret of raw bytes (ServiceStack's AuthKey). RFC 7518 §3.2
    // requires at least 256 bits: shorter secrets are refused.
    [[nodiscard]] static std::optional<jwt_key> hs256(std::string_view secret,
                                                      std::string* error = nullptr);

    // HS256 with the secret in standard base64 with padding (ServiceStack's
    // AuthKeyBase64, Convert.FromBase64String); whitespace around it is ignored.
    [[nodiscard]] static std::optional<jwt_key> hs256_base64(std::string_view base64,
                                                             std::string* error = nullptr);

    // RS256 with an RSA public key in PEM: "BEGIN PUBLIC KEY" (SubjectPublicKeyInfo)
    // or "BEGIN RSA PUBLIC KEY" (PKCS#1). 2048 to 8192 bits. Private keys,
    // certificates and other key types are refused.
    [[nodiscard]] static std::optional<jwt_key> rs256_pem(std::string_view pem,
                                                          std::string* error = nullptr);

    jwt_key(jwt_key&& other) noexcept;
    jwt_key& operator=(jwt_key&& other) noexcept;
    jwt_key(const jwt_key&) = delete;
    jwt_key& operator=(const jwt_key&) = delete;
    ~jwt_key();

    [[nodiscard]] jwt_alg alg() const noexcept { return alg_; }

private:
    jwt_key() noexcept = default;
    void reset() noexcept;
    // Whether `signature` (decoded) signs `signing_input` under this key.
    [[nodiscard]] bool verify(std::string_view signing_input,
                              std::string_view signature) const noexcept;

    friend jwt_error verify_jwt(std::string_view token, const jwt_key& key, const jwt_rules& rules,
                                std::int64_t now_unix, jwt_claims& out) noexcept;

    jwt_alg alg_ = jwt_alg::hs256;
    evp_mac_ctx_st* mac_ = nullptr;   // HS256: HMAC-SHA256 keyed, duplicated per use
    evp_pkey_st* pkey_ = nullptr;     // RS256: the public key
    std::size_t signature_size_ = 0;  // the length every valid signature has
};

// What a token must also satisfy besides its signature and times.
struct jwt_rules {
    std::string issuer;    // empty: iss not checked
    std::string audience;  // empty: aud not checked
    std::int64_t leeway_seconds = 60;
};

// The claims of a verified token (see the table above); empty strings and
// lists, and 0 times, for what the token does not carry.
struct jwt_claims {
    std::string sub;           // as written
    std::string user_id;       // sub after its last '|' (ServiceStack's UserAuthId)
    std::string user_name;     // preferred_username
    std::string display_name;  // name
    std::string email;
    std::string profile_url;  // picture
    std::string session_id;   // jid
    std::vector<std::string> roles;
    std::vector<std::string> permissions;  // perms
    std::int64_t exp = 0;
    std::int64_t nbf = 0;
    std::int64_t iat = 0;
    std::string raw_payload;  // the payload's JSON text, for other claims
};

// Verifies `token` (compact JWS, without "Bearer ") with `key` at time
// `now_unix` (seconds since the epoch). On jwt_error::none `out` holds the
// claims; on any other result `out` is reset to empty.
[[nodiscard]] jwt_error verify_jwt(std::string_view token, const jwt_key& key,
                                   const jwt_rules& rules, std::int64_t now_unix,
                                   jwt_claims& out) noexcept;

}  // namespace ssepush::proto
