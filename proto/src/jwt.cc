// JWT verification (HS256, RS256) on OpenSSL 3 and simdjson.
//
// The order of the checks is the security argument, so it is spelled out in
// verify_jwt(): size and shape first (no decoding), then the header, whose
// "alg" must be the key's before any signature work, then the signature over
// the text as received, and only then is the payload decoded and read.
#include "ssepush/proto/jwt.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <simdjson.h>

#include <array>
#include <charconv>
#include <cstring>
#include <system_error>
#include <utility>

#include "json_text.h"

namespace ssepush::proto {
namespace {

using detail::parse_json_object;

constexpr std::size_t k_hs256_size = 32;  // SHA-256 output, and the least secret
constexpr int k_min_rsa_bits = 2048;
constexpr int k_max_rsa_bits = 8192;

// ---------------------------------------------------------------------------
// Base64 (RFC 4648 §4 and §5). Encoding, not cryptography.

using b64_table = std::array<std::int8_t, 256>;

constexpr b64_table make_table(bool url) {
    b64_table t{};
    for (auto& v : t)
        v = -1;
    for (int i = 0; i < 26; ++i) {
        t[static_cast<unsigned char>('A' + i)] = static_cast<std::int8_t>(i);
        t[static_cast<unsigned char>('a' + i)] = static_cast<std::int8_t>(26 + i);
    }
    for (int i = 0; i < 10; ++i)
        t[static_cast<unsigned char>('0' + i)] = static_cast<std::int8_t>(52 + i);
    t[static_cast<unsigned char>(url ? '-' : '+')] = 62;
    t[static_cast<unsigned char>(url ? '_' : '/')] = 63;
    return t;
}

constexpr b64_table k_base64url = make_table(true);
constexpr b64_table k_base64 = make_table(false);

std::int8_t b64_value(const b64_table& t, char c) noexcept {
    return t[static_cast<unsigned char>(c)];
}

// Whether `s` is canonical unpadded base64 over `t`: only alphabet characters,
// no length of 1 mod 4 (a lone character is not a byte), and the bits of the
// last character beyond the final byte are zero.
bool valid_base64(std::string_view s, const b64_table& t) noexcept {
    if (s.size() % 4 == 1) return false;
    for (const char c : s) {
        if (b64_value(t, c) < 0) return false;
    }
    switch (s.size() % 4) {
        case 2:
            return (b64_value(t, s.back()) & 0x0F) == 0;
        case 3:
            return (b64_value(t, s.back()) & 0x03) == 0;
        default:
            return true;
    }
}

// Decodes `s`, which valid_base64() accepted, into `out` (replacing it).
void decode_base64(std::string_view s, const b64_table& t, std::string& out) {
    out.clear();
    out.reserve(s.size() / 4 * 3 + 2);
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : s) {
        acc = (acc << 6) | static_cast<std::uint32_t>(b64_value(t, c));
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFF));
            acc &= (1u << bits) - 1;
        }
    }
}

// ---------------------------------------------------------------------------
// JSON

enum class got : std::uint8_t { absent, value, bad };

// A text claim: a string, or an integer or boolean as its text; null is absent.
got text_claim(simdjson::dom::element v, std::string& out) {
    using simdjson::dom::element_type;
    switch (v.type()) {
        case element_type::STRING: {
            std::string_view s;
            if (v.get(s) != simdjson::SUCCESS) return got::bad;
            out.assign(s);
            return got::value;
        }
        case element_type::INT64: {
            std::int64_t i = 0;
            if (v.get(i) != simdjson::SUCCESS) return got::bad;
            out = std::to_string(i);
            return got::value;
        }
        case element_type::UINT64: {
            std::uint64_t u = 0;
            if (v.get(u) != simdjson::SUCCESS) return got::bad;
            out = std::to_string(u);
            return got::value;
        }
        case element_type::BOOL: {
            bool b = false;
            if (v.get(b) != simdjson::SUCCESS) return got::bad;
            out = b ? "true" : "false";
            return got::value;
        }
        case element_type::NULL_VALUE:
            return got::absent;
        case element_type::DOUBLE:
        case element_type::OBJECT:
        case element_type::ARRAY:
            break;
    }
    return got::bad;
}

// A NumericDate: an int64, or a string of '-'? digits that fits one; null and
// "" are absent.
got time_claim(simdjson::dom::element v, std::int64_t& out) {
    using simdjson::dom::element_type;
    switch (v.type()) {
        case element_type::INT64:
            return v.get(out) == simdjson::SUCCESS ? got::value : got::bad;
        case element_type::STRING: {
            std::string_view s;
            if (v.get(s) != simdjson::SUCCESS) return got::bad;
            if (s.empty()) return got::absent;
            // from_chars takes exactly -?[0-9]+ (no '+', no spaces) and reports overflow.
            const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
            return ec == std::errc{} && end == s.data() + s.size() ? got::value : got::bad;
        }
        case element_type::NULL_VALUE:
            return got::absent;
        case element_type::UINT64:  // beyond int64
        case element_type::DOUBLE:
        case element_type::BOOL:
        case element_type::OBJECT:
        case element_type::ARRAY:
            break;
    }
    return got::bad;
}

// A list of strings: an array of strings, or one string ("" is empty); null is absent.
got list_claim(simdjson::dom::element v, std::vector<std::string>& out) {
    using simdjson::dom::element_type;
    out.clear();
    std::string_view s;
    switch (v.type()) {
        case element_type::ARRAY: {
            simdjson::dom::array arr;
            if (v.get(arr) != simdjson::SUCCESS) return got::bad;
            for (const simdjson::dom::element item : arr) {
                if (item.get(s) != simdjson::SUCCESS) return got::bad;
                out.emplace_back(s);
            }
            return got::value;
        }
        case element_type::STRING:
            if (v.get(s) != simdjson::SUCCESS) return got::bad;
            if (!s.empty()) out.emplace_back(s);
            return got::value;
        case element_type::NULL_VALUE:
            return got::absent;
        default:
            break;
    }
    return got::bad;
}

// ---------------------------------------------------------------------------
// Header

jwt_error check_header(std::string_view header_b64, jwt_alg key_alg) {
    std::string text;
    decode_base64(header_b64, k_base64url, text);
    simdjson::dom::object obj;
    if (!parse_json_object(text, obj)) return jwt_error::malformed;

    bool has_alg = false;
    bool alg_is_string = false;
    bool unsupported = false;
    std::string_view alg;
    for (const simdjson::dom::key_value_pair kv : obj) {
        const std::string_view k = kv.key;
        if (k == "alg") {
            if (has_alg) return jwt_error::malformed;
            has_alg = true;
            alg_is_string = kv.value.get(alg) == simdjson::SUCCESS;
        } else if (k == "crit" || k == "jku" || k == "jwk" || k == "x5u" || k == "x5c") {
            unsupported = true;
        } else if (k == "typ") {
            std::string_view typ;
            if (kv.value.get(typ) == simdjson::SUCCESS && typ == "JWTR") unsupported = true;
        }
    }
    if (unsupported || !has_alg || !alg_is_string) return jwt_error::unsupported_alg;
    if (alg == "HS256")
        return key_alg == jwt_alg::hs256 ? jwt_error::none : jwt_error::alg_mismatch;
    if (alg == "RS256")
        return key_alg == jwt_alg::rs256 ? jwt_error::none : jwt_error::alg_mismatch;
    return jwt_error::unsupported_alg;
}

// ---------------------------------------------------------------------------
// Payload

enum claim : std::uint8_t {
    c_sub,
    c_preferred_username,
    c_name,
    c_email,
    c_picture,
    c_jid,
    c_roles,
    c_perms,
    c_exp,
    c_nbf,
    c_iat,
    c_iss,
    c_aud,
    c_count,
};

constexpr std::array<std::string_view, c_count> k_claim_names = {
    "sub",     "preferred_username",
    "name",    "email",
    "picture", "jid",
    "roles",   "perms",
    "exp",     "nbf",
    "iat",     "iss",
    "aud",
};

int claim_index(std::string_view key) noexcept {
    for (std::size_t i = 0; i < k_claim_names.size(); ++i) {
        if (k_claim_names[i] == key) return static_cast<int>(i);
    }
    return -1;
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
    std::int64_t r = 0;
    if (!__builtin_add_overflow(a, b, &r)) return r;
    return b > 0 ? INT64_MAX : INT64_MIN;
}

void clear_claims(jwt_claims& c) noexcept {
    c.sub.clear();
    c.user_id.clear();
    c.user_name.clear();
    c.display_name.clear();
    c.email.clear();
    c.profile_url.clear();
    c.session_id.clear();
    c.roles.clear();
    c.permissions.clear();
    c.exp = c.nbf = c.iat = 0;
    c.raw_payload.clear();
}

jwt_error read_claims(std::string_view payload_b64, const jwt_rules& rules, std::int64_t now,
                      jwt_claims& out) {
    decode_base64(payload_b64, k_base64url, out.raw_payload);
    simdjson::dom::object obj;
    if (!parse_json_object(out.raw_payload, obj)) return jwt_error::malformed;

    std::uint32_t seen = 0;
    bool has_exp = false;
    bool has_nbf = false;
    bool has_iat = false;
    bool has_iss = false;
    std::string iss;
    // Views into the parsed document, used before the next parse.
    std::vector<std::string_view> aud;
    bool has_aud = false;

    for (const simdjson::dom::key_value_pair kv : obj) {
        const int idx = claim_index(kv.key);
        if (idx < 0) continue;
        const std::uint32_t bit = 1u << idx;
        if ((seen & bit) != 0) return jwt_error::malformed;
        seen |= bit;
        got g = got::bad;
        switch (static_cast<claim>(idx)) {
            case c_sub:
                g = text_claim(kv.value, out.sub);
                break;
            case c_preferred_username:
                g = text_claim(kv.value, out.user_name);
                break;
            case c_name:
                g = text_claim(kv.value, out.display_name);
                break;
            case c_email:
                g = text_claim(kv.value, out.email);
                break;
            case c_picture:
                g = text_claim(kv.value, out.profile_url);
                break;
            case c_jid:
                g = text_claim(kv.value, out.session_id);
                break;
            case c_roles:
                g = list_claim(kv.value, out.roles);
                break;
            case c_perms:
                g = list_claim(kv.value, out.permissions);
                break;
            case c_exp:
                g = time_claim(kv.value, out.exp);
                has_exp = g == got::value;
                break;
            case c_nbf:
                g = time_claim(kv.value, out.nbf);
                has_nbf = g == got::value;
                break;
            case c_iat:
                g = time_claim(kv.value, out.iat);
                has_iat = g == got::value;
                break;
            case c_iss:
                g = text_claim(kv.value, iss);
                has_iss = g == got::value;
                break;
            case c_aud: {
                std::string_view s;
                simdjson::dom::array arr;
                if (kv.value.is_null()) {
                    g = got::absent;
                } else if (kv.value.get(s) == simdjson::SUCCESS) {
                    aud.push_back(s);
                    g = got::value;
                } else if (kv.value.get(arr) == simdjson::SUCCESS) {
                    g = got::value;
                    for (const simdjson::dom::element item : arr) {
                        if (item.get(s) != simdjson::SUCCESS) {
                            g = got::bad;
                            break;
                        }
                        aud.push_back(s);
                    }
                }
                has_aud = g == got::value;
                break;
            }
            case c_count:
                break;
        }
        if (g == got::bad) return jwt_error::malformed;
    }
    if (!has_exp) return jwt_error::malformed;
    if (!has_nbf) out.nbf = 0;
    if (!has_iat) out.iat = 0;

    const std::size_t bar = out.sub.rfind('|');
    out.user_id.assign(bar == std::string::npos ? std::string_view(out.sub)
                                                : std::string_view(out.sub).substr(bar + 1));

    const std::int64_t leeway = rules.leeway_seconds > 0 ? rules.leeway_seconds : 0;
    if (now >= saturating_add(out.exp, leeway)) return jwt_error::expired;
    const std::int64_t latest = saturating_add(now, leeway);
    if ((has_nbf && out.nbf > latest) || (has_iat && out.iat > latest))
        return jwt_error::not_yet_valid;
    if (!rules.issuer.empty() && (!has_iss || iss != rules.issuer)) return jwt_error::wrong_issuer;
    if (!rules.audience.empty()) {
        bool match = false;
        if (has_aud) {
            for (const std::string_view a : aud)
                match = match || a == rules.audience;
        }
        if (!match) return jwt_error::wrong_audience;
    }
    return jwt_error::none;
}

void set_error(std::string* error, const char* what) {
    if (error != nullptr) *error = what;
}

}  // namespace

// ---------------------------------------------------------------------------

const char* to_string(jwt_error e) noexcept {
    switch (e) {
        case jwt_error::none:
            return "valid";
        case jwt_error::malformed:
            return "malformed token";
        case jwt_error::unsupported_alg:
            return "unsupported algorithm or header";
        case jwt_error::alg_mismatch:
            return "algorithm does not match the key";
        case jwt_error::bad_signature:
            return "invalid signature";
        case jwt_error::expired:
            return "token has expired";
        case jwt_error::not_yet_valid:
            return "token not valid yet";
        case jwt_error::wrong_issuer:
            return "wrong issuer";
        case jwt_error::wrong_audience:
            return "wrong audience";
    }
    return "unknown jwt error";
}

jwt_key::jwt_key(jwt_key&& other) noexcept
    : alg_(other.alg_),
      mac_(std::exchange(other.mac_, nullptr)),
      pkey_(std::exchange(other.pkey_, nullptr)),
      signature_size_(std::exchange(other.signature_size_, 0)) {}

jwt_key& jwt_key::operator=(jwt_key&& other) noexcept {
    if (this != &other) {
        reset();
        alg_ = other.alg_;
        mac_ = std::exchange(other.mac_, nullptr);
        pkey_ = std::exchange(other.pkey_, nullptr);
        signature_size_ = std::exchange(other.signature_size_, 0);
    }
    return *this;
}

jwt_key::~jwt_key() {
    reset();
}

void jwt_key::reset() noexcept {
    EVP_MAC_CTX_free(mac_);
    EVP_PKEY_free(pkey_);
    mac_ = nullptr;
    pkey_ = nullptr;
    signature_size_ = 0;
}

std::optional<jwt_key> jwt_key::hs256(std::string_view secret, std::string* error) {
    if (secret.size() < k_hs256_size) {
        set_error(error, "HS256 secret shorter than 32 bytes (RFC 7518 section 3.2)");
        return std::nullopt;
    }
    jwt_key key;
    key.alg_ = jwt_alg::hs256;
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac != nullptr) {
        key.mac_ = EVP_MAC_CTX_new(mac);
        EVP_MAC_free(mac);  // the context keeps its own reference
    }
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (key.mac_ == nullptr ||
        EVP_MAC_init(key.mac_, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                     params) != 1) {
        ERR_clear_error();
        set_error(error, "OpenSSL could not set up HMAC-SHA256");
        return std::nullopt;
    }
    key.signature_size_ = k_hs256_size;
    return key;
}

std::optional<jwt_key> jwt_key::hs256_base64(std::string_view base64, std::string* error) {
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!base64.empty() && space(base64.front()))
        base64.remove_prefix(1);
    while (!base64.empty() && space(base64.back()))
        base64.remove_suffix(1);
    bool ok = base64.size() % 4 == 0;
    if (ok) {
        std::string_view body = base64;
        for (int i = 0; i < 2 && !body.empty() && body.back() == '='; ++i)
            body.remove_suffix(1);
        // The padding must be exactly what the length calls for.
        const std::size_t pad = base64.size() - body.size();
        ok = valid_base64(body, k_base64) && (body.size() + pad) % 4 == 0 &&
             (pad == 0 || body.size() % 4 == 4 - pad);
        if (ok) {
            std::string secret;
            decode_base64(body, k_base64, secret);
            auto key = hs256(secret, error);
            OPENSSL_cleanse(secret.data(), secret.size());
            return key;
        }
    }
    set_error(error, "HS256 secret is not valid padded base64");
    return std::nullopt;
}

std::optional<jwt_key> jwt_key::rs256_pem(std::string_view pem, std::string* error) {
    if (pem.find("-----BEGIN PUBLIC KEY-----") == std::string_view::npos &&
        pem.find("-----BEGIN RSA PUBLIC KEY-----") == std::string_view::npos) {
        set_error(error, "RS256 key is not a PEM \"PUBLIC KEY\" or \"RSA PUBLIC KEY\"");
        return std::nullopt;
    }
    EVP_PKEY* pkey = nullptr;
    OSSL_DECODER_CTX* dec = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", nullptr, "RSA",
                                                          EVP_PKEY_PUBLIC_KEY, nullptr, nullptr);
    if (dec != nullptr) {
        const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
        std::size_t len = pem.size();
        if (OSSL_DECODER_from_data(dec, &data, &len) != 1) {
            EVP_PKEY_free(pkey);
            pkey = nullptr;
        }
        OSSL_DECODER_CTX_free(dec);
    }
    ERR_clear_error();
    jwt_key key;
    key.alg_ = jwt_alg::rs256;
    key.pkey_ = pkey;
    if (pkey == nullptr || EVP_PKEY_is_a(pkey, "RSA") != 1) {
        set_error(error, "RS256 key: PEM does not hold an RSA public key");
        return std::nullopt;
    }
    const int bits = EVP_PKEY_get_bits(pkey);
    if (bits < k_min_rsa_bits || bits > k_max_rsa_bits) {
        set_error(error, "RS256 key: RSA modulus must have 2048 to 8192 bits");
        return std::nullopt;
    }
    key.signature_size_ = static_cast<std::size_t>(EVP_PKEY_get_size(pkey));
    // One verification set-up now: proves the key usable, and fills OpenSSL's
    // per-key caches before threads share it.
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    const bool usable = md != nullptr &&
                        EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), nullptr, pkey) == 1 &&
                        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    if (!usable) {
        set_error(error, "RS256 key: OpenSSL cannot verify with it");
        return std::nullopt;
    }
    return key;
}

bool jwt_key::verify(std::string_view signing_input, std::string_view signature) const noexcept {
    if (signature_size_ == 0 || signature.size() != signature_size_) return false;
    const auto* in = reinterpret_cast<const unsigned char*>(signing_input.data());
    const auto* sig = reinterpret_cast<const unsigned char*>(signature.data());
    bool ok = false;
    switch (alg_) {
        case jwt_alg::hs256: {
            if (mac_ == nullptr) return false;
            EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(mac_);
            unsigned char md[EVP_MAX_MD_SIZE];
            std::size_t n = 0;
            ok = ctx != nullptr && EVP_MAC_update(ctx, in, signing_input.size()) == 1 &&
                 EVP_MAC_final(ctx, md, &n, sizeof md) == 1 && n == k_hs256_size &&
                 CRYPTO_memcmp(md, sig, k_hs256_size) == 0;
            EVP_MAC_CTX_free(ctx);
            OPENSSL_cleanse(md, sizeof md);
            break;
        }
        case jwt_alg::rs256: {
            if (pkey_ == nullptr) return false;
            EVP_MD_CTX* ctx = EVP_MD_CTX_new();
            EVP_PKEY_CTX* pctx = nullptr;
            ok = ctx != nullptr &&
                 EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), nullptr, pkey_) == 1 &&
                 EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
                 EVP_DigestVerify(ctx, sig, signature.size(), in, signing_input.size()) == 1;
            EVP_MD_CTX_free(ctx);
            break;
        }
    }
    if (!ok) ERR_clear_error();
    return ok;
}

jwt_error verify_jwt(std::string_view token, const jwt_key& key, const jwt_rules& rules,
                     std::int64_t now_unix, jwt_claims& out) noexcept {
    clear_claims(out);
    jwt_error result = jwt_error::malformed;
    try {
        result = [&]() -> jwt_error {
            // 1. Shape: three segments of canonical base64url, nothing decoded yet.
            if (token.empty() || token.size() > k_max_jwt_size) return jwt_error::malformed;
            const std::size_t dot1 = token.find('.');
            if (dot1 == std::string_view::npos) return jwt_error::malformed;
            const std::size_t dot2 = token.find('.', dot1 + 1);
            if (dot2 == std::string_view::npos) return jwt_error::malformed;
            if (token.find('.', dot2 + 1) != std::string_view::npos) return jwt_error::malformed;
            const std::string_view header = token.substr(0, dot1);
            const std::string_view payload = token.substr(dot1 + 1, dot2 - dot1 - 1);
            const std::string_view signature = token.substr(dot2 + 1);
            if (header.empty() || payload.empty() || !valid_base64(header, k_base64url) ||
                !valid_base64(payload, k_base64url) || !valid_base64(signature, k_base64url))
                return jwt_error::malformed;

            // 2. Header: the algorithm must be the key's, before any signature work.
            if (const jwt_error e = check_header(header, key.alg()); e != jwt_error::none) return e;

            // 3. Signature over the text as received (header "." payload).
            std::string sig;
            decode_base64(signature, k_base64url, sig);
            if (!key.verify(token.substr(0, dot2), sig)) return jwt_error::bad_signature;

            // 4. Claims, then times, issuer and audience.
            return read_claims(payload, rules, now_unix, out);
        }();
    } catch (...) {  // std::bad_alloc from a claim string: nothing else throws here
        result = jwt_error::malformed;
    }
    if (result != jwt_error::none) clear_claims(out);
    return result;
}

}  // namespace ssepush::proto
