#pragma once
// Query-string and application/x-www-form-urlencoded decoding.
//
// Decoding is lenient where browsers and .NET are: a '%' not followed by two hex
// digits is kept literally; '+' is a space in both query strings and forms (as
// ServiceStack and ASP.NET decode them). Keys are matched after decoding.
//
// Threading: none. Allocation: only into the std::string the caller passes.
#include <string>
#include <string_view>

namespace ssepush::proto {

// Appends the decoded form of `in` to `out`. '+' becomes ' ' when `plus_is_space`.
void url_decode(std::string_view in, std::string& out, bool plus_is_space = true);

// Calls fn(raw_key, raw_value) for each '&'-separated pair of a query string or
// form body, in order, still encoded. A pair without '=' has an empty value;
// empty pairs ("a=1&&b=2") are skipped.
template <class Fn>
void for_each_param(std::string_view qs, Fn&& fn);

// Decoded value of the first parameter whose decoded key equals `key`
// (ASCII case-insensitive when `ignore_case`), written over `value`. A key
// without '=' has an empty value. Returns false, `value` untouched, if absent.
[[nodiscard]] bool find_param(std::string_view qs, std::string_view key, std::string& value,
                              bool ignore_case = false);

// Percent-encodes for use inside a query value: keeps [A-Za-z0-9-._~], '%XX' the rest.
void url_encode(std::string_view in, std::string& out);

// ---------------------------------------------------------------------------

template <class Fn>
void for_each_param(std::string_view qs, Fn&& fn) {
    while (!qs.empty()) {
        std::size_t amp = qs.find('&');
        std::string_view pair = qs.substr(0, amp);
        qs = amp == std::string_view::npos ? std::string_view{} : qs.substr(amp + 1);
        if (pair.empty()) continue;
        std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos) {
            fn(pair, std::string_view{});
        } else {
            fn(pair.substr(0, eq), pair.substr(eq + 1));
        }
    }
}

}  // namespace ssepush::proto
