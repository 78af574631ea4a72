#pragma once
// JSON text writer with ServiceStack.Text's string escaping.
//
// Every frame body and every JSON response ssepush writes goes through here, so
// the bytes match what a ServiceStack host sends (PROTOCOL.md §2.3): `"` and `\`
// are escaped, the control characters U+0000..U+001F as `\b \t \n \f \r` or
// `\u00XX` (upper-case hex), and, as .NET's char.IsControl() also covers them,
// DEL (U+007F) and the C1 controls U+0080..U+009F as `\u00XX`. Everything else,
// non-ASCII UTF-8 included, is written raw; '/' is not escaped.
//
// Input is bytes, not necessarily valid UTF-8. Invalid sequences are copied as
// they are (the output is then as invalid as the input, never worse), but a raw
// control byte is never written: the output is always one line and never ends a
// JSON string early.
//
// `json_writer` adds the punctuation (commas, colons, brackets) and tracks
// nesting up to k_max_depth levels. Misuse (a value in an object without a key,
// an unbalanced end, a second top-level value, nesting too deep) sets an error
// flag instead of crashing; once set, later calls write nothing. Check ok() or
// complete() before using the text.
//
// Threading: none. Allocation: only growth of the caller's string.
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace ssepush::proto {

namespace detail {
template <class T>
concept character = std::same_as<T, char> || std::same_as<T, wchar_t> || std::same_as<T, char8_t> ||
    std::same_as<T, char16_t> || std::same_as<T, char32_t>;
template <class T>
concept other_integer = std::integral<T> && !std::same_as<T, bool> && !character<T> &&
                        !std::same_as<T, std::int64_t> && !std::same_as<T, std::uint64_t>;
}  // namespace detail

// Appends `s` escaped for use inside a JSON string literal (no quotes).
void json_escape(std::string_view s, std::string& out);

// Appends `s` as a JSON string literal: '"', json_escape(s), '"'.
void json_string(std::string_view s, std::string& out);

class json_writer {
public:
    static constexpr std::size_t k_max_depth = 32;

    explicit json_writer(std::string& out) noexcept : out_(out) {}

    json_writer& begin_object();
    json_writer& end_object();
    json_writer& begin_array();
    json_writer& end_array();

    // The name of the next member of the current object.
    json_writer& key(std::string_view name);

    json_writer& value(std::string_view s);  // a JSON string
    json_writer& value(const char* s) { return value(std::string_view(s)); }
    json_writer& value(const std::string& s) { return value(std::string_view(s)); }
    json_writer& value(std::int64_t v);
    json_writer& value(std::uint64_t v);
    json_writer& value(double v);  // shortest round-trip form; NaN and infinities as null
    json_writer& value(bool v);
    // Other integer types (int, unsigned, short, ...) as numbers. Character types
    // and bool are not numbers: value('x') does not compile.
    template <class Int>
    requires detail::other_integer<Int> json_writer& value(Int v) {
        if constexpr (std::is_signed_v<Int>) {
            return value(static_cast<std::int64_t>(v));
        } else {
            return value(static_cast<std::uint64_t>(v));
        }
    }
    json_writer& null();

    // Pre-serialized JSON text, written verbatim in a value position. The caller
    // vouches for it being one complete JSON value; an empty `json` is an error.
    json_writer& raw(std::string_view json);

    // key(name) then value(v).
    template <class T>
    json_writer& member(std::string_view name, const T& v) {
        key(name);
        return value(v);
    }

    // No misuse so far.
    [[nodiscard]] bool ok() const noexcept { return !error_; }
    // ok(), every container closed, and exactly one top-level value written.
    [[nodiscard]] bool complete() const noexcept { return !error_ && depth_ == 0 && top_done_; }
    [[nodiscard]] std::size_t depth() const noexcept { return depth_; }

private:
    bool before_value();
    json_writer& open(char bracket, bool object);
    json_writer& close(char bracket, bool object);

    std::string& out_;
    std::uint64_t has_items_ = 0;  // bit d: the container at level d has an element
    std::uint64_t is_object_ = 0;  // bit d: the container at level d is an object
    std::uint32_t depth_ = 0;
    bool after_key_ = false;  // inside an object, a key was written, its value is due
    bool top_done_ = false;
    bool error_ = false;
};

}  // namespace ssepush::proto
