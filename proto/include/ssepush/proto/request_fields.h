#pragma once
// ServiceStack-style request binding: the named fields of a request DTO, read
// from the query string, a form body or a JSON body (PROTOCOL.md §1.3-1.5).
//
// ServiceStack fills a request DTO in two steps (RestHandler.CreateRequestAsync):
// it first deserializes the body by its Content-Type, then copies the query
// string and form parameters over it, form after query. Field names are matched
// ASCII-case-insensitively everywhere (`Channels`, `channels`, `CHANNELS`).
// request_fields reproduces that, so for one field name:
//
//   1. form body parameters, if any has this name, else
//   2. query string parameters, if any has this name, else
//   3. the JSON body's member of this name.
//
// Several query (or form) parameters with the same name are one value, joined
// with ',' in order, as ASP.NET's NameValueCollection does: `?channels=A&Channels=B`
// is "A,B". In a JSON body the last member of a name wins (the deserializer
// assigns members in order), and a `null` member counts as absent.
//
// Which body is read:
//   - Content-Type application/x-www-form-urlencoded: a form;
//   - Content-Type application/json or text/json: JSON;
//   - no Content-Type and the body starts with '{' (after whitespace): JSON;
//   - anything else (text/plain heartbeats, multipart): the body is ignored.
// Parameters of a Content-Type ("; charset=utf-8") are ignored; media types
// match case-insensitively. A UTF-8 byte order mark before JSON is skipped.
// An empty or all-whitespace JSON body has no fields and is not an error.
// ServiceStack reads form parameters only for methods with a body (POST, PUT,
// PATCH): pass an empty body for the others.
//
// A JSON body is validated completely (simdjson DOM, RFC 8259 plus UTF-8
// validation); a body that is not valid JSON, or whose top level is not an
// object, yields no JSON fields and sets error() (answer 400, as ServiceStack
// does on a SerializationException). Integers beyond 64 bits are rejected by
// the validator. Query strings and forms never fail: url_decode() is lenient.
//
// Values:
//   - query and form values are URL-decoded ('+' is a space);
//   - JSON strings are unescaped; numbers and true/false are their text as
//     written in the body; objects and arrays are their JSON text as written
//     (it may span lines and contain insignificant whitespace).
// get_list() reads a list field (PROTOCOL.md §1.4/§1.5): a JSON array gives its
// items (strings unescaped, any other item as its JSON text); a string value
// (query, form, JSON string, number) is split on ',' after removing one pair of
// enclosing brackets (ServiceStack's JSV list form "[A,B]"). Items are not
// trimmed or de-duplicated and empty items are kept (",A" is "", "A"); an empty
// string, and "[]", give an empty list. A JSON object gives an empty list.
//
// Threading: a request_fields is used by one thread at a time; parse() keeps a
// thread-local JSON parser whose buffers grow to the largest body seen on that
// thread (bodies are bounded by the engine's request size limit).
// Allocation: parse() copies names and values; this is for the small request
// bodies of the service endpoints, not for the fan-out path.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ssepush::proto {

// What a field holds. Query and form values are always strings.
enum class field_type : std::uint8_t { absent, string, number, boolean, object, array };

// Which body parse() read fields from.
enum class body_format : std::uint8_t { none, form, json };

class request_fields {
public:
    // Replaces the fields with those of this request. `query` is the part of the
    // target after '?' (a leading '?' is skipped); `content_type` the value of the
    // Content-Type header, empty when there is none. Never fails: a malformed body
    // is reported through error().
    void parse(std::string_view query, std::string_view content_type, std::string_view body);

    // Forgets every field and the error.
    void clear() noexcept;

    // The value of the field, by the precedence above; nullopt if absent (or JSON null).
    [[nodiscard]] std::optional<std::string> get(std::string_view name) const;

    // The field as a list of strings (see above); empty if absent.
    [[nodiscard]] std::vector<std::string> get_list(std::string_view name) const;

    // The field as JSON text: a JSON body's value as written (objects, arrays,
    // strings with their quotes and escapes, numbers); a query or form value as a
    // JSON string (json_string()). nullopt if absent.
    [[nodiscard]] std::optional<std::string> get_raw(std::string_view name) const;

    // What the field holds; field_type::absent if absent (or JSON null).
    [[nodiscard]] field_type type(std::string_view name) const;

    // Empty if the request was fine, else why the body was rejected.
    [[nodiscard]] std::string_view error() const noexcept { return error_; }

    [[nodiscard]] body_format body() const noexcept { return body_; }

private:
    enum class origin : std::uint8_t { query, form, json };
    struct entry {
        origin from;
        field_type type;  // absent for a JSON null
        std::string name;
        std::string value;               // decoded / unescaped / text as written
        std::string raw;                 // JSON values only: the value as written
        std::vector<std::string> items;  // JSON arrays only
    };

    bool join(origin from, std::string_view name, std::string& out) const;
    const entry* find_json(std::string_view name) const;
    void parse_params(origin from, std::string_view params);
    void parse_json(std::string_view body);

    std::vector<entry> entries_;
    std::string error_;
    body_format body_ = body_format::none;
};

// Splits a channel list on ',' only (PROTOCOL.md §1.1): no trimming, no
// de-duplication, empty items kept ("A,,B" is "A", "", "B"); an empty list is
// empty.
[[nodiscard]] std::vector<std::string> split_channels(std::string_view list);

// The value of the first cookie called `name` (case-sensitive) in a Cookie
// header ("a=b; c=d", RFC 6265 §4.2.1), without decoding; whitespace around
// names and values is dropped; pieces without '=' are skipped. nullopt if absent.
// The view points into `cookie_header`.
[[nodiscard]] std::optional<std::string_view> cookie(std::string_view cookie_header,
                                                     std::string_view name) noexcept;

}  // namespace ssepush::proto
