// ssepushd's configuration loader. One table (rows()) describes every setting;
// the flag, the environment variable, the TOML key, --help and the
// --check-config summary are all derived from it.
//
// Derivation: key "events.idle_timeout" is TOML key idle_timeout in table
// [events]; its environment variable is SSEPUSH_ + the key upper-cased with
// '.' -> '_' (SSEPUSH_EVENTS_IDLE_TIMEOUT); its flag drops the section and
// turns '_' into '-' (--idle-timeout). Dropping the section means a name must
// be unique across sections (checked before the first flag is read, and by
// config_test).
//
// Values: strings; booleans (--demo, --no-demo, --demo=false; env and file
// true/false); whole numbers; sizes (65536, 64KiB, 1MiB, 1GiB); durations,
// which need a unit (500ms, 10s, 2m, 1h) except through the older *-ms flags;
// enumerations; lists (a TOML array; comma-separated in env and flags, and
// repeated flags add up). A list from a higher source replaces the lower one.
//
// Every source is validated in full, even where a higher one overrides it, so
// a file that --check-config accepts is valid on its own.
#include "config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>

#include <toml++/toml.h>

#include "ssepush/events/redis_provider.h"
#include "ssepush/proto/servicestack.h"

#ifndef SSEPUSH_VERSION
#define SSEPUSH_VERSION "0.1.0"
#endif

namespace ssepushd {

namespace {

namespace proto = ssepush::proto;

constexpr std::uint64_t k_kib = 1024;
constexpr std::uint64_t k_mib = 1024 * k_kib;
constexpr std::uint64_t k_gib = 1024 * k_mib;
constexpr std::uint64_t k_second_ms = 1000;
constexpr std::uint64_t k_minute_ms = 60 * k_second_ms;
constexpr std::uint64_t k_hour_ms = 60 * k_minute_ms;
constexpr std::uint64_t k_day_ms = 24 * k_hour_ms;
// io_uring's registered file table holds at most 2^20 descriptors per ring.
constexpr std::uint64_t k_max_connections_per_shard = 1u << 20;
constexpr std::string_view k_env_prefix = "SSEPUSH_";
constexpr std::string_view k_config_env = "SSEPUSH_CONFIG";

enum class kind : std::uint8_t { string, boolean, unsigned_int, size, duration, enumeration, list };

// One parsed value; which member counts depends on the row's kind.
struct value {
    std::string text;          // string
    bool on = false;           // boolean
    std::uint64_t number = 0;  // unsigned, bytes, milliseconds, enumeration index
    std::vector<std::string> list;
};

// What is wrong with one value; the caller adds the key and the source.
struct bad_value {
    std::string why;
};

value text_of(std::string s) {
    value v;
    v.text = std::move(s);
    return v;
}
value number_of(std::uint64_t n) {
    value v;
    v.number = n;
    return v;
}
value bool_of(bool b) {
    value v;
    v.on = b;
    return v;
}
value list_of(std::vector<std::string> l) {
    value v;
    v.list = std::move(l);
    return v;
}
value ms_of(std::chrono::milliseconds d) {
    return number_of(std::uint64_t(d.count()));
}

using getter = value (*)(const daemon_config&);
using setter = void (*)(daemon_config&, const value&);
using checker = void (*)(const value&);  // throws bad_value

struct option_row {
    std::string_view key{};
    kind type = kind::string;
    std::string_view metavar{};  // strings and lists: what the value is
    std::string_view help{};     // one line
    std::uint64_t min = 0;       // numeric kinds
    std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    std::string_view range_note{};  // appended to a range error
    std::span<const std::string_view> choices{};
    std::uint64_t granularity_ms = 1;  // durations
    bool secret = false;               // never printed nor echoed in errors
    getter get = nullptr;
    setter set = nullptr;
    checker check = nullptr;
};

// --- value checks --------------------------------------------------------------------

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

bool is_ipv4(std::string_view s) {
    in_addr a{};
    return inet_pton(AF_INET, std::string(s).c_str(), &a) == 1;
}
bool is_ipv6(std::string_view s) {
    in6_addr a{};
    return inet_pton(AF_INET6, std::string(s).c_str(), &a) == 1;
}

std::optional<std::uint64_t> parse_digits(std::string_view s) {
    std::uint64_t n = 0;
    if (s.empty()) return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return n;
}

std::uint16_t parse_port(std::string_view s) {
    auto n = parse_digits(s);
    if (!n || *n > 65535)
        throw bad_value{"the port must be a number from 0 to 65535, got '" + std::string(s) + "'"};
    return std::uint16_t(*n);
}

// A host as --listen / --address take it: an IP literal or "localhost"
// (names are not resolved: the daemon binds one address, known before start).
std::string listen_host(std::string_view host, bool bare_ipv6) {
    if (host.empty())
        throw bad_value{"missing host: use 0.0.0.0:PORT for every IPv4 address, [::]:PORT for all"};
    if (iequals(host, "localhost")) return "127.0.0.1";
    if (is_ipv4(host)) return std::string(host);
    if (bare_ipv6 && is_ipv6(host)) return std::string(host);
    throw bad_value{"'" + std::string(host) +
                    "' is not an IP address: use an IPv4 address, [IPv6] or localhost "
                    "(host names are not resolved)"};
}

struct endpoint {
    std::string address;
    std::uint16_t port = 0;
};

endpoint parse_listen(std::string_view s) {
    endpoint ep;
    if (s.starts_with('[')) {
        const auto close = s.find(']');
        if (close == std::string_view::npos)
            throw bad_value{"missing ']' in '" + std::string(s) + "'"};
        const std::string_view host = s.substr(1, close - 1);
        const std::string_view rest = s.substr(close + 1);
        if (!rest.starts_with(':'))
            throw bad_value{"expected [IPv6]:PORT, got '" + std::string(s) + "'"};
        if (!is_ipv6(host)) throw bad_value{"'" + std::string(host) + "' is not an IPv6 address"};
        ep.address = std::string(host);
        ep.port = parse_port(rest.substr(1));
        return ep;
    }
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos)
        throw bad_value{"expected HOST:PORT (like 127.0.0.1:8080 or [::1]:8080), got '" +
                        std::string(s) + "'"};
    const std::string_view host = s.substr(0, colon);
    if (host.find(':') != std::string_view::npos)
        throw bad_value{"an IPv6 address needs brackets: [" + std::string(host) +
                        "]:" + std::string(s.substr(colon + 1))};
    ep.address = listen_host(host, false);
    ep.port = parse_port(s.substr(colon + 1));
    return ep;
}

std::string format_endpoint(const endpoint& ep) {
    const bool v6 = ep.address.find(':') != std::string::npos;
    return (v6 ? "[" + ep.address + "]" : ep.address) + ":" + std::to_string(ep.port);
}

void check_listen(const value& v) {
    (void)parse_listen(v.text);
}

void check_path(const value& v) {
    if (v.text.empty()) return;
    if (v.text[0] != '/')
        throw bad_value{"must start with '/' (or be empty to turn the endpoint off), got '" +
                        v.text + "'"};
    if (v.text.find_first_of("?# ") != std::string::npos)
        throw bad_value{"must be a plain path, without '?', '#' or spaces, got '" + v.text + "'"};
}

// "http(s)://host[:port]" followed by what `rest_ok` allows after the host.
bool is_http_url(std::string_view s, bool path_allowed) {
    std::string_view rest;
    if (s.starts_with("https://")) {
        rest = s.substr(8);
    } else if (s.starts_with("http://")) {
        rest = s.substr(7);
    } else {
        return false;
    }
    const auto slash = rest.find('/');
    const std::string_view host = rest.substr(0, slash);
    if (host.empty() || host.find_first_of(" ?#") != std::string_view::npos) return false;
    return path_allowed || slash == std::string_view::npos;
}

void check_base_url(const value& v) {
    if (v.text.empty()) return;
    if (!is_http_url(v.text, true) || v.text.find_first_of("?# ") != std::string::npos)
        throw bad_value{"expected an absolute URL like https://push.example.com, got '" + v.text +
                        "'"};
    if (v.text.ends_with('/'))
        throw bad_value{"must not end with '/' (the paths are appended to it), got '" + v.text +
                        "'"};
}

void check_url(const value& v) {
    if (v.text.empty()) return;
    if (!is_http_url(v.text, true) && !v.text.starts_with("data:") && !v.text.starts_with('/'))
        throw bad_value{"expected an http(s) URL, a data: URL or a path, got '" + v.text + "'"};
}

void check_origins(const value& v) {
    for (const auto& o : v.list) {
        if (o == "*") continue;
        if (has_control(o) || !is_http_url(o, false))
            throw bad_value{"'" + o +
                            "' is not an origin: expected scheme://host[:port] without a path "
                            "(like https://app.example.com), or *"};
    }
}

void check_header_secret(const value& v) {
    for (char c : v.text)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            throw bad_value{"must not contain spaces or control characters"};
}

void check_redis(const value& v) {
    if (v.text.empty()) return;
    try {
        (void)events::parse_redis_url(v.text);
    } catch (const std::invalid_argument& e) {
        std::string why = e.what();
        if (why.starts_with("redis URL: ")) why.erase(0, 11);
        throw bad_value{why};
    }
}

void check_base64(const value& v) {
    if (v.text.empty()) return;
    auto d = decode_base64(v.text);
    if (!d) throw bad_value{"is not valid base64"};
    if (d->empty()) throw bad_value{"decodes to an empty key"};
}

void check_key_file(const value& v) {
    if (v.text.empty()) return;
    std::FILE* f = std::fopen(v.text.c_str(), "rb");
    if (!f) throw bad_value{"cannot read '" + v.text + "': " + std::strerror(errno)};
    std::string head(4096, '\0');
    const std::size_t n = std::fread(head.data(), 1, head.size(), f);
    const int err = std::ferror(f) ? errno : 0;
    std::fclose(f);
    if (err) throw bad_value{"cannot read '" + v.text + "': " + std::strerror(err)};
    head.resize(n);
    if (head.find("-----BEGIN ") == std::string::npos)
        throw bad_value{"'" + v.text + "' is not a PEM file (no -----BEGIN line)"};
}

void check_cookie(const value& v) {
    constexpr std::string_view k_separators = "()<>@,;:\\\"/[]?={} \t";
    for (char c : v.text)
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e ||
            k_separators.find(c) != std::string_view::npos)
            throw bad_value{"'" + v.text + "' is not a valid cookie name"};
}

void check_query_param(const value& v) {
    if (v.text.find_first_of("&=#?+% ") != std::string::npos || has_control(v.text))
        throw bad_value{"'" + v.text + "' is not a plain query parameter name"};
}

// --- the table -----------------------------------------------------------------------

constexpr std::string_view k_log_levels[] = {"error", "warn", "info", "debug"};
constexpr std::string_view k_slow_consumer[] = {"disconnect", "drop-oldest"};

const std::vector<option_row>& rows() {
    using std::chrono::milliseconds;
    static const std::vector<option_row> table = {
        // --- top level ---
        {.key = "listen",
         .metavar = "HOST:PORT",
         .help = "address to listen on: IPv4, [IPv6] or localhost; port 0 picks a free one",
         .get = [](const daemon_config& c) { return text_of(c.listen); },
         .set = [](daemon_config& c, const value& v) { c.listen = v.text; },
         .check = check_listen},
        {.key = "shards",
         .type = kind::unsigned_int,
         .help = "shards (threads, each with its own io_uring); 0 = one per CPU",
         .max = proto::k_subscription_id_max_shards,
         .range_note = "a subscription id names its shard",
         .get = [](const daemon_config& c) { return number_of(c.shards); },
         .set = [](daemon_config& c, const value& v) { c.shards = unsigned(v.number); }},
        {.key = "demo",
         .type = kind::boolean,
         .help = "serve the chat demo on / (with its chat services)",
         .get = [](const daemon_config& c) { return bool_of(c.demo); },
         .set = [](daemon_config& c, const value& v) { c.demo = v.on; }},
        {.key = "publish_key",
         .metavar = "KEY",
         .help = "key the publish API requires; empty: the publish API is off",
         .secret = true,
         .get = [](const daemon_config& c) { return text_of(c.publish_key); },
         .set = [](daemon_config& c, const value& v) { c.publish_key = v.text; },
         .check = check_header_secret},
        {.key = "redis",
         .metavar = "URL",
         .help = "scale out through Redis, shared with other nodes and ServiceStack's "
                 "RedisServerEvents: redis://[:password@]host[:port][/db]; empty: one node, "
                 "in memory",
         .secret = true,
         .get = [](const daemon_config& c) { return text_of(c.redis); },
         .set = [](daemon_config& c, const value& v) { c.redis = v.text; },
         .check = check_redis},
        {.key = "log_level",
         .type = kind::enumeration,
         .help = "the least severe level logged",
         .choices = k_log_levels,
         .get = [](const daemon_config& c) { return number_of(std::uint64_t(c.level)); },
         .set = [](daemon_config& c, const value& v) { c.level = log_level(v.number); }},
        {.key = "log_file",
         .metavar = "FILE",
         .help = "append the log to this file (empty: stderr); SIGHUP reopens it",
         .get = [](const daemon_config& c) { return text_of(c.log_file); },
         .set = [](daemon_config& c, const value& v) { c.log_file = v.text; }},
        {.key = "pin_threads",
         .type = kind::boolean,
         .help = "pin shard i to CPU i % CPUs",
         .get = [](const daemon_config& c) { return bool_of(c.pin_threads); },
         .set = [](daemon_config& c, const value& v) { c.pin_threads = v.on; }},

        // --- [events] ---
        {.key = "events.heartbeat_interval",
         .type = kind::duration,
         .help = "how often clients send a heartbeat (announced in cmd.onConnect)",
         .min = 1,
         .max = k_day_ms,
         .get = [](const daemon_config& c) { return ms_of(c.events.heartbeat_interval); },
         .set = [](daemon_config& c,
                   const value& v) { c.events.heartbeat_interval = milliseconds(v.number); }},
        {.key = "events.idle_timeout",
         .type = kind::duration,
         .help = "a subscription without a heartbeat for this long expires",
         .min = 1,
         .max = k_day_ms,
         .get = [](const daemon_config& c) { return ms_of(c.events.idle_timeout); },
         .set = [](daemon_config& c,
                   const value& v) { c.events.idle_timeout = milliseconds(v.number); }},
        {.key = "events.notify_channel_of_subscriptions",
         .type = kind::boolean,
         .help = "send onJoin / onLeave / onUpdate to the channels",
         .get =
             [](const daemon_config& c) {
                 return bool_of(c.events.notify_channel_of_subscriptions);
             },
         .set = [](daemon_config& c,
                   const value& v) { c.events.notify_channel_of_subscriptions = v.on; }},
        {.key = "events.limit_to_authenticated_users",
         .type = kind::boolean,
         .help = "refuse anonymous streams with 401",
         .get =
             [](const daemon_config& c) { return bool_of(c.events.limit_to_authenticated_users); },
         .set = [](daemon_config& c,
                   const value& v) { c.events.limit_to_authenticated_users = v.on; }},
        {.key = "events.validate_user_address",
         .type = kind::boolean,
         .help = "accept heartbeat / unregister / update only from the stream's IP",
         .get = [](const daemon_config& c) { return bool_of(c.events.validate_user_address); },
         .set = [](daemon_config& c, const value& v) { c.events.validate_user_address = v.on; }},
        {.key = "events.max_channels_per_subscription",
         .type = kind::unsigned_int,
         .help = "channels one subscription may join",
         .min = 1,
         .max = 65535,
         .get =
             [](const daemon_config& c) {
                 return number_of(c.events.max_channels_per_subscription);
             },
         .set =
             [](daemon_config& c, const value& v) {
                 c.events.max_channels_per_subscription = unsigned(v.number);
             }},
        {.key = "events.max_channel_name_length",
         .type = kind::unsigned_int,
         .help = "bytes in a channel name",
         .min = 1,
         .max = 65535,
         .get = [](const daemon_config& c) { return number_of(c.events.max_channel_name_length); },
         .set = [](daemon_config& c,
                   const value& v) { c.events.max_channel_name_length = unsigned(v.number); }},
        {.key = "events.cors_origins",
         .type = kind::list,
         .metavar = "ORIGIN,...",
         .help = "origins allowed cross-origin with credentials (* = any); empty: no CORS",
         .get = [](const daemon_config& c) { return list_of(c.events.cors_origins); },
         .set = [](daemon_config& c, const value& v) { c.events.cors_origins = v.list; },
         .check = check_origins},
        {.key = "events.base_url",
         .metavar = "URL",
         .help = "absolute base of the URLs in cmd.onConnect; empty: from the request's Host",
         .get = [](const daemon_config& c) { return text_of(c.events.base_url); },
         .set = [](daemon_config& c, const value& v) { c.events.base_url = v.text; },
         .check = check_base_url},
        {.key = "events.trust_forwarded_headers",
         .type = kind::boolean,
         .help = "build those URLs from X-Forwarded-Proto / X-Forwarded-Host",
         .get = [](const daemon_config& c) { return bool_of(c.events.trust_forwarded_headers); },
         .set = [](daemon_config& c, const value& v) { c.events.trust_forwarded_headers = v.on; }},
        {.key = "events.stream_path",
         .metavar = "PATH",
         .help = "the event stream (empty: off)",
         .get = [](const daemon_config& c) { return text_of(c.events.stream_path); },
         .set = [](daemon_config& c, const value& v) { c.events.stream_path = v.text; },
         .check = check_path},
        {.key = "events.heartbeat_path",
         .metavar = "PATH",
         .help = "clients' heartbeats (empty: off)",
         .get = [](const daemon_config& c) { return text_of(c.events.heartbeat_path); },
         .set = [](daemon_config& c, const value& v) { c.events.heartbeat_path = v.text; },
         .check = check_path},
        {.key = "events.unregister_path",
         .metavar = "PATH",
         .help = "a client leaving (empty: off)",
         .get = [](const daemon_config& c) { return text_of(c.events.unregister_path); },
         .set = [](daemon_config& c, const value& v) { c.events.unregister_path = v.text; },
         .check = check_path},
        {.key = "events.subscribers_path",
         .metavar = "PATH",
         .help = "list a channel's subscribers (empty: off)",
         .get = [](const daemon_config& c) { return text_of(c.events.subscribers_path); },
         .set = [](daemon_config& c, const value& v) { c.events.subscribers_path = v.text; },
         .check = check_path},
        {.key = "events.update_subscriber_path",
         .metavar = "PATH",
         .help = "PATH/{id} changes a subscriber's channels (empty: off)",
         .get = [](const daemon_config& c) { return text_of(c.events.update_subscriber_path); },
         .set = [](daemon_config& c, const value& v) { c.events.update_subscriber_path = v.text; },
         .check = check_path},
        {.key = "events.predefined_routes",
         .type = kind::boolean,
         .help = "also answer /api/GetEventSubscribers, /api/UpdateEventSubscriber, /json/reply/",
         .get = [](const daemon_config& c) { return bool_of(c.events.predefined_routes); },
         .set = [](daemon_config& c, const value& v) { c.events.predefined_routes = v.on; }},
        {.key = "events.default_profile_url",
         .metavar = "URL",
         .help = "avatar of subscribers without one (empty: an inline SVG)",
         .get = [](const daemon_config& c) { return text_of(c.events.default_profile_url); },
         .set = [](daemon_config& c, const value& v) { c.events.default_profile_url = v.text; },
         .check = check_url},

        // --- [limits] ---
        {.key = "limits.max_connections",
         .type = kind::unsigned_int,
         .help = "connections per shard",
         .min = 1,
         .max = k_max_connections_per_shard,
         .range_note = "io_uring's registered file table",
         .get =
             [](const daemon_config& c) { return number_of(c.engine.max_connections_per_shard); },
         .set = [](daemon_config& c,
                   const value& v) { c.engine.max_connections_per_shard = unsigned(v.number); }},
        {.key = "limits.max_queue_bytes",
         .type = kind::size,
         .help = "out-queue of one connection; then slow_consumer applies",
         .min = k_kib,
         .max = k_gib,
         .get = [](const daemon_config& c) { return number_of(c.engine.max_queue_bytes); },
         .set = [](daemon_config& c,
                   const value& v) { c.engine.max_queue_bytes = std::uint32_t(v.number); }},
        {.key = "limits.slow_consumer",
         .type = kind::enumeration,
         .help = "when an out-queue is full: close the stream, or drop its oldest frames",
         .choices = k_slow_consumer,
         .get =
             [](const daemon_config& c) {
                 return number_of(std::uint64_t(c.engine.slow_consumer));
             },
         .set =
             [](daemon_config& c, const value& v) {
                 c.engine.slow_consumer = engine::slow_consumer_policy(v.number);
             }},
        {.key = "limits.socket_send_buffer",
         .type = kind::size,
         .help = "SO_SNDBUF per connection; 0 = the kernel's autotuning",
         .max = k_gib,
         .get = [](const daemon_config& c) { return number_of(c.engine.socket_send_buffer); },
         .set = [](daemon_config& c,
                   const value& v) { c.engine.socket_send_buffer = std::uint32_t(v.number); }},
        {.key = "limits.header_timeout",
         .type = kind::duration,
         .help = "a request's head and body must arrive within this",
         .min = 1,
         .max = k_day_ms,
         .get = [](const daemon_config& c) { return number_of(c.engine.header_timeout_ms); },
         .set = [](daemon_config& c,
                   const value& v) { c.engine.header_timeout_ms = std::uint32_t(v.number); }},
        {.key = "limits.keepalive_timeout",
         .type = kind::duration,
         .help = "an idle keep-alive connection is closed after this",
         .min = 1,
         .max = k_day_ms,
         .get = [](const daemon_config& c) { return number_of(c.engine.keepalive_timeout_ms); },
         .set = [](daemon_config& c,
                   const value& v) { c.engine.keepalive_timeout_ms = std::uint32_t(v.number); }},
        {.key = "limits.write_stall_timeout",
         .type = kind::duration,
         .help = "a connection with queued bytes and no send progress is closed after this",
         .min = 1,
         .max = k_day_ms,
         .get = [](const daemon_config& c) { return number_of(c.engine.write_stall_timeout_ms); },
         .set = [](daemon_config& c,
                   const value& v) { c.engine.write_stall_timeout_ms = std::uint32_t(v.number); }},
        {.key = "limits.drain_timeout",
         .type = kind::duration,
         .help = "on SIGTERM, time given to flush the streams; 0s = stop at once",
         .max = k_day_ms,
         .get = [](const daemon_config& c) { return number_of(c.engine.drain_timeout_ms); },
         .set = [](daemon_config& c,
                   const value& v) { c.engine.drain_timeout_ms = std::uint32_t(v.number); }},
        {.key = "limits.max_body",
         .type = kind::size,
         .help = "bytes in a request body (publish, notify...)",
         .max = k_gib,
         .get = [](const daemon_config& c) { return number_of(c.engine.limits.max_body_bytes); },
         .set = [](daemon_config& c,
                   const value& v) { c.engine.limits.max_body_bytes = v.number; }},
        {.key = "limits.max_header_bytes",
         .type = kind::size,
         .help = "bytes in a request line and its headers",
         .min = k_kib,
         .max = k_mib,
         .get = [](const daemon_config& c) { return number_of(c.engine.limits.max_header_bytes); },
         .set = [](daemon_config& c,
                   const value& v) { c.engine.limits.max_header_bytes = std::uint32_t(v.number); }},

        // --- [jwt] ---
        {.key = "jwt.hs256_secret",
         .metavar = "SECRET",
         .help = "HS256 shared secret (ServiceStack's AuthKey)",
         .secret = true,
         .get = [](const daemon_config& c) { return text_of(c.jwt.hs256_secret); },
         .set = [](daemon_config& c, const value& v) { c.jwt.hs256_secret = v.text; }},
        {.key = "jwt.hs256_secret_base64",
         .metavar = "BASE64",
         .help = "HS256 shared secret, base64-encoded (AuthKeyBase64)",
         .secret = true,
         .get = [](const daemon_config& c) { return text_of(c.jwt.hs256_secret_base64); },
         .set = [](daemon_config& c, const value& v) { c.jwt.hs256_secret_base64 = v.text; },
         .check = check_base64},
        {.key = "jwt.rs256_public_key_file",
         .metavar = "FILE",
         .help = "RS256: the issuer's public key, a PEM file",
         .get = [](const daemon_config& c) { return text_of(c.jwt.rs256_public_key_file); },
         .set = [](daemon_config& c, const value& v) { c.jwt.rs256_public_key_file = v.text; },
         .check = check_key_file},
        {.key = "jwt.issuer",
         .metavar = "ISS",
         .help = "required \"iss\" claim; empty: not checked",
         .get = [](const daemon_config& c) { return text_of(c.jwt.issuer); },
         .set = [](daemon_config& c, const value& v) { c.jwt.issuer = v.text; }},
        {.key = "jwt.audience",
         .metavar = "AUD",
         .help = "required in the \"aud\" claim; empty: not checked",
         .get = [](const daemon_config& c) { return text_of(c.jwt.audience); },
         .set = [](daemon_config& c, const value& v) { c.jwt.audience = v.text; }},
        {.key = "jwt.leeway",
         .type = kind::duration,
         .help = "clock skew allowed on exp and nbf",
         .max = k_hour_ms,
         .granularity_ms = k_second_ms,
         .get =
             [](const daemon_config& c) {
                 return number_of(std::uint64_t(c.jwt.leeway.count()) * k_second_ms);
             },
         .set =
             [](daemon_config& c, const value& v) {
                 c.jwt.leeway = std::chrono::seconds(v.number / k_second_ms);
             }},
        {.key = "jwt.cookie",
         .metavar = "NAME",
         .help = "read the token from this cookie too; empty: never",
         .get = [](const daemon_config& c) { return text_of(c.jwt.cookie); },
         .set = [](daemon_config& c, const value& v) { c.jwt.cookie = v.text; },
         .check = check_cookie},
        {.key = "jwt.query_param",
         .metavar = "NAME",
         .help = "read the token from this query parameter too; empty: never",
         .get = [](const daemon_config& c) { return text_of(c.jwt.query_param); },
         .set = [](daemon_config& c, const value& v) { c.jwt.query_param = v.text; },
         .check = check_query_param},

        // --- [chat] ---
        {.key = "chat.history",
         .type = kind::unsigned_int,
         .help = "messages the demo chat keeps per channel",
         .max = 100000,
         .get = [](const daemon_config& c) { return number_of(c.chat_history); },
         .set = [](daemon_config& c, const value& v) { c.chat_history = unsigned(v.number); }},
    };
    return table;
}

struct section_info {
    std::string_view name;
    std::string_view title;
};
constexpr section_info k_sections[] = {
    {"", "top level"},
    {"events", "ServiceStack Server Events"},
    {"limits", "connections, queues and deadlines"},
    {"jwt", "JWT authentication, with at most one key"},
    {"chat", "the demo chat"},
};

bool is_section(std::string_view name) {
    return !name.empty() && std::any_of(std::begin(k_sections), std::end(k_sections),
                                        [&](const section_info& s) { return s.name == name; });
}

// --- older flags ---------------------------------------------------------------------

enum class alias_mode : std::uint8_t {
    value,         // the key's own syntax
    milliseconds,  // a duration; a bare number counts milliseconds
    set_true,
    set_false,
    listen_address,  // the host of listen
    listen_port,     // the port of listen
};

struct alias_row {
    std::string_view flag;  // without "--"
    std::string_view key;
    alias_mode mode;
    std::string_view metavar;
    std::string_view help;
};

constexpr alias_row k_aliases[] = {
    {"address", "listen", alias_mode::listen_address, "ADDR",
     "the host of --listen (IPv4, IPv6 or localhost)"},
    {"port", "listen", alias_mode::listen_port, "N", "the port of --listen"},
    {"heartbeat-interval-ms", "events.heartbeat_interval", alias_mode::milliseconds, "N",
     "--heartbeat-interval in milliseconds"},
    {"idle-timeout-ms", "events.idle_timeout", alias_mode::milliseconds, "N",
     "--idle-timeout in milliseconds"},
    {"cors-origin", "events.cors_origins", alias_mode::value, "ORIGIN",
     "--cors-origins, one origin (repeatable)"},
    {"no-user-address-check", "events.validate_user_address", alias_mode::set_false, "",
     "--no-validate-user-address"},
    {"limit-to-authenticated", "events.limit_to_authenticated_users", alias_mode::set_true, "",
     "--limit-to-authenticated-users"},
    {"header-timeout-ms", "limits.header_timeout", alias_mode::milliseconds, "N",
     "--header-timeout in milliseconds"},
    {"keepalive-timeout-ms", "limits.keepalive_timeout", alias_mode::milliseconds, "N",
     "--keepalive-timeout in milliseconds"},
    {"write-stall-timeout-ms", "limits.write_stall_timeout", alias_mode::milliseconds, "N",
     "--write-stall-timeout in milliseconds"},
    {"no-pin", "pin_threads", alias_mode::set_false, "", "--no-pin-threads"},
};

// --- names -------------------------------------------------------------------------

std::string_view section_of(std::string_view key) {
    const auto dot = key.find('.');
    return dot == std::string_view::npos ? std::string_view{} : key.substr(0, dot);
}
std::string_view name_of(std::string_view key) {
    const auto dot = key.find('.');
    return dot == std::string_view::npos ? key : key.substr(dot + 1);
}
std::string flag_body(std::string_view key) {
    std::string f(name_of(key));
    std::replace(f.begin(), f.end(), '_', '-');
    return f;
}
std::string env_name(std::string_view key) {
    std::string e(k_env_prefix);
    for (char c : key)
        e.push_back(c == '.' ? '_' : char(std::toupper(static_cast<unsigned char>(c))));
    return e;
}

std::optional<std::size_t> find_key(std::string_view key) {
    const auto& t = rows();
    for (std::size_t i = 0; i < t.size(); ++i)
        if (t[i].key == key) return i;
    return std::nullopt;
}
std::optional<std::size_t> find_flag(std::string_view body) {
    const auto& t = rows();
    for (std::size_t i = 0; i < t.size(); ++i)
        if (flag_body(t[i].key) == body) return i;
    return std::nullopt;
}
const alias_row* find_alias(std::string_view body) {
    for (const auto& a : k_aliases)
        if (a.flag == body) return &a;
    return nullptr;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

struct candidate {
    std::string full;
    std::string
        leaf;  // matched exactly first: idle_timeout at the top level -> events.idle_timeout
};

// The candidate closest to `given`, or "" when none is close enough.
std::string closest(std::string_view given, std::string_view given_leaf,
                    const std::vector<candidate>& cands) {
    if (!given_leaf.empty())
        for (const auto& c : cands)
            if (c.leaf == given_leaf && c.full != given) return c.full;
    std::string best;
    std::size_t best_d = std::max<std::size_t>(2, given.size() / 4) + 1;
    for (const auto& c : cands) {
        const std::size_t d = edit_distance(given, c.full);
        if (d < best_d) {
            best_d = d;
            best = c.full;
        }
    }
    return best;
}

std::vector<candidate> key_candidates() {
    std::vector<candidate> out;
    for (const auto& r : rows())
        out.push_back({std::string(r.key), std::string(name_of(r.key))});
    return out;
}

std::vector<candidate> flag_candidates() {
    std::vector<candidate> out;
    for (const auto& r : rows()) {
        out.push_back({flag_body(r.key), {}});
        if (r.type == kind::boolean) out.push_back({"no-" + flag_body(r.key), {}});
    }
    for (const auto& a : k_aliases)
        out.push_back({std::string(a.flag), {}});
    for (std::string_view f : {"help", "version", "config", "check-config"})
        out.push_back({std::string(f), {}});
    return out;
}

// Flags drop the section, so two keys with one name (or a name that collides
// with a --no-X form, an older flag or a built-in one) would share a flag: a
// programming error, refused before any flag is read. config_test checks it too.
void check_flag_names_once() {
    static const bool checked = [] {
        auto all = flag_candidates();
        std::sort(all.begin(), all.end(),
                  [](const candidate& a, const candidate& b) { return a.full < b.full; });
        for (std::size_t i = 1; i < all.size(); ++i)
            if (all[i].full == all[i - 1].full)
                throw std::logic_error("ssepushd option table: --" + all[i].full +
                                       " names two settings");
        return true;
    }();
    (void)checked;
}

// --- formatting ----------------------------------------------------------------------

std::string format_size(std::uint64_t b) {
    if (b == 0) return "0";
    if (b % k_gib == 0) return std::to_string(b / k_gib) + "GiB";
    if (b % k_mib == 0) return std::to_string(b / k_mib) + "MiB";
    if (b % k_kib == 0) return std::to_string(b / k_kib) + "KiB";
    return std::to_string(b);
}

std::string format_duration(std::uint64_t ms) {
    if (ms == 0) return "0s";
    if (ms % k_hour_ms == 0) return std::to_string(ms / k_hour_ms) + "h";
    if (ms % k_minute_ms == 0) return std::to_string(ms / k_minute_ms) + "m";
    if (ms % k_second_ms == 0) return std::to_string(ms / k_second_ms) + "s";
    return std::to_string(ms) + "ms";
}

std::string join(const std::vector<std::string>& l, std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < l.size(); ++i)
        out.append(i ? sep : "").append(l[i]);
    return out;
}

// The value as a flag or an environment variable would give it.
std::string display(const option_row& r, const value& v) {
    switch (r.type) {
        case kind::string:
            return v.text;
        case kind::boolean:
            return v.on ? "true" : "false";
        case kind::unsigned_int:
            return std::to_string(v.number);
        case kind::size:
            return format_size(v.number);
        case kind::duration:
            return format_duration(v.number);
        case kind::enumeration:
            return v.number < r.choices.size() ? std::string(r.choices[v.number]) : "?";
        case kind::list:
            return join(v.list, ",");
    }
    return {};
}

std::string toml_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < 0x20 || u == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out.append(buf);
        } else {
            out.push_back(c);
        }
    }
    return out + "\"";
}

// The value as a TOML file would give it.
std::string toml_literal(const option_row& r, const value& v) {
    switch (r.type) {
        case kind::boolean:
        case kind::unsigned_int:
            return display(r, v);
        case kind::size: {
            std::string s = format_size(v.number);
            return s.find_first_not_of("0123456789") == std::string::npos ? s : toml_string(s);
        }
        case kind::list: {
            std::string out = "[";
            for (std::size_t i = 0; i < v.list.size(); ++i)
                out.append(i ? ", " : "").append(toml_string(v.list[i]));
            return out + "]";
        }
        default:
            return toml_string(display(r, v));
    }
}

std::string type_name(kind k) {
    switch (k) {
        case kind::string:
            return "string";
        case kind::boolean:
            return "bool";
        case kind::unsigned_int:
            return "unsigned";
        case kind::size:
            return "size";
        case kind::duration:
            return "duration";
        case kind::enumeration:
            return "enum";
        case kind::list:
            return "list";
    }
    return {};
}

std::string metavar_of(const option_row& r) {
    switch (r.type) {
        case kind::string:
        case kind::list:
            return std::string(r.metavar);
        case kind::boolean:
            return {};
        case kind::unsigned_int:
            return "N";
        case kind::size:
            return "SIZE";
        case kind::duration:
            return "DURATION";
        case kind::enumeration: {
            std::string out;
            for (auto c : r.choices)
                out.append(out.empty() ? "" : "|").append(c);
            return out;
        }
    }
    return {};
}

// --- parsing -------------------------------------------------------------------------

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// "64KiB" -> {"64", "KiB"}
std::pair<std::string_view, std::string_view> split_number(std::string_view s) {
    s = trim(s);
    std::size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
        ++i;
    return {s.substr(0, i), trim(s.substr(i))};
}

std::uint64_t parse_size(std::string_view text) {
    const std::string what =
        "expected a size like 65536, 64KiB or 1MiB, got '" + std::string(text) + "'";
    auto [digits, unit] = split_number(text);
    auto n = parse_digits(digits);
    if (!n) throw bad_value{what};
    std::uint64_t mult = 0;
    if (unit.empty() || unit == "B") {
        mult = 1;
    } else if (iequals(unit, "KiB")) {
        mult = k_kib;
    } else if (iequals(unit, "MiB")) {
        mult = k_mib;
    } else if (iequals(unit, "GiB")) {
        mult = k_gib;
    } else {
        throw bad_value{what + " (units: B, KiB, MiB, GiB)"};
    }
    if (*n > std::numeric_limits<std::uint64_t>::max() / mult)
        throw bad_value{what + ": too large"};
    return *n * mult;
}

std::uint64_t parse_duration(std::string_view text, bool bare_ms) {
    const std::string what =
        "expected a duration like 30s or 500ms, got '" + std::string(text) + "'";
    auto [digits, unit] = split_number(text);
    auto n = parse_digits(digits);
    if (!n) throw bad_value{what};
    std::uint64_t mult = 0;
    if (unit.empty()) {
        if (!bare_ms) throw bad_value{what + ": a number needs a unit (ms, s, m, h)"};
        mult = 1;
    } else if (unit == "ms") {
        mult = 1;
    } else if (unit == "s") {
        mult = k_second_ms;
    } else if (unit == "m") {
        mult = k_minute_ms;
    } else if (unit == "h") {
        mult = k_hour_ms;
    } else {
        throw bad_value{what + " (units: ms, s, m, h)"};
    }
    if (*n > std::numeric_limits<std::uint64_t>::max() / mult)
        throw bad_value{what + ": too large"};
    return *n * mult;
}

bool parse_bool(std::string_view text) {
    for (std::string_view t : {"true", "yes", "on", "1"})
        if (iequals(text, t)) return true;
    for (std::string_view f : {"false", "no", "off", "0"})
        if (iequals(text, f)) return false;
    throw bad_value{"expected true or false, got '" + std::string(text) + "'"};
}

std::vector<std::string> parse_list(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = trim(text.substr(0, comma));
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

// A value as a flag or an environment variable gives it.
value parse_text(const option_row& r, std::string_view text, bool bare_ms = false) {
    switch (r.type) {
        case kind::string:
            return text_of(std::string(text));
        case kind::boolean:
            return bool_of(parse_bool(text));
        case kind::unsigned_int: {
            auto n = parse_digits(trim(text));
            if (!n) throw bad_value{"expected a whole number, got '" + std::string(text) + "'"};
            return number_of(*n);
        }
        case kind::size:
            return number_of(parse_size(text));
        case kind::duration:
            return number_of(parse_duration(text, bare_ms));
        case kind::enumeration: {
            for (std::size_t i = 0; i < r.choices.size(); ++i)
                if (text == r.choices[i]) return number_of(i);
            std::string all;
            for (std::size_t i = 0; i < r.choices.size(); ++i)
                all.append(i == 0                      ? ""
                           : i + 1 == r.choices.size() ? " or "
                                                       : ", ")
                    .append(r.choices[i]);
            throw bad_value{"expected " + all + ", got '" + std::string(text) + "'"};
        }
        case kind::list:
            return list_of(parse_list(text));
    }
    return {};
}

std::string describe(const toml::node& n, bool secret) {
    const auto hidden = [&](std::string shown, std::string_view what) {
        return secret ? std::string(what) : shown + " (" + std::string(what) + ")";
    };
    switch (n.type()) {
        case toml::node_type::string:
            return hidden("'" + std::string(n.as_string()->get()) + "'", "a string");
        case toml::node_type::integer:
            return hidden(std::to_string(n.as_integer()->get()), "an integer");
        case toml::node_type::floating_point: {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%g", n.as_floating_point()->get());
            return hidden(buf, "a float");
        }
        case toml::node_type::boolean:
            return hidden(n.as_boolean()->get() ? "true" : "false", "a boolean");
        case toml::node_type::array:
            return "an array";
        case toml::node_type::table:
            return "a table";
        default:
            return "a date or time";
    }
}

// A value as the TOML file gives it.
value from_toml(const option_row& r, const toml::node& n) {
    const auto* s = n.as_string();
    switch (r.type) {
        case kind::string:
        case kind::enumeration:
            if (s) return parse_text(r, s->get());
            throw bad_value{"expected a string, got " + describe(n, r.secret)};
        case kind::duration:
            if (s) return parse_text(r, s->get());
            if (const auto* i = n.as_integer())
                throw bad_value{"expected a duration like \"30s\" or \"500ms\", got " +
                                std::to_string(i->get()) + ": a number needs a unit (ms, s, m, h)"};
            throw bad_value{"expected a duration like \"30s\" or \"500ms\", got " +
                            describe(n, false)};
        case kind::size:
            if (s) return parse_text(r, s->get());
            if (const auto* i = n.as_integer()) {
                if (i->get() < 0)
                    throw bad_value{"must not be negative, got " + std::to_string(i->get())};
                return number_of(std::uint64_t(i->get()));
            }
            throw bad_value{"expected a size like 65536 or \"64KiB\", got " + describe(n, false)};
        case kind::unsigned_int:
            if (const auto* i = n.as_integer()) {
                if (i->get() < 0)
                    throw bad_value{"must not be negative, got " + std::to_string(i->get())};
                return number_of(std::uint64_t(i->get()));
            }
            throw bad_value{"expected a whole number, got " + describe(n, false)};
        case kind::boolean:
            if (const auto* b = n.as_boolean()) return bool_of(b->get());
            throw bad_value{"expected true or false, got " + describe(n, false)};
        case kind::list:
            if (const auto* a = n.as_array()) {
                value v;
                for (std::size_t j = 0; j < a->size(); ++j) {
                    const auto* e = (*a)[j].as_string();
                    if (!e)
                        throw bad_value{"expected an array of strings, but element " +
                                        std::to_string(j + 1) + " is " + describe((*a)[j], false)};
                    v.list.emplace_back(e->get());
                }
                return v;
            }
            throw bad_value{
                "expected an array of strings like [\"https://app.example.com\"], got " +
                describe(n, false)};
    }
    return {};
}

// Range, granularity, control characters and the row's own check.
void check_value(const option_row& r, const value& v) {
    const bool numeric =
        r.type == kind::unsigned_int || r.type == kind::size || r.type == kind::duration;
    if (numeric) {
        const std::string note = r.range_note.empty() ? "" : " (" + std::string(r.range_note) + ")";
        if (v.number < r.min) {
            if (r.min == 1) throw bad_value{"must be greater than 0, got " + display(r, v)};
            throw bad_value{"must be at least " + display(r, number_of(r.min)) + ", got " +
                            display(r, v) + note};
        }
        if (v.number > r.max)
            throw bad_value{"must be at most " + display(r, number_of(r.max)) + ", got " +
                            display(r, v) + note};
        if (r.type == kind::duration && v.number % r.granularity_ms != 0)
            throw bad_value{"must be a whole number of seconds, got " + display(r, v)};
    }
    if (r.type == kind::string && !r.secret && has_control(v.text))
        throw bad_value{"must not contain control characters"};
    if (r.check) r.check(v);
}

// --- sources -------------------------------------------------------------------------

struct assignment {
    value v;
    std::string origin;  // "flag", "env", "file"
    std::string where;   // "--idle-timeout", "SSEPUSH_EVENTS_IDLE_TIMEOUT", "x.toml:3"
};
using layer = std::vector<std::optional<assignment>>;

[[noreturn]] void fail(const option_row& r, const std::string& why, const std::string& where) {
    throw config_error(std::string(r.key) + ": " + why + " (from " + where + ")");
}

void assign_text(layer& l, std::size_t i, std::string_view text, const std::string& origin,
                 const std::string& where, bool bare_ms = false) {
    const auto& r = rows()[i];
    value v;
    try {
        v = parse_text(r, text, bare_ms);
        check_value(r, v);
    } catch (const bad_value& b) {
        fail(r, b.why, where);
    }
    // Repeated list flags add up; anything else: the last one wins.
    if (r.type == kind::list && origin == "flag" && l[i]) {
        l[i]->v.list.insert(l[i]->v.list.end(), v.list.begin(), v.list.end());
        l[i]->where = where;
        return;
    }
    l[i] = assignment{std::move(v), origin, where};
}

std::string read_text_file(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw config_error("cannot read config file '" + path + "': " + std::strerror(errno));
    std::string out;
    char buf[16384];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        out.append(buf, n);
    const int err = std::ferror(f) ? errno : 0;
    std::fclose(f);
    if (err) throw config_error("cannot read config file '" + path + "': " + std::strerror(err));
    return out;
}

void read_toml(const std::string& path, layer& file) {
    const std::string text = read_text_file(path);
    toml::table root;
    try {
        root = toml::parse(text, path);
    } catch (const toml::parse_error& e) {
        const auto& b = e.source().begin;
        throw config_error(path + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) +
                           ": " + std::string(e.description()));
    }
    const auto line_of = [&](const toml::key& k, const toml::node& n) {
        const auto line = k.source().begin.line ? k.source().begin.line : n.source().begin.line;
        return path + ":" + std::to_string(line);
    };
    const auto take = [&](const std::string& key, const toml::node& n, const std::string& where) {
        const auto i = find_key(key);
        if (!i) {
            const bool top = key.find('.') == std::string::npos;
            if (top && n.is_table()) {
                std::vector<candidate> sections;
                for (const auto& s : k_sections)
                    if (!s.name.empty()) sections.push_back({std::string(s.name), {}});
                const std::string s = closest(key, {}, sections);
                throw config_error(where + ": unknown section [" + key + "]" +
                                   (s.empty() ? "" : " (did you mean [" + s + "]?)"));
            }
            const std::string s = closest(key, name_of(key), key_candidates());
            throw config_error(where + ": unknown key '" + key + "'" +
                               (s.empty() ? "" : " (did you mean '" + s + "'?)"));
        }
        const auto& r = rows()[*i];
        value v;
        try {
            v = from_toml(r, n);
            check_value(r, v);
        } catch (const bad_value& b) {
            fail(r, b.why, where);
        }
        file[*i] = assignment{std::move(v), "file", where};
    };
    for (auto&& [k, node] : root) {
        const std::string name(k.str());
        if (is_section(name)) {
            const auto* t = node.as_table();
            if (!t)
                throw config_error(line_of(k, node) + ": '" + name + "' is a section: write [" +
                                   name + "] and its keys below it, got " + describe(node, false));
            for (auto&& [k2, n2] : *t)
                take(name + "." + std::string(k2.str()), n2, line_of(k2, n2));
        } else {
            take(name, node, line_of(k, node));
        }
    }
}

std::string label_of(const assignment& a) {
    return a.origin + " " + a.where;
}

std::string summary(const daemon_config& c, const std::vector<std::string>& warnings) {
    std::string out = "# " + version_text() + ": effective configuration";
    out.append(c.config_file.empty() ? " (no config file)" : " (file " + c.config_file + ")");
    out.append("\n");
    for (const auto& w : warnings)
        out.append("# warning: ").append(w).append("\n");
    std::string_view section = "";
    for (const auto& r : rows()) {
        if (section_of(r.key) != section) {
            section = section_of(r.key);
            out.append("\n[").append(section).append("]\n");
        }
        const value v = r.get(c);
        std::string line = std::string(name_of(r.key)) + " = ";
        if (r.secret) {
            line.append(v.text.empty() ? "\"\"" : "(set)");
        } else {
            line.append(toml_literal(r, v));
        }
        std::string src;
        for (const auto& [key, s] : c.sources)
            if (key == r.key) src = s;
        if (!src.empty()) {
            line.resize(std::max<std::size_t>(line.size() + 1, 48), ' ');
            line.append("# ").append(src);
        }
        out.append(line).append("\n");
    }
    return out;
}

void add_help_line(std::string& out, std::string left, std::string_view text,
                   std::string_view second) {
    constexpr std::size_t k_column = 34;
    left = "  " + left;
    if (left.size() + 2 > k_column) {
        out.append(left).append("\n");
        left.clear();
    }
    left.resize(k_column, ' ');
    out.append(left).append(text).append("\n");
    if (!second.empty()) out.append(std::string(k_column, ' ')).append(second).append("\n");
}

// What each source says, before precedence.
struct inputs {
    explicit inputs(std::size_t n) : flags(n), env(n), file(n) {}
    layer flags, env, file;
    std::optional<std::string> config_flag, check_flag, config_env;
    std::optional<std::string> address_flag, port_flag;  // the older --address / --port
    std::vector<std::string> warnings;
};

void read_flags(int argc, const char* const* argv, inputs& in) {
    const auto& table = rows();
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (!arg.starts_with("--") || arg.size() == 2) {
            std::string msg = "unexpected argument '" + std::string(arg) + "'";
            if (i > 1 && std::string_view(argv[i - 1]).starts_with("--") &&
                (iequals(arg, "true") || iequals(arg, "false")))
                msg += " (booleans are written --flag, --no-flag or --flag=false)";
            throw config_error(msg);
        }
        std::string_view body = arg.substr(2);
        std::optional<std::string_view> inline_value;
        if (const auto eq = body.find('='); eq != std::string_view::npos) {
            inline_value = body.substr(eq + 1);
            body = body.substr(0, eq);
        }
        const std::string flag = "--" + std::string(body);
        const auto take_value = [&]() -> std::string {
            if (inline_value) return std::string(*inline_value);
            if (i + 1 >= argc || std::string_view(argv[i + 1]).starts_with("--"))
                throw config_error(flag + " needs a value");
            return argv[++i];
        };
        const auto no_value = [&] {
            if (inline_value) throw config_error(flag + " takes no value");
        };

        if (body == "config") {
            in.config_flag = take_value();
            continue;
        }
        if (body == "check-config") {
            in.check_flag = take_value();
            continue;
        }
        if (auto idx = find_flag(body)) {
            const bool is_bool = table[*idx].type == kind::boolean;
            const std::string text =
                is_bool ? (inline_value ? std::string(*inline_value) : "true") : take_value();
            assign_text(in.flags, *idx, text, "flag", flag);
            continue;
        }
        if (body.starts_with("no-")) {
            if (auto idx = find_flag(body.substr(3)); idx && table[*idx].type == kind::boolean) {
                no_value();
                assign_text(in.flags, *idx, "false", "flag", flag);
                continue;
            }
        }
        if (const alias_row* al = find_alias(body)) {
            const std::size_t idx = *find_key(al->key);
            switch (al->mode) {
                case alias_mode::value:
                    assign_text(in.flags, idx, take_value(), "flag", flag);
                    break;
                case alias_mode::milliseconds:
                    assign_text(in.flags, idx, take_value(), "flag", flag, true);
                    break;
                case alias_mode::set_true:
                    no_value();
                    assign_text(in.flags, idx, "true", "flag", flag);
                    break;
                case alias_mode::set_false:
                    no_value();
                    assign_text(in.flags, idx, "false", "flag", flag);
                    break;
                case alias_mode::listen_address:
                    in.address_flag = take_value();
                    break;
                case alias_mode::listen_port:
                    in.port_flag = take_value();
                    break;
            }
            continue;
        }
        const std::string s = closest(body, {}, flag_candidates());
        throw config_error("unknown option '" + flag + "'" +
                           (s.empty() ? "" : " (did you mean --" + s + "?)"));
    }
}

void read_env(const char* const* envp, inputs& in) {
    const auto& table = rows();
    for (const char* const* e = envp; e && *e; ++e) {
        const std::string_view entry = *e;
        if (!entry.starts_with(k_env_prefix)) continue;
        const auto eq = entry.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string_view name = entry.substr(0, eq);
        const std::string_view text = entry.substr(eq + 1);
        if (name == k_config_env) {
            in.config_env = std::string(text);
            continue;
        }
        bool known = false;
        for (std::size_t i = 0; i < table.size() && !known; ++i) {
            if (env_name(table[i].key) != name) continue;
            known = true;
            assign_text(in.env, i, text, "env", std::string(name));
        }
        if (known) continue;
        // The environment is shared with other programs: warn, do not refuse.
        std::string lower;
        for (char c : name.substr(k_env_prefix.size()))
            lower.push_back(char(std::tolower(static_cast<unsigned char>(c))));
        std::vector<candidate> cands;
        for (const auto& r : table) {
            std::string k(r.key);
            std::replace(k.begin(), k.end(), '.', '_');
            cands.push_back({k, std::string(name_of(r.key))});
        }
        std::string s = closest(lower, lower, cands);
        if (!s.empty()) {
            for (const auto& r : table) {
                std::string k(r.key);
                std::replace(k.begin(), k.end(), '.', '_');
                if (k == s) s = env_name(r.key);
            }
        }
        in.warnings.push_back("ignoring " + std::string(name) + ": not a setting" +
                              (s.empty() ? "" : " (did you mean " + s + "?)"));
    }
}

// The older --address / --port replace a part of listen.
void apply_address_and_port(daemon_config& cfg, const inputs& in) {
    const std::size_t listen_i = *find_key("listen");
    if (in.address_flag || in.port_flag) {
        if (in.flags[listen_i])
            throw config_error("listen: give --listen HOST:PORT or --address / --port, not both");
        endpoint ep = parse_listen(cfg.listen);  // valid: checked when it was read
        std::string src = "flag";
        if (in.address_flag) {
            std::string_view a = *in.address_flag;
            if (a.size() > 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
            try {
                ep.address = listen_host(a, true);
            } catch (const bad_value& b) {
                fail(rows()[listen_i], b.why, "--address");
            }
            src += " --address";
        }
        if (in.port_flag) {
            try {
                ep.port = parse_port(*in.port_flag);
            } catch (const bad_value& b) {
                fail(rows()[listen_i], b.why, "--port");
            }
            src += " --port";
        }
        cfg.listen = format_endpoint(ep);
        cfg.sources[listen_i].second = src;
    }
}

// Settings that are only wrong together.
void check_together(const daemon_config& cfg, std::vector<std::string>& warnings) {
    const auto source_of = [&](std::string_view key) { return cfg.sources[*find_key(key)].second; };
    if (cfg.events.heartbeat_interval >= cfg.events.idle_timeout)
        throw config_error("events.heartbeat_interval (" +
                           format_duration(std::uint64_t(cfg.events.heartbeat_interval.count())) +
                           ", " + source_of("events.heartbeat_interval") +
                           ") must be shorter than events.idle_timeout (" +
                           format_duration(std::uint64_t(cfg.events.idle_timeout.count())) + ", " +
                           source_of("events.idle_timeout") +
                           "): clients would expire between heartbeats");
    std::vector<std::string> secrets;
    for (std::string_view k :
         {"jwt.hs256_secret", "jwt.hs256_secret_base64", "jwt.rs256_public_key_file"}) {
        const auto& r = rows()[*find_key(k)];
        if (!r.get(cfg).text.empty()) secrets.push_back(std::string(k) + " (" + source_of(k) + ")");
    }
    if (secrets.size() > 1)
        throw config_error(
            "jwt: give at most one of hs256_secret, hs256_secret_base64 and "
            "rs256_public_key_file; set: " +
            join(secrets, ", "));
    if (cfg.events.limit_to_authenticated_users && !cfg.jwt.enabled())
        warnings.push_back(
            "events.limit_to_authenticated_users is on but no [jwt] key is set: "
            "anonymous streams are refused and nothing authenticates");
}

}  // namespace

// --- public --------------------------------------------------------------------------

std::optional<std::string> decode_base64(std::string_view text) {
    const auto sextet = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+' || c == '-') return 62;
        if (c == '/' || c == '_') return 63;
        return -1;
    };
    std::size_t end = text.size();
    int pad = 0;
    while (end > 0 && text[end - 1] == '=' && pad < 2) {
        --end;
        ++pad;
    }
    if (pad && text.size() % 4 != 0) return std::nullopt;
    const std::string_view body = text.substr(0, end);
    if (body.size() % 4 == 1) return std::nullopt;
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : body) {
        const int v = sextet(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | std::uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(char((acc >> bits) & 0xff));
        }
    }
    return out;
}

std::string version_text() {
    return std::string("ssepushd ") + SSEPUSH_VERSION;
}

std::vector<option_info> option_table() {
    const daemon_config defaults;
    std::vector<option_info> out;
    for (const auto& r : rows()) {
        option_info o;
        o.key = r.key;
        o.section = section_of(r.key);
        o.name = name_of(r.key);
        o.flag = "--" + flag_body(r.key);
        o.env = env_name(r.key);
        o.type = type_name(r.type);
        o.default_value = display(r, r.get(defaults));
        o.help = r.help;
        o.secret = r.secret;
        out.push_back(std::move(o));
    }
    return out;
}

std::vector<flag_alias> flag_aliases() {
    std::vector<flag_alias> out;
    for (const auto& a : k_aliases)
        out.push_back({"--" + std::string(a.flag), std::string(a.key), std::string(a.help)});
    return out;
}

std::string config_summary(const daemon_config& config) {
    return summary(config, {});
}

std::string help_text() {
    std::string out =
        "usage: ssepushd [OPTIONS]\n"
        "       ssepushd --check-config FILE [OPTIONS]\n"
        "\n"
        "ssepushd serves ServiceStack Server Events. Each setting below is a flag, an\n"
        "environment variable and a key of the TOML file named by --config; a flag beats\n"
        "the environment, which beats the file, which beats the default:\n"
        "  --idle-timeout 30s  =  SSEPUSH_EVENTS_IDLE_TIMEOUT=30s  =  [events] idle_timeout = "
        "\"30s\"\n"
        "Durations need a unit: 500ms, 10s, 2m, 1h. Sizes: 65536, 64KiB, 1MiB, 1GiB.\n"
        "Booleans: --demo, --no-demo, --demo=false (true / false in env and file).\n"
        "Lists: comma-separated, or the flag repeated; an array in the file.\n"
        "A bad setting stops ssepushd with status 2, naming the key and its source.\n"
        "\n";
    add_help_line(out, "-h, --help", "print this help and exit", "");
    add_help_line(out, "--version", "print the version and exit", "");
    add_help_line(out, "--config FILE", "read settings from this TOML file",
                  "env " + std::string(k_config_env));
    add_help_line(out, "--check-config FILE", "check FILE with the flags and environment,",
                  "print the effective settings and their sources, exit");
    const daemon_config defaults;
    for (const auto& s : k_sections) {
        out.append("\n");
        if (s.name.empty()) {
            out.append(s.title).append(" (file: before any [section]; env SSEPUSH_<NAME>):\n");
        } else {
            out.append("[").append(s.name).append("] ").append(s.title);
            out.append(" (env SSEPUSH_").append(env_name(s.name).substr(k_env_prefix.size()));
            out.append("_<NAME>):\n");
        }
        for (const auto& r : rows()) {
            if (section_of(r.key) != s.name) continue;
            std::string left =
                r.type == kind::boolean ? "--[no-]" + flag_body(r.key) : "--" + flag_body(r.key);
            const std::string mv = metavar_of(r);
            if (!mv.empty()) left.append(" ").append(mv);
            const std::string def = display(r, r.get(defaults));
            add_help_line(out, left, r.help,
                          "default " + (def.empty() ? std::string("empty") : def) + ", env " +
                              env_name(r.key));
        }
    }
    out.append("\nolder flags, still accepted:\n");
    for (const auto& a : k_aliases) {
        std::string left = "--" + std::string(a.flag);
        if (!a.metavar.empty()) left.append(" ").append(a.metavar);
        add_help_line(out, left, a.help, "");
    }
    return out;
}

load_result load_config(int argc, const char* const* argv, const char* const* envp) {
    load_result result;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "-h" || a == "--help") {
            result.status = load_status::exit_ok;
            result.message = help_text();
            return result;
        }
        if (a == "--version") {
            result.status = load_status::exit_ok;
            result.message = version_text() + "\n";
            return result;
        }
    }

    check_flag_names_once();
    const auto& table = rows();
    inputs in(table.size());
    read_flags(argc, argv, in);
    read_env(envp, in);
    if (in.check_flag && in.config_flag && *in.check_flag != *in.config_flag)
        throw config_error("--check-config FILE names the file to check: drop --config " +
                           *in.config_flag);
    const std::string path = in.check_flag    ? *in.check_flag
                             : in.config_flag ? *in.config_flag
                                              : in.config_env.value_or("");
    if (!path.empty()) read_toml(path, in.file);

    // Precedence: flag > env > file > default.
    daemon_config& cfg = result.config;
    cfg.config_file = path;
    for (std::size_t i = 0; i < table.size(); ++i) {
        const auto& r = table[i];
        const assignment* a = in.flags[i]  ? &*in.flags[i]
                              : in.env[i]  ? &*in.env[i]
                              : in.file[i] ? &*in.file[i]
                                           : nullptr;
        if (a) r.set(cfg, a->v);
        cfg.sources.emplace_back(std::string(r.key), a ? label_of(*a) : "default");
    }
    apply_address_and_port(cfg, in);

    // What the engine takes from the top-level keys.
    const endpoint ep = parse_listen(cfg.listen);  // valid: checked when it was read
    cfg.engine.address = ep.address;
    cfg.engine.port = ep.port;
    cfg.engine.shards = cfg.shards;
    cfg.engine.pin_threads = cfg.pin_threads;

    result.warnings = std::move(in.warnings);
    check_together(cfg, result.warnings);
    if (in.check_flag) {
        result.status = load_status::check_only;
        result.message = summary(cfg, result.warnings);
    }
    return result;
}

}  // namespace ssepushd
