// The SubscriptionInfo record of `sse:id:{subId}`: writer and lenient parser.
//
// The text is validated and decoded by simdjson's DOM parser, as in jwt.cc and
// request_fields.cc. The DOM does not keep the text of a value, and two
// things need it (a dictionary value that is not a string, and meta_json_of),
// so json_scanner (json_text.h) walks the same text in step with the DOM.
#include "ssepush/proto/subscription_record.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <iterator>
#include <string_view>
#include <unordered_map>

#include "ascii.h"
#include "json_text.h"
#include "ssepush/proto/json.h"
#include "ssepush/proto/request_fields.h"

namespace ssepush::proto {
namespace {

using detail::iequals;
using detail::json_scanner;
using detail::parse_json_object;

// ---------------------------------------------------------------------------
// JSON input

// A scalar as text: a string decoded, a number or boolean as written. False
// (and `out` untouched) for null, objects and arrays.
bool scalar_text(simdjson::dom::element v, std::string_view raw, std::string& out) {
    using simdjson::dom::element_type;
    switch (v.type()) {
        case element_type::STRING: {
            std::string_view s;
            if (v.get(s) != simdjson::SUCCESS) return false;
            out.assign(s);
            return true;
        }
        case element_type::INT64:
        case element_type::UINT64:
        case element_type::DOUBLE:
        case element_type::BOOL:
            out.assign(raw);
            return true;
        default:
            return false;
    }
}

// An object of name -> text: strings decoded, other non-null values as
// written. A name given twice keeps its first position and its last value.
bool read_pairs(simdjson::dom::element v, std::string_view raw, string_pairs& out) {
    simdjson::dom::object obj;
    if (v.get(obj) != simdjson::SUCCESS) return false;
    out.clear();
    // Where each name is in `out`; the keys view the DOM, which outlives this.
    std::unordered_map<std::string_view, std::size_t> index;
    json_scanner members(raw);
    for (const simdjson::dom::key_value_pair kv : obj) {
        const std::string_view value_raw = members.next_member_value();
        if (kv.value.is_null()) continue;
        std::string value;
        if (!scalar_text(kv.value, value_raw, value)) value.assign(value_raw);  // {...} or [...]
        const auto [it, added] = index.try_emplace(kv.key, out.size());
        if (added) {
            out.emplace_back(std::string(kv.key), std::move(value));
        } else {
            out[it->second].second = std::move(value);
        }
    }
    return true;
}

// An array of texts (strings decoded, numbers and booleans as written, the
// rest skipped) or a comma-joined string.
bool read_channels(simdjson::dom::element v, std::string_view raw, std::vector<std::string>& out) {
    std::string_view list;
    if (v.get(list) == simdjson::SUCCESS) {
        out = split_channels(list);
        return true;
    }
    simdjson::dom::array arr;
    if (v.get(arr) != simdjson::SUCCESS) return false;
    out.clear();
    json_scanner items(raw);
    for (const simdjson::dom::element item : arr) {
        const std::string_view item_raw = items.next_item();
        std::string text;
        if (scalar_text(item, item_raw, text)) out.push_back(std::move(text));
    }
    return true;
}

// ---------------------------------------------------------------------------
// Dates

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap(int y) noexcept {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) noexcept {
    static constexpr int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : k_days[m - 1];
}

// "/Date(<ms>[(+|-)hhmm])/" (also with "\/" for '/'): WCF's JSON date.
std::optional<std::int64_t> parse_wcf_date(std::string_view s) noexcept {
    if (s.starts_with("\\/")) {
        s.remove_prefix(2);
    } else if (s.starts_with('/')) {
        s.remove_prefix(1);
    }
    if (!s.starts_with("Date(")) return std::nullopt;
    s.remove_prefix(5);
    if (s.ends_with(")\\/")) {
        s.remove_suffix(3);
    } else if (s.ends_with(")/")) {
        s.remove_suffix(2);
    } else if (s.ends_with(')')) {
        s.remove_suffix(1);
    } else {
        return std::nullopt;
    }
    std::int64_t ms = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), ms);
    if (r.ec != std::errc{}) return std::nullopt;
    const std::string_view zone(r.ptr, static_cast<std::size_t>(s.data() + s.size() - r.ptr));
    if (zone.empty()) return ms;
    // The offset says in which zone to show the instant; the ms are UTC.
    int hhmm = 0;
    if ((zone[0] == '+' || zone[0] == '-') && zone.size() == 5 && digits(zone, 1, 4, hhmm))
        return ms;
    return std::nullopt;
}

// ISO-8601: YYYY-MM-DD[(T|t| )hh:mm[:ss[.f+]]][Z|z|(+|-)hh[[:]mm]].
std::optional<std::int64_t> parse_iso_date(std::string_view s) noexcept {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, ms = 0;
    if (!digits(s, 0, 4, year) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, month) ||
        s[7] != '-' || !digits(s, 8, 2, day))
        return std::nullopt;
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return std::nullopt;
    std::size_t i = 10;
    if (i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        if (!digits(s, i + 1, 2, hour) || i + 3 >= s.size() || s[i + 3] != ':' ||
            !digits(s, i + 4, 2, minute))
            return std::nullopt;
        i += 6;
        if (i < s.size() && s[i] == ':') {
            if (!digits(s, i + 1, 2, second)) return std::nullopt;
            i += 3;
            if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
                ++i;
                const std::size_t start = i;
                while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
                    if (i - start < 3) ms = ms * 10 + (s[i] - '0');
                    ++i;
                }
                if (i == start) return std::nullopt;
                for (std::size_t k = i - start; k < 3; ++k)
                    ms *= 10;
            }
        }
        if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
    }
    int offset_minutes = 0;
    if (i < s.size()) {
        const char c = s[i];
        if (c == 'Z' || c == 'z') {
            ++i;
        } else if (c == '+' || c == '-') {
            int oh = 0, om = 0;
            if (!digits(s, i + 1, 2, oh)) return std::nullopt;
            i += 3;
            if (i < s.size()) {
                if (s[i] == ':') ++i;
                if (!digits(s, i, 2, om)) return std::nullopt;
                i += 2;
            }
            if (oh > 23 || om > 59) return std::nullopt;
            offset_minutes = (oh * 60 + om) * (c == '-' ? -1 : 1);
        }
    }
    if (i != s.size()) return std::nullopt;
    const std::int64_t days =
        days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return ((days * 24 + hour) * 60 + minute - offset_minutes) * 60000 + second * 1000 + ms;
}

bool read_date(simdjson::dom::element v, std::int64_t& out) {
    std::int64_t n = 0;
    if (v.is_int64() && v.get(n) == simdjson::SUCCESS) {
        out = n;
        return true;
    }
    std::string_view s;
    if (v.get(s) != simdjson::SUCCESS) return false;
    auto ms = parse_wcf_date(s);
    if (!ms) ms = parse_iso_date(s);
    if (!ms) return false;
    out = *ms;
    return true;
}

bool read_bool(simdjson::dom::element v, bool& out) {
    bool b = false;
    if (v.get(b) == simdjson::SUCCESS) {
        out = b;
        return true;
    }
    std::string_view s;
    if (v.get(s) != simdjson::SUCCESS) return false;
    if (iequals(s, "true")) {
        out = true;
    } else if (iequals(s, "false")) {
        out = false;
    } else {
        return false;
    }
    return true;
}

// ---------------------------------------------------------------------------
// Members

enum class member : std::uint8_t {
    created_at,
    channels,
    user_id,
    user_name,
    display_name,
    session_id,
    subscription_id,
    user_address,
    is_authenticated,
    meta,
    connect_args,
    server_args,
    unknown,
};

struct member_name {
    std::string_view name;
    member m;
};

// ServiceStack's order, which is also the order the writer uses.
constexpr member_name k_members[] = {
    {"createdAt", member::created_at},
    {"channels", member::channels},
    {"userId", member::user_id},
    {"userName", member::user_name},
    {"displayName", member::display_name},
    {"sessionId", member::session_id},
    {"subscriptionId", member::subscription_id},
    {"userAddress", member::user_address},
    {"isAuthenticated", member::is_authenticated},
    {"meta", member::meta},
    {"connectArgs", member::connect_args},
    {"serverArgs", member::server_args},
};

static_assert(std::size(k_members) == static_cast<std::size_t>(member::unknown));

member member_of(std::string_view name) noexcept {
    for (const member_name& n : k_members) {
        if (iequals(n.name, name)) return n.m;
    }
    return member::unknown;
}

std::string_view name_of(member m) noexcept {
    return k_members[static_cast<std::size_t>(m)].name;
}

void write_pairs(json_writer& w, member m, const string_pairs& pairs) {
    w.key(name_of(m)).begin_object();
    for (const auto& [name, value] : pairs)
        w.member(name, value);
    w.end_object();
}

}  // namespace

void write_subscription_record(const subscription_record& r, std::string& out) {
    json_writer w(out);
    w.begin_object();

    // "\/Date(<ms>)\/", with the escaped slashes ServiceStack.Text writes.
    char date[48] = "\"\\/Date(";
    constexpr std::size_t k_date_prefix = 8;
    const auto end = std::to_chars(date + k_date_prefix, date + sizeof date, r.created_at_ms).ptr;
    constexpr std::string_view k_date_suffix = ")\\/\"";
    std::string_view(k_date_suffix).copy(end, k_date_suffix.size());
    w.key(name_of(member::created_at))
        .raw(std::string_view(date, static_cast<std::size_t>(end - date) + k_date_suffix.size()));

    w.key(name_of(member::channels)).begin_array();
    for (const std::string& c : r.channels)
        w.value(c);
    w.end_array();
    w.member(name_of(member::user_id), r.user_id);
    if (!r.user_name.empty()) w.member(name_of(member::user_name), r.user_name);
    w.member(name_of(member::display_name), r.display_name);
    if (!r.session_id.empty()) w.member(name_of(member::session_id), r.session_id);
    w.member(name_of(member::subscription_id), r.id);
    w.member(name_of(member::user_address), r.user_address);
    w.member(name_of(member::is_authenticated), r.is_authenticated);
    write_pairs(w, member::meta, r.meta);
    write_pairs(w, member::connect_args, r.connect_args);
    write_pairs(w, member::server_args, r.server_args);
    w.end_object();
}

std::optional<subscription_record> parse_subscription_record(std::string_view json) {
    simdjson::dom::object obj;
    if (!parse_json_object(json, obj)) return std::nullopt;
    subscription_record r;
    json_scanner members(json);
    for (const simdjson::dom::key_value_pair kv : obj) {
        const std::string_view raw = members.next_member_value();
        if (kv.value.is_null()) continue;
        switch (member_of(kv.key)) {
            case member::created_at:
                read_date(kv.value, r.created_at_ms);
                break;
            case member::channels:
                read_channels(kv.value, raw, r.channels);
                break;
            case member::user_id:
                scalar_text(kv.value, raw, r.user_id);
                break;
            case member::user_name:
                scalar_text(kv.value, raw, r.user_name);
                break;
            case member::display_name:
                scalar_text(kv.value, raw, r.display_name);
                break;
            case member::session_id:
                scalar_text(kv.value, raw, r.session_id);
                break;
            case member::subscription_id:
                scalar_text(kv.value, raw, r.id);
                break;
            case member::user_address:
                scalar_text(kv.value, raw, r.user_address);
                break;
            case member::is_authenticated:
                read_bool(kv.value, r.is_authenticated);
                break;
            case member::meta:
                read_pairs(kv.value, raw, r.meta);
                break;
            case member::connect_args:
                read_pairs(kv.value, raw, r.connect_args);
                break;
            case member::server_args:
                read_pairs(kv.value, raw, r.server_args);
                break;
            case member::unknown:
                break;
        }
    }
    if (r.id.empty()) return std::nullopt;
    return r;
}

std::string meta_json_of(std::string_view record_json) {
    simdjson::dom::object obj;
    if (!parse_json_object(record_json, obj)) return {};
    std::string_view meta;
    json_scanner members(record_json);
    for (const simdjson::dom::key_value_pair kv : obj) {
        const std::string_view raw = members.next_member_value();
        if (kv.value.is_object() && member_of(kv.key) == member::meta) meta = raw;
    }
    return std::string(meta);
}

}  // namespace ssepush::proto
