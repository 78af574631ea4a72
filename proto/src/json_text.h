#pragma once
// JSON input helpers shared by proto's readers (private to proto): the
// simdjson DOM parse that jwt.cc, request_fields.cc and subscription_record.cc
// use, and a small scanner that finds the text of values as written.
//
// parse_json() keeps one parser and one padded copy of the text per thread,
// reused by every caller in proto (simdjson reads up to SIMDJSON_PADDING bytes
// past the end of the text). The document it returns, and every string view
// into it, lives until the next parse_json() on the same thread: read it before
// calling anything that parses again. It allocates only to grow the scratch.
//
// The DOM does not keep the text of a value, so json_scanner walks the same, by
// then known valid, text in step with the DOM: the DOM iterates an object's
// members and an array's items in document order, duplicates included, so the
// n-th DOM member is the n-th member the scanner finds. The scanner is
// bounds-checked anyway: whatever it is given, it never reads past the text and
// never allocates.
#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace ssepush::proto::detail {

// JSON insignificant whitespace (RFC 8259 2).
inline bool json_ws(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

inline std::string_view skip_json_ws(std::string_view s) noexcept {
    while (!s.empty() && json_ws(s.front()))
        s.remove_prefix(1);
    return s;
}

// Parses `text` as one JSON value into `doc`, which lives until the next parse
// on this thread.
inline simdjson::error_code parse_json(std::string_view text, simdjson::dom::element& doc) {
    struct scratch {
        simdjson::dom::parser parser;
        std::string padded;
    };
    thread_local scratch s;
    s.padded.assign(text);
    s.padded.append(simdjson::SIMDJSON_PADDING, '\0');
    return s.parser.parse(s.padded.data(), text.size(), false).get(doc);
}

// Parses `text` as one JSON object; false if it is not valid JSON or not an
// object. The object lives until the next parse on this thread.
inline bool parse_json_object(std::string_view text, simdjson::dom::object& obj) {
    simdjson::dom::element doc;
    if (parse_json(text, doc) != simdjson::SUCCESS) return false;
    return doc.get(obj) == simdjson::SUCCESS;
}

// Walks the text of a valid JSON object or array and cuts out each value.
class json_scanner {
public:
    // `container` is the text of one object or array, possibly with whitespace
    // around it; the scanner starts after its opening bracket.
    explicit json_scanner(std::string_view container) noexcept : s_(container) {
        skip_ws();
        if (pos_ < s_.size()) ++pos_;  // '{' or '['
    }

    // The text of the next member's value (after an optional ',', the key and ':').
    std::string_view next_member_value() noexcept {
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == ',') ++pos_;
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == '"') pos_ = skip_string(pos_);
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == ':') ++pos_;
        return next_value();
    }

    // The text of the next array item (after an optional ',').
    std::string_view next_item() noexcept {
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == ',') ++pos_;
        return next_value();
    }

private:
    void skip_ws() noexcept {
        while (pos_ < s_.size() && json_ws(s_[pos_]))
            ++pos_;
    }

    // `i` is at a '"'; returns the index after the closing quote (at most the size).
    std::size_t skip_string(std::size_t i) const noexcept {
        ++i;
        while (i < s_.size()) {
            if (s_[i] == '\\') {
                i += 2;
            } else if (s_[i] == '"') {
                return i + 1;
            } else {
                ++i;
            }
        }
        return s_.size();
    }

    std::string_view next_value() noexcept {
        skip_ws();
        const std::size_t start = pos_;
        if (pos_ >= s_.size()) return {};
        const char c = s_[pos_];
        if (c == '"') {
            pos_ = skip_string(pos_);
        } else if (c == '{' || c == '[') {
            std::size_t depth = 0;
            while (pos_ < s_.size()) {
                const char d = s_[pos_];
                if (d == '"') {
                    pos_ = skip_string(pos_);
                    continue;
                }
                ++pos_;
                if (d == '{' || d == '[') {
                    ++depth;
                } else if ((d == '}' || d == ']') && --depth == 0) {
                    break;
                }
            }
        } else {
            while (pos_ < s_.size() && !json_ws(s_[pos_]) && s_[pos_] != ',' && s_[pos_] != '}' &&
                   s_[pos_] != ']')
                ++pos_;
        }
        return s_.substr(start, std::min(pos_, s_.size()) - start);
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

}  // namespace ssepush::proto::detail
