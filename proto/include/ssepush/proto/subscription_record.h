#pragma once
// The `SubscriptionInfo` record ServiceStack's RedisServerEvents keeps at the
// Redis key `sse:id:{subId}` (PROTOCOL.md §7.1, §7.4), written and parsed, so
// an ssepush server and a ServiceStack server can read each other's
// subscriptions (heartbeat, unregister and update requests validate against it;
// GetEventSubscribers answers with its `meta`).
//
// Writing gives what ServiceStack.Text writes inside an AppHost: camelCase
// names in ServiceStack's order, `createdAt` as the WCF date
// `"\/Date(<unix ms>)\/"`, `userName` only when non-empty, `sessionId` omitted
// when empty, every other member always present (.NET code dereferences
// `channels` and `meta` without null checks), strings escaped by json.h.
//
// Parsing is lenient where .NET readers are and total everywhere: the text
// must be one valid JSON object (simdjson: RFC 8259 and UTF-8) with a
// non-empty `subscriptionId`, otherwise the result is nullopt; nothing else
// fails it. In detail:
//   - property names match ignoring ASCII case (PascalCase from an app that
//     switched ServiceStack's default works); unknown properties are skipped;
//     a property given twice takes its last usable value;
//   - null is absent (it neither sets nor clears), and so is a value of the
//     wrong kind (an object where a string is due, say);
//   - text properties take a string, or a number or boolean as its JSON text;
//   - `channels` is an array (string items, numbers and booleans as their
//     text; null and container items skipped) or a comma-joined string;
//   - `createdAt` is "\/Date(ms)\/" (the ms may be negative and may carry a
//     timezone suffix such as "+0000", which does not change the instant;
//     the slashes are optional),
//     ISO-8601 ("2024-07-01T10:40:00.123Z": fraction optional, up to any
//     number of digits, truncated to ms; 'Z', +hh:mm, +hhmm or +hh offset; no
//     offset is UTC; a date alone is its midnight UTC), or an integer of unix
//     ms; anything else leaves 0;
//   - `isAuthenticated` is a JSON boolean or the string "true"/"false" (any
//     case);
//   - `meta`, `connectArgs`, `serverArgs` are objects; a value that is not a
//     string (number, boolean, object, array) is kept as its JSON text exactly
//     as written, null values are skipped, and a key given twice keeps its
//     first position and its last value, so keys are unique.
//
// Threading: none shared (each thread parses with its own simdjson parser and
// buffer, reused across calls). Allocation: the result's strings and vectors,
// and a padded copy of the input; the writer only grows the caller's string.
// Cost: linear in the input.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ssepush::proto {

// Ordered (name, value) pairs with unique names: a .NET Dictionary<string, string>.
using string_pairs = std::vector<std::pair<std::string, std::string>>;

struct subscription_record {
    std::string id;  // "subscriptionId"
    std::vector<std::string> channels;
    std::string user_id;
    std::string user_name;  // empty: anonymous (not written)
    std::string display_name;
    std::string session_id;  // empty: none (not written)
    std::string user_address;
    bool is_authenticated = false;
    std::int64_t created_at_ms = 0;  // unix ms
    string_pairs meta;
    string_pairs connect_args;
    string_pairs server_args;

    friend bool operator==(const subscription_record&, const subscription_record&) = default;
};

// Appends the record as ServiceStack writes it:
//   {"createdAt":"\/Date(1719830400123)\/","channels":[...],"userId":...,
//    "userName":... (when non-empty),"displayName":...,"sessionId":... (when
//    non-empty),"subscriptionId":...,"userAddress":...,"isAuthenticated":false,
//    "meta":{...},"connectArgs":{...},"serverArgs":{...}}
void write_subscription_record(const subscription_record& r, std::string& out);

// Parses a stored record (see above). nullopt when `json` is not one JSON
// object or has no non-empty subscriptionId. Never throws.
[[nodiscard]] std::optional<subscription_record> parse_subscription_record(std::string_view json);

// The text of the record's `meta` object exactly as stored (the member
// parse_subscription_record takes its meta from), for answering with it
// verbatim; empty when `record_json` is not one JSON object or has no
// object-valued meta. Never throws.
[[nodiscard]] std::string meta_json_of(std::string_view record_json);

}  // namespace ssepush::proto
