// libFuzzer target for request binding (query string, form and JSON bodies).
//
// The input is "<query>\n<content-type>\n<body>" (missing parts are empty; the
// body may hold more line breaks), which keeps the seeds readable. After
// parse(), for a fixed set of field names and the names found in the query:
//   - get(), get_raw() and type() agree on whether the field is present;
//   - get_raw() is valid JSON whenever its text is valid UTF-8 (always, for a
//     value from a JSON body), and decodes to get() for strings; for numbers,
//     booleans, objects and arrays get() is that text;
//   - get_list() of an array has one item per element; of a string value it
//     joins back (with ',') to the value without its enclosing brackets;
//   - error() is only set for a JSON body;
//   - parsing the same request again gives the same answers.
#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "ssepush/proto/request_fields.h"
#include "ssepush/proto/url.h"

using namespace ssepush::proto;

namespace {

constexpr std::string_view k_names[] = {
    "id",         "channels", "channel", "subscribeChannels", "UnsubscribeChannels",
    "customType", "from",     "message", "toUserId",          "selector",
    "a",          "",
};

simdjson::dom::parser& parser() {
    static simdjson::dom::parser p;
    return p;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out.push_back(',');
        out += items[i];
    }
    return out;
}

void check_field(const request_fields& f, std::string_view name) {
    const std::optional<std::string> v = f.get(name);
    const std::optional<std::string> raw = f.get_raw(name);
    const field_type t = f.type(name);
    const std::vector<std::string> list = f.get_list(name);
    SSEPUSH_FUZZ_CHECK(v.has_value() == raw.has_value());
    SSEPUSH_FUZZ_CHECK(v.has_value() == (t != field_type::absent));
    if (!v) {
        SSEPUSH_FUZZ_CHECK(list.empty());
        return;
    }

    simdjson::dom::element doc;
    bool parsed = false;
    if (simdjson::validate_utf8(raw->data(), raw->size())) {
        const simdjson::padded_string padded(*raw);
        SSEPUSH_FUZZ_CHECK(parser().parse(padded).get(doc) == simdjson::SUCCESS);
        parsed = true;
    }
    switch (t) {
        case field_type::string: {
            if (parsed) {
                std::string_view s;
                SSEPUSH_FUZZ_CHECK(doc.get(s) == simdjson::SUCCESS);
                SSEPUSH_FUZZ_CHECK(s == *v);
            }
            std::string_view inner = *v;
            if (inner.size() >= 2 && inner.front() == '[' && inner.back() == ']')
                inner = inner.substr(1, inner.size() - 2);
            SSEPUSH_FUZZ_CHECK(list.empty() == inner.empty());
            SSEPUSH_FUZZ_CHECK(join(list) == inner);
            break;
        }
        case field_type::number:
        case field_type::boolean:
            SSEPUSH_FUZZ_CHECK(parsed);
            SSEPUSH_FUZZ_CHECK(*v == *raw);
            SSEPUSH_FUZZ_CHECK(list.size() == 1 && list[0] == *v);
            break;
        case field_type::object:
            SSEPUSH_FUZZ_CHECK(parsed && doc.is_object());
            SSEPUSH_FUZZ_CHECK(*v == *raw);
            SSEPUSH_FUZZ_CHECK(list.empty());
            break;
        case field_type::array: {
            SSEPUSH_FUZZ_CHECK(parsed && doc.is_array());
            SSEPUSH_FUZZ_CHECK(*v == *raw);
            simdjson::dom::array arr;
            SSEPUSH_FUZZ_CHECK(doc.get(arr) == simdjson::SUCCESS);
            SSEPUSH_FUZZ_CHECK(arr.size() == list.size());
            std::size_t i = 0;
            for (const simdjson::dom::element item : arr) {
                std::string_view s;
                if (item.get(s) == simdjson::SUCCESS) SSEPUSH_FUZZ_CHECK(list[i] == s);
                ++i;
            }
            break;
        }
        case field_type::absent:
            break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::string_view query = in.substr(0, in.find('\n'));
    in.remove_prefix(std::min(in.size(), query.size() + 1));
    std::string_view content_type = in.substr(0, in.find('\n'));
    in.remove_prefix(std::min(in.size(), content_type.size() + 1));
    const std::string_view body = in;

    request_fields f;
    f.parse(query, content_type, body);
    if (!f.error().empty()) SSEPUSH_FUZZ_CHECK(f.body() == body_format::json);

    std::vector<std::string> names(std::begin(k_names), std::end(k_names));
    for_each_param(query, [&](std::string_view k, std::string_view) {
        if (names.size() >= 24) return;
        std::string name;
        url_decode(k, name);
        names.push_back(std::move(name));
    });
    for (const std::string& n : names)
        check_field(f, n);

    request_fields again;
    again.parse(query, content_type, body);
    SSEPUSH_FUZZ_CHECK(again.error() == f.error());
    for (const std::string& n : names) {
        SSEPUSH_FUZZ_CHECK(again.get(n) == f.get(n));
        SSEPUSH_FUZZ_CHECK(again.get_list(n) == f.get_list(n));
    }
    return 0;
}
