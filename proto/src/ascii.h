#pragma once
// ASCII helpers shared by proto's parsers (private to proto): HTTP field names,
// tokens and media types compare case-insensitively in ASCII only, and
// optional whitespace (OWS, RFC 9110 5.6.3) is space or tab.
#include <cstddef>
#include <string_view>

namespace ssepush::proto::detail {

inline char ascii_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

inline bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}

inline std::string_view trim_ows(std::string_view v) noexcept {
    while (!v.empty() && is_ows(v.front()))
        v.remove_prefix(1);
    while (!v.empty() && is_ows(v.back()))
        v.remove_suffix(1);
    return v;
}

}  // namespace ssepush::proto::detail
