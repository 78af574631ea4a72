// Request binding: query string, form and JSON body fields.
//
// A JSON body is validated and decoded by simdjson's DOM parser; the DOM does
// not keep the text of a value, so json_scanner (json_text.h) walks the same
// text in step with the DOM to cut out each member's text as written.
#include "ssepush/proto/request_fields.h"

#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <utility>

#include "ascii.h"
#include "json_text.h"
#include "ssepush/proto/json.h"
#include "ssepush/proto/url.h"

namespace ssepush::proto {
namespace {

using detail::iequals;
using detail::json_scanner;
using detail::skip_json_ws;

bool ows(char c) noexcept {
    return c == ' ' || c == '\t';
}

std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && ows(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && ows(s.back()))
        s.remove_suffix(1);
    return s;
}

// The media type of a Content-Type value, without parameters or whitespace.
std::string_view media_type(std::string_view content_type) noexcept {
    return trim_ows(content_type.substr(0, content_type.find(';')));
}

// Splits a string value into list items: one pair of enclosing brackets
// removed, then split on ','.
std::vector<std::string> split_list(std::string_view v) {
    if (v.size() >= 2 && v.front() == '[' && v.back() == ']') v = v.substr(1, v.size() - 2);
    return split_channels(v);
}

field_type type_of(simdjson::dom::element_type t) noexcept {
    using simdjson::dom::element_type;
    switch (t) {
        case element_type::STRING:
            return field_type::string;
        case element_type::INT64:
        case element_type::UINT64:
        case element_type::DOUBLE:
            return field_type::number;
        case element_type::BOOL:
            return field_type::boolean;
        case element_type::OBJECT:
            return field_type::object;
        case element_type::ARRAY:
            return field_type::array;
        case element_type::NULL_VALUE:
            break;
    }
    return field_type::absent;
}

}  // namespace

void request_fields::clear() noexcept {
    entries_.clear();
    error_.clear();
    body_ = body_format::none;
}

void request_fields::parse(std::string_view query, std::string_view content_type,
                           std::string_view body) {
    clear();
    if (!query.empty() && query.front() == '?') query.remove_prefix(1);
    parse_params(origin::query, query);

    const std::string_view media = media_type(content_type);
    if (iequals(media, "application/x-www-form-urlencoded")) {
        body_ = body_format::form;
        parse_params(origin::form, body);
    } else if (iequals(media, "application/json") || iequals(media, "text/json")) {
        body_ = body_format::json;
        parse_json(body);
    } else if (media.empty()) {
        std::string_view b = body;
        if (b.starts_with("\xEF\xBB\xBF")) b.remove_prefix(3);
        b = skip_json_ws(b);
        if (!b.empty() && b.front() == '{') {
            body_ = body_format::json;
            parse_json(body);
        }
    }
}

void request_fields::parse_params(origin from, std::string_view params) {
    for_each_param(params, [&](std::string_view k, std::string_view v) {
        entry e{from, field_type::string, {}, {}, {}, {}};
        url_decode(k, e.name);
        url_decode(v, e.value);
        entries_.push_back(std::move(e));
    });
}

void request_fields::parse_json(std::string_view body) {
    if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
    if (skip_json_ws(body).empty()) return;

    simdjson::dom::element doc;
    if (const auto err = detail::parse_json(body, doc); err) {
        error_ = "body is not valid JSON: ";
        error_ += simdjson::error_message(err);
        return;
    }
    simdjson::dom::object obj;
    if (doc.get(obj) != simdjson::SUCCESS) {
        error_ = "body is not a JSON object";
        return;
    }

    json_scanner members(body);
    for (const simdjson::dom::key_value_pair kv : obj) {
        const std::string_view raw = members.next_member_value();
        entry e{origin::json, type_of(kv.value.type()), std::string(kv.key),
                {},           std::string(raw),         {}};
        switch (e.type) {
            case field_type::string: {
                std::string_view s;
                if (kv.value.get(s) == simdjson::SUCCESS) e.value.assign(s);
                break;
            }
            case field_type::array: {
                e.value.assign(raw);
                simdjson::dom::array arr;
                if (kv.value.get(arr) != simdjson::SUCCESS) break;
                json_scanner items(raw);
                for (const simdjson::dom::element item : arr) {
                    const std::string_view item_raw = items.next_item();
                    std::string_view s;
                    if (item.get(s) == simdjson::SUCCESS) {
                        e.items.emplace_back(s);
                    } else {
                        e.items.emplace_back(item_raw);
                    }
                }
                break;
            }
            case field_type::absent:  // null
                e.raw.clear();
                break;
            default:  // numbers, booleans and objects: their text as written
                e.value.assign(raw);
                break;
        }
        entries_.push_back(std::move(e));
    }
}

bool request_fields::join(origin from, std::string_view name, std::string& out) const {
    bool found = false;
    for (const entry& e : entries_) {
        if (e.from != from || !iequals(e.name, name)) continue;
        if (found) out.push_back(',');
        out += e.value;
        found = true;
    }
    return found;
}

const request_fields::entry* request_fields::find_json(std::string_view name) const {
    const entry* last = nullptr;
    for (const entry& e : entries_) {
        if (e.from == origin::json && iequals(e.name, name)) last = &e;
    }
    return last;
}

std::optional<std::string> request_fields::get(std::string_view name) const {
    std::string v;
    if (join(origin::form, name, v) || join(origin::query, name, v)) return v;
    const entry* e = find_json(name);
    if (e == nullptr || e->type == field_type::absent) return std::nullopt;
    return e->value;
}

std::vector<std::string> request_fields::get_list(std::string_view name) const {
    std::string v;
    if (join(origin::form, name, v) || join(origin::query, name, v)) return split_list(v);
    const entry* e = find_json(name);
    if (e == nullptr) return {};
    switch (e->type) {
        case field_type::array:
            return e->items;
        case field_type::string:
        case field_type::number:
        case field_type::boolean:
            return split_list(e->value);
        case field_type::object:
        case field_type::absent:
            break;
    }
    return {};
}

std::optional<std::string> request_fields::get_raw(std::string_view name) const {
    std::string v;
    if (join(origin::form, name, v) || join(origin::query, name, v)) {
        std::string out;
        json_string(v, out);
        return out;
    }
    const entry* e = find_json(name);
    if (e == nullptr || e->type == field_type::absent) return std::nullopt;
    return e->raw;
}

field_type request_fields::type(std::string_view name) const {
    std::string v;
    if (join(origin::form, name, v) || join(origin::query, name, v)) return field_type::string;
    const entry* e = find_json(name);
    return e == nullptr ? field_type::absent : e->type;
}

std::vector<std::string> split_channels(std::string_view list) {
    std::vector<std::string> out;
    if (list.empty()) return out;
    while (true) {
        const std::size_t comma = list.find(',');
        out.emplace_back(list.substr(0, comma));
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return out;
}

std::optional<std::string_view> cookie(std::string_view cookie_header,
                                       std::string_view name) noexcept {
    while (!cookie_header.empty()) {
        const std::size_t semi = cookie_header.find(';');
        const std::string_view pair = cookie_header.substr(0, semi);
        cookie_header =
            semi == std::string_view::npos ? std::string_view{} : cookie_header.substr(semi + 1);
        const std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        if (trim_ows(pair.substr(0, eq)) == name) return trim_ows(pair.substr(eq + 1));
    }
    return std::nullopt;
}

}  // namespace ssepush::proto
