#pragma once
// ssepushd's configuration: every setting has one entry in one table (key,
// type, default, help), from which come the command-line flag, the
// environment variable and the TOML key, so they never drift apart.
//
// Precedence: flag > environment (SSEPUSH_<KEY>) > file (--config) > default.
//   key "events.idle_timeout"  ->  flag --idle-timeout
//                                  env  SSEPUSH_EVENTS_IDLE_TIMEOUT
//                                  TOML [events] idle_timeout = "30s"
// (top-level keys have no section: "listen" -> --listen, SSEPUSH_LISTEN).
//
// Errors name the key and the problem ("events.idle_timeout: expected a
// duration like 30s or 500ms, got 'soon' (from SSEPUSH_EVENTS_IDLE_TIMEOUT)")
// and the daemon exits 2 on them.
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssepush/engine/options.h"
#include "ssepush/events/options.h"

namespace ssepushd {

namespace engine = ssepush::engine;
namespace events = ssepush::events;

enum class log_level : std::uint8_t { error, warn, info, debug };

struct jwt_config {
    // HS256: the shared secret (as ServiceStack's JwtAuthProvider AuthKey);
    // `hs256_secret_base64` when it is given base64-encoded (AuthKeyBase64).
    std::string hs256_secret;
    std::string hs256_secret_base64;
    // RS256: a PEM public key file (ServiceStack's PublicKeyXml as PEM).
    std::string rs256_public_key_file;
    std::string issuer;    // required "iss" when non-empty
    std::string audience;  // required in "aud" when non-empty
    std::chrono::seconds leeway{60};
    std::string cookie = "ss-tok";  // read the token from this cookie; empty: never
    std::string query_param;        // read it from this query parameter; empty: never
    [[nodiscard]] bool enabled() const {
        return !hs256_secret.empty() || !hs256_secret_base64.empty() ||
               !rs256_public_key_file.empty();
    }
};

struct daemon_config {
    // --- top level ---
    std::string listen = "127.0.0.1:8080";  // HOST:PORT, [IPv6]:PORT
    unsigned shards = 0;                    // 0: one per CPU
    bool demo = false;                      // serve the chat demo on /
    std::string publish_key;                // empty: the publish API is off
    std::string redis;  // redis://[:password@]host:port[/db]; empty: the memory provider
    log_level level = log_level::info;
    std::string log_file;  // empty: stderr; SIGHUP reopens it
    bool pin_threads = true;

    // --- [events] ---
    events::options events;  // heartbeat_interval, idle_timeout, paths, limits, CORS...

    // --- [limits] (engine) ---
    engine::server_options engine;  // address/port/shards are filled from listen/shards

    // --- [jwt] ---
    jwt_config jwt;

    // --- [chat] ---
    unsigned chat_history = 100;  // messages kept per channel for the demo

    // Set by the loader: where each key's value came from, for --check-config.
    // One entry per key, in table order: {"events.idle_timeout", "default" |
    // "file ssepushd.toml:12" | "env SSEPUSH_EVENTS_IDLE_TIMEOUT" | "flag --idle-timeout"}.
    std::vector<std::pair<std::string, std::string>> sources;
    // Set by the loader: the TOML file read (--check-config, --config or
    // SSEPUSH_CONFIG); empty when none.
    std::string config_file;
};

enum class load_status : std::uint8_t {
    ok,
    exit_ok,     // --help / --version printed: exit 0
    check_only,  // --check-config FILE validated: print summary, exit 0
};

struct load_result {
    load_status status = load_status::ok;
    daemon_config config;
    std::string message;  // --help text, the check summary
    // Not fatal, for main to print: SSEPUSH_* environment variables that name
    // no setting (the environment is shared, so they are ignored, not refused).
    std::vector<std::string> warnings;
};

// Parses argv, the environment (envp: "NAME=value" strings, nullptr-ended)
// and the TOML file named by --config / SSEPUSH_CONFIG. Throws config_error
// (what() names key, problem and source) on anything invalid.
struct config_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};
load_result load_config(int argc, const char* const* argv, const char* const* envp);

// The --help text (generated from the option table).
std::string help_text();

// The effective settings as TOML-like lines grouped by section, each with
// where it came from ("# default", "# env SSEPUSH_SHARDS"); secrets show as
// (set). What --check-config prints; safe to log.
std::string config_summary(const daemon_config& config);

// "ssepushd 0.1.0".
std::string version_text();

// The option table, for tests and documentation. Derived names:
//   key "limits.max_queue_bytes" -> section "limits", name "max_queue_bytes",
//   flag "--max-queue-bytes", env "SSEPUSH_LIMITS_MAX_QUEUE_BYTES".
// Flags drop the section, so names are unique across sections (a test checks).
struct option_info {
    std::string key;
    std::string section;  // "" for top-level keys
    std::string name;     // the TOML key inside [section]
    std::string flag;
    std::string env;
    std::string type;           // string bool unsigned size duration enum list
    std::string default_value;  // as written in a file, unquoted: "30s", "1MiB", "a,b"
    std::string help;
    bool secret = false;  // never printed
};
std::vector<option_info> option_table();

// Flags kept from earlier ssepushd versions (--port, --idle-timeout-ms, --no-pin...),
// each setting one key of the table.
struct flag_alias {
    std::string flag;  // "--idle-timeout-ms"
    std::string key;   // "events.idle_timeout"
    std::string help;
};
std::vector<flag_alias> flag_aliases();

// Base64 (standard or URL-safe alphabet, padding optional, as
// jwt.hs256_secret_base64 takes it). nullopt if `text` is not base64.
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace ssepushd
