// libFuzzer target for query-string decoding and encoding.
//
// The input is used as a query string and as a plain value:
//   - url_decode never grows its input and never fails;
//   - decode(encode(x)) == x, and encode() emits only unreserved bytes and %XX;
//   - for_each_param hands out pieces of the input that contain no '&' (keys no '=');
//   - find_param on each decoded key finds the value of the first pair with
//     that key, case-sensitively and (for the upper-cased key) case-insensitively.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "ssepush/proto/url.h"

using namespace ssepush::proto;

namespace {

bool unreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

bool inside(std::string_view v, std::string_view buf) {
    if (v.empty()) return true;  // "a" (no '=') has a default-constructed value
    return v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size();
}

std::string fold(std::string s) {
    for (char& c : s) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    }
    return s;
}

std::string lower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    std::string plus;
    std::string literal;
    url_decode(in, plus, true);
    url_decode(in, literal, false);
    SSEPUSH_FUZZ_CHECK(plus.size() <= in.size());
    SSEPUSH_FUZZ_CHECK(plus.size() == literal.size());
    if (in.find('+') == std::string_view::npos) SSEPUSH_FUZZ_CHECK(plus == literal);

    std::string enc;
    url_encode(in, enc);
    SSEPUSH_FUZZ_CHECK(enc.size() >= in.size() && enc.size() <= 3 * in.size());
    for (std::size_t i = 0; i < enc.size(); ++i) {
        if (enc[i] == '%') {
            SSEPUSH_FUZZ_CHECK(i + 2 < enc.size());
            i += 2;
        } else {
            SSEPUSH_FUZZ_CHECK(unreserved(enc[i]));
        }
    }
    std::string round;
    url_decode(enc, round, true);
    SSEPUSH_FUZZ_CHECK(round == in);
    round.clear();
    url_decode(enc, round, false);
    SSEPUSH_FUZZ_CHECK(round == in);

    // The encoded value survives a trip through a query string.
    std::string value;
    SSEPUSH_FUZZ_CHECK(find_param("a=1&k=" + enc + "&k=2", "k", value));
    SSEPUSH_FUZZ_CHECK(value == in);

    // Parameters of the input itself.
    struct pair {
        std::string key;
        std::string value;
    };
    std::vector<pair> pairs;
    for_each_param(in, [&](std::string_view k, std::string_view v) {
        SSEPUSH_FUZZ_CHECK(inside(k, in) && inside(v, in));
        SSEPUSH_FUZZ_CHECK(k.find('&') == std::string_view::npos);
        SSEPUSH_FUZZ_CHECK(v.find('&') == std::string_view::npos);
        SSEPUSH_FUZZ_CHECK(k.find('=') == std::string_view::npos);
        if (pairs.size() >= 32) return;
        pair p;
        url_decode(k, p.key);
        url_decode(v, p.value);
        pairs.push_back(std::move(p));
    });
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        // The first pair with this key (exactly, then ignoring ASCII case).
        std::size_t first = 0;
        while (pairs[first].key != pairs[i].key)
            ++first;
        std::size_t first_icase = 0;
        while (lower(pairs[first_icase].key) != lower(pairs[i].key))
            ++first_icase;

        value = "sentinel";
        SSEPUSH_FUZZ_CHECK(find_param(in, pairs[i].key, value));
        SSEPUSH_FUZZ_CHECK(value == pairs[first].value);
        SSEPUSH_FUZZ_CHECK(find_param(in, fold(pairs[i].key), value, true));
        SSEPUSH_FUZZ_CHECK(value == pairs[first_icase].value);
    }
    if (pairs.empty()) {
        value = "sentinel";
        SSEPUSH_FUZZ_CHECK(!find_param(in, "", value));
        SSEPUSH_FUZZ_CHECK(value == "sentinel");
    }
    return 0;
}
