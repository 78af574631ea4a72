// JSON string escaping and the json_writer.
//
// Escaping is one pass over the input with a 256-entry table: bytes that need
// nothing are appended in runs, so a message without special characters costs
// one table lookup per byte and one append. The byte 0xC2 is the lead byte of
// the two-byte UTF-8 forms of U+0080..U+00BF; it is escaped (with the byte
// after it) only when that byte makes a C1 control, U+0080..U+009F.
#include "ssepush/proto/json.h"

#include <array>
#include <charconv>
#include <cmath>

namespace ssepush::proto {
namespace {

// What to do with a byte: 0 copy it; 'u' write \u00XX; 'L' it may start a C1
// control (0xC2); anything else: write a backslash and that character.
constexpr std::array<char, 256> make_escape_table() {
    std::array<char, 256> t{};
    for (int c = 0; c < 0x20; ++c)
        t[c] = 'u';
    t['\b'] = 'b';
    t['\t'] = 't';
    t['\n'] = 'n';
    t['\f'] = 'f';
    t['\r'] = 'r';
    t['"'] = '"';
    t['\\'] = '\\';
    t[0x7f] = 'u';
    t[0xc2] = 'L';
    return t;
}

constexpr std::array<char, 256> k_escape = make_escape_table();
constexpr char k_hex_upper[] = "0123456789ABCDEF";

void append_u00(std::string& out, unsigned code) {
    const char seq[6] = {
        '\\', 'u', '0', '0', k_hex_upper[(code >> 4) & 15], k_hex_upper[code & 15]};
    out.append(seq, sizeof seq);
}

}  // namespace

void json_escape(std::string_view s, std::string& out) {
    const std::size_t n = s.size();
    std::size_t run = 0;  // start of the bytes not yet copied
    for (std::size_t i = 0; i < n; ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        const char action = k_escape[b];
        if (action == 0) continue;
        if (action == 'L') {
            if (i + 1 >= n) continue;
            const auto next = static_cast<unsigned char>(s[i + 1]);
            if (next < 0x80 || next > 0x9f) continue;
            out.append(s.data() + run, i - run);
            append_u00(out, next);
            ++i;
            run = i + 1;
            continue;
        }
        out.append(s.data() + run, i - run);
        run = i + 1;
        if (action == 'u') {
            append_u00(out, b);
        } else {
            const char seq[2] = {'\\', action};
            out.append(seq, 2);
        }
    }
    out.append(s.data() + run, n - run);
}

void json_string(std::string_view s, std::string& out) {
    out.push_back('"');
    json_escape(s, out);
    out.push_back('"');
}

// ---------------------------------------------------------------------------
// json_writer. Level d (0-based) is the container opened by the (d+1)-th
// unclosed begin_*; its state lives in bit d of has_items_ and is_object_.

bool json_writer::before_value() {
    if (error_) return false;
    if (depth_ == 0) {
        if (top_done_) {
            error_ = true;
            return false;
        }
        top_done_ = true;
        return true;
    }
    const std::uint64_t bit = std::uint64_t{1} << (depth_ - 1);
    if (is_object_ & bit) {
        if (!after_key_) {
            error_ = true;
            return false;
        }
        after_key_ = false;
        return true;
    }
    if (has_items_ & bit) out_.push_back(',');
    has_items_ |= bit;
    return true;
}

json_writer& json_writer::open(char bracket, bool object) {
    if (!before_value()) return *this;
    if (depth_ >= k_max_depth) {
        error_ = true;
        return *this;
    }
    const std::uint64_t bit = std::uint64_t{1} << depth_;
    has_items_ &= ~bit;
    if (object) {
        is_object_ |= bit;
    } else {
        is_object_ &= ~bit;
    }
    ++depth_;
    out_.push_back(bracket);
    return *this;
}

json_writer& json_writer::close(char bracket, bool object) {
    if (error_) return *this;
    if (depth_ == 0 || after_key_ ||
        ((is_object_ >> (depth_ - 1)) & 1) != static_cast<std::uint64_t>(object)) {
        error_ = true;
        return *this;
    }
    --depth_;
    out_.push_back(bracket);
    return *this;
}

json_writer& json_writer::begin_object() {
    return open('{', true);
}
json_writer& json_writer::end_object() {
    return close('}', true);
}
json_writer& json_writer::begin_array() {
    return open('[', false);
}
json_writer& json_writer::end_array() {
    return close(']', false);
}

json_writer& json_writer::key(std::string_view name) {
    if (error_) return *this;
    const std::uint64_t bit = depth_ == 0 ? 0 : std::uint64_t{1} << (depth_ - 1);
    if (depth_ == 0 || !(is_object_ & bit) || after_key_) {
        error_ = true;
        return *this;
    }
    if (has_items_ & bit) out_.push_back(',');
    has_items_ |= bit;
    json_string(name, out_);
    out_.push_back(':');
    after_key_ = true;
    return *this;
}

json_writer& json_writer::value(std::string_view s) {
    if (before_value()) json_string(s, out_);
    return *this;
}

json_writer& json_writer::value(std::int64_t v) {
    if (!before_value()) return *this;
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
}

json_writer& json_writer::value(std::uint64_t v) {
    if (!before_value()) return *this;
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
}

json_writer& json_writer::value(double v) {
    if (!before_value()) return *this;
    if (!std::isfinite(v)) {
        out_.append("null");
        return *this;
    }
    char buf[32];  // the shortest form of a double is at most 24 characters
    // Beyond 2^53 a whole number is written in exponent form: the plain form
    // ("4268556780410216382464") would read as an integer too big for 64-bit
    // JSON readers (simdjson rejects it).
    const auto r = std::fabs(v) >= 0x1p53
                       ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific)
                       : std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
}

json_writer& json_writer::value(bool v) {
    if (before_value()) out_.append(v ? "true" : "false");
    return *this;
}

json_writer& json_writer::null() {
    if (before_value()) out_.append("null");
    return *this;
}

json_writer& json_writer::raw(std::string_view json) {
    if (json.empty() && !error_) {
        error_ = true;  // nothing is not a JSON value
        return *this;
    }
    if (before_value()) out_.append(json);
    return *this;
}

}  // namespace ssepush::proto
