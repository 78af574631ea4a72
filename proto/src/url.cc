// Percent-decoding and -encoding for query strings and form bodies.
//
// Decoding never fails: Server Events clients build their URLs by hand (the TS
// client writes channel lists raw), so a stray '%' is more likely a literal
// than an attack, and .NET keeps it literally too. Matching a key does not
// decode it into a temporary string: the comparison decodes on the fly, so
// find_param() allocates only when it writes the value it found.
#include "ssepush/proto/url.h"

#include <cstddef>

#include "ascii.h"

namespace ssepush::proto {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Yields the decoded bytes of an encoded string one at a time.
class decoder {
public:
    explicit decoder(std::string_view in, bool plus_is_space) noexcept
        : in_(in), plus_is_space_(plus_is_space) {}

    bool next(char& c) noexcept {
        if (pos_ >= in_.size()) return false;
        c = in_[pos_];
        if (c == '+' && plus_is_space_) {
            c = ' ';
        } else if (c == '%' && in_.size() - pos_ >= 3) {
            const int hi = hex_value(in_[pos_ + 1]);
            const int lo = hex_value(in_[pos_ + 2]);
            if (hi >= 0 && lo >= 0) {
                c = static_cast<char>(hi * 16 + lo);
                pos_ += 3;
                return true;
            }
        }
        ++pos_;
        return true;
    }

private:
    std::string_view in_;
    std::size_t pos_ = 0;
    bool plus_is_space_;
};

bool decoded_equals(std::string_view raw, std::string_view key, bool ignore_case) noexcept {
    decoder d(raw, true);
    std::size_t i = 0;
    char c = 0;
    while (d.next(c)) {
        if (i == key.size()) return false;
        if (ignore_case ? detail::ascii_lower(c) != detail::ascii_lower(key[i]) : c != key[i])
            return false;
        ++i;
    }
    return i == key.size();
}

}  // namespace

void url_decode(std::string_view in, std::string& out, bool plus_is_space) {
    // Decoded output is never longer than the input.
    out.reserve(out.size() + in.size());
    decoder d(in, plus_is_space);
    char c = 0;
    while (d.next(c))
        out.push_back(c);
}

bool find_param(std::string_view qs, std::string_view key, std::string& value, bool ignore_case) {
    bool found = false;
    // Same splitting as for_each_param(), but stops at the first match.
    while (!qs.empty() && !found) {
        const std::size_t amp = qs.find('&');
        const std::string_view pair = qs.substr(0, amp);
        qs = amp == std::string_view::npos ? std::string_view{} : qs.substr(amp + 1);
        if (pair.empty()) continue;
        const std::size_t eq = pair.find('=');
        const std::string_view raw_key = pair.substr(0, eq);
        if (!decoded_equals(raw_key, key, ignore_case)) continue;
        value.clear();
        if (eq != std::string_view::npos) url_decode(pair.substr(eq + 1), value);
        found = true;
    }
    return found;
}

void url_encode(std::string_view in, std::string& out) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    out.reserve(out.size() + in.size());
    for (char c : in) {
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved) {
            out.push_back(c);
        } else {
            const auto b = static_cast<unsigned char>(c);
            out.push_back('%');
            out.push_back(k_hex[b >> 4]);
            out.push_back(k_hex[b & 15]);
        }
    }
}

}  // namespace ssepush::proto
