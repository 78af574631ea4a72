// ssepushd's configuration: the option table, its derived names, every value
// type, every source and their precedence, the errors, --help, --check-config,
// and the example file (which must hold exactly the defaults).
#include "config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace {

using ssepushd::config_error;
using ssepushd::daemon_config;
using ssepushd::load_result;
using ssepushd::load_status;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

load_result load(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    std::vector<const char*> argv{"ssepushd"};
    for (const auto& a : args)
        argv.push_back(a.c_str());
    argv.push_back(nullptr);
    std::vector<const char*> envp;
    for (const auto& e : env)
        envp.push_back(e.c_str());
    envp.push_back(nullptr);
    return ssepushd::load_config(int(argv.size() - 1), argv.data(), envp.data());
}

// The config_error load() throws, or "(no error)".
std::string error_of(const std::vector<std::string>& args,
                     const std::vector<std::string>& env = {}) {
    try {
        (void)load(args, env);
    } catch (const config_error& e) {
        return e.what();
    }
    return "(no error)";
}

std::string source_of(const daemon_config& c, const std::string& key) {
    for (const auto& [k, s] : c.sources)
        if (k == key) return s;
    return "(no source)";
}

// Every effective value, through the option table (config_summary without its
// header line and sources).
std::string values_of(daemon_config c) {
    c.sources.clear();
    c.config_file.clear();
    return ssepushd::config_summary(c);
}

class config : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "ssepushd-config-test.XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    // Writes `text` to a file in the test's directory; returns its path.
    std::string write(const std::string& name, const std::string& text) {
        const auto p = (dir_ / name).string();
        std::ofstream(p) << text;
        return p;
    }
    fs::path dir_;
};

// --- the table and its derived names ----------------------------------------------

TEST(config_table, derives_flag_env_and_toml_names_from_each_key) {
    for (const auto& o : ssepushd::option_table()) {
        SCOPED_TRACE(o.key);
        const auto dot = o.key.find('.');
        EXPECT_EQ(o.section, dot == std::string::npos ? "" : o.key.substr(0, dot));
        EXPECT_EQ(o.name, dot == std::string::npos ? o.key : o.key.substr(dot + 1));
        std::string flag = "--" + o.name;
        for (auto& c : flag)
            if (c == '_') c = '-';
        EXPECT_EQ(o.flag, flag);
        std::string env = "SSEPUSH_" + o.key;
        for (auto& c : env)
            c = c == '.' ? '_' : char(std::toupper(static_cast<unsigned char>(c)));
        EXPECT_EQ(o.env, env);
        EXPECT_FALSE(o.help.empty());
        EXPECT_EQ(o.help.find('\n'), std::string::npos);
    }
    bool seen = false;
    for (const auto& o : ssepushd::option_table()) {
        if (o.key != "events.idle_timeout") continue;
        seen = true;
        EXPECT_EQ(o.flag, "--idle-timeout");
        EXPECT_EQ(o.env, "SSEPUSH_EVENTS_IDLE_TIMEOUT");
        EXPECT_EQ(o.section, "events");
        EXPECT_EQ(o.name, "idle_timeout");
        EXPECT_EQ(o.type, "duration");
        EXPECT_EQ(o.default_value, "30s");
    }
    EXPECT_TRUE(seen);
}

// Flags drop the section, so every name must be unique across sections, and
// must not collide with a --no-X form, an older alias or a built-in flag.
TEST(config_table, flag_and_env_names_are_unique) {
    std::set<std::string> flags{"--help", "--version", "--config", "--check-config"};
    std::set<std::string> envs{"SSEPUSH_CONFIG"};
    std::set<std::string> keys;
    for (const auto& o : ssepushd::option_table()) {
        EXPECT_TRUE(keys.insert(o.key).second) << o.key;
        EXPECT_TRUE(flags.insert(o.flag).second) << o.flag;
        if (o.type == "bool") {
            EXPECT_TRUE(flags.insert("--no-" + o.flag.substr(2)).second) << o.flag;
        }
        EXPECT_TRUE(envs.insert(o.env).second) << o.env;
    }
    for (const auto& a : ssepushd::flag_aliases()) {
        EXPECT_TRUE(flags.insert(a.flag).second) << a.flag;
        EXPECT_TRUE(keys.count(a.key)) << a.flag << " -> " << a.key;
    }
}

TEST(config_table, covers_the_issue_keys) {
    std::set<std::string> keys;
    for (const auto& o : ssepushd::option_table())
        keys.insert(o.key);
    for (const char* k : {"listen",
                          "shards",
                          "demo",
                          "publish_key",
                          "redis",
                          "log_level",
                          "log_file",
                          "pin_threads",
                          "events.heartbeat_interval",
                          "events.idle_timeout",
                          "events.notify_channel_of_subscriptions",
                          "events.limit_to_authenticated_users",
                          "events.validate_user_address",
                          "events.max_channels_per_subscription",
                          "events.max_channel_name_length",
                          "events.cors_origins",
                          "events.base_url",
                          "events.trust_forwarded_headers",
                          "events.stream_path",
                          "events.heartbeat_path",
                          "events.unregister_path",
                          "events.subscribers_path",
                          "events.update_subscriber_path",
                          "events.predefined_routes",
                          "limits.max_connections",
                          "limits.max_queue_bytes",
                          "limits.slow_consumer",
                          "limits.socket_send_buffer",
                          "limits.header_timeout",
                          "limits.keepalive_timeout",
                          "limits.write_stall_timeout",
                          "limits.drain_timeout",
                          "limits.max_body",
                          "limits.max_header_bytes",
                          "jwt.hs256_secret",
                          "jwt.hs256_secret_base64",
                          "jwt.rs256_public_key_file",
                          "jwt.issuer",
                          "jwt.audience",
                          "jwt.leeway",
                          "jwt.cookie",
                          "jwt.query_param",
                          "chat.history"})
        EXPECT_TRUE(keys.count(k)) << k;
}

// --- defaults ------------------------------------------------------------------------

TEST_F(config, defaults_without_any_source) {
    auto r = load({});
    EXPECT_EQ(r.status, load_status::ok);
    EXPECT_TRUE(r.warnings.empty());
    const daemon_config& c = r.config;
    const daemon_config d;
    EXPECT_EQ(values_of(c), values_of(d));
    EXPECT_EQ(c.listen, "127.0.0.1:8080");
    EXPECT_EQ(c.engine.address, "127.0.0.1");
    EXPECT_EQ(c.engine.port, 8080);
    EXPECT_EQ(c.engine.shards, 0u);
    EXPECT_TRUE(c.engine.pin_threads);
    EXPECT_EQ(c.events.idle_timeout, 30s);
    EXPECT_EQ(c.events.heartbeat_interval, 10s);
    EXPECT_EQ(c.engine.max_queue_bytes, 1024u * 1024u);
    EXPECT_EQ(c.jwt.cookie, "ss-tok");
    EXPECT_EQ(c.jwt.leeway, 60s);
    EXPECT_FALSE(c.jwt.enabled());
    EXPECT_TRUE(c.config_file.empty());
    ASSERT_EQ(c.sources.size(), ssepushd::option_table().size());
    for (const auto& [k, s] : c.sources)
        EXPECT_EQ(s, "default") << k;
}

TEST_F(config, a_file_restating_defaults_changes_nothing) {
    for (const auto& o : ssepushd::option_table()) {
        SCOPED_TRACE(o.key);
        if (o.type == "bool") {
            EXPECT_TRUE(o.default_value == "true" || o.default_value == "false");
        }
    }
    const std::string toml = "shards = 0\n[limits]\nmax_queue_bytes = \"1MiB\"\n";
    auto r = load({"--config", write("d.toml", toml)});
    EXPECT_EQ(values_of(r.config), values_of(daemon_config{}));
}

// --- each source alone, and precedence --------------------------------------------

TEST_F(config, a_flag_alone) {
    auto c = load({"--shards", "4", "--idle-timeout=45s"}).config;
    EXPECT_EQ(c.shards, 4u);
    EXPECT_EQ(c.engine.shards, 4u);
    EXPECT_EQ(c.events.idle_timeout, 45s);
    EXPECT_EQ(source_of(c, "shards"), "flag --shards");
    EXPECT_EQ(source_of(c, "events.idle_timeout"), "flag --idle-timeout");
    EXPECT_EQ(source_of(c, "listen"), "default");
}

TEST_F(config, the_environment_alone) {
    auto c = load({}, {"SSEPUSH_SHARDS=4", "SSEPUSH_EVENTS_IDLE_TIMEOUT=45s", "HOME=/x",
                       "SSEPUSH_JWT_ISSUER=me"})
                 .config;
    EXPECT_EQ(c.shards, 4u);
    EXPECT_EQ(c.events.idle_timeout, 45s);
    EXPECT_EQ(c.jwt.issuer, "me");
    EXPECT_EQ(source_of(c, "shards"), "env SSEPUSH_SHARDS");
    EXPECT_EQ(source_of(c, "events.idle_timeout"), "env SSEPUSH_EVENTS_IDLE_TIMEOUT");
}

TEST_F(config, the_file_alone) {
    const auto p = write("a.toml",
                         "shards = 4\n"
                         "[events]\n"
                         "idle_timeout = \"45s\"\n"
                         "[limits]\n"
                         "max_body = \"64KiB\"\n");
    auto c = load({"--config", p}).config;
    EXPECT_EQ(c.config_file, p);
    EXPECT_EQ(c.shards, 4u);
    EXPECT_EQ(c.events.idle_timeout, 45s);
    EXPECT_EQ(c.engine.limits.max_body_bytes, 64u * 1024u);
    EXPECT_EQ(source_of(c, "shards"), "file " + p + ":1");
    EXPECT_EQ(source_of(c, "events.idle_timeout"), "file " + p + ":3");
    EXPECT_EQ(source_of(c, "limits.max_body"), "file " + p + ":5");
}

TEST_F(config, dotted_keys_in_the_file_work_like_tables) {
    const auto p = write("a.toml", "events.idle_timeout = \"45s\"\nlimits.max_connections = 7\n");
    auto c = load({"--config", p}).config;
    EXPECT_EQ(c.events.idle_timeout, 45s);
    EXPECT_EQ(c.engine.max_connections_per_shard, 7u);
}

TEST_F(config, the_file_named_by_ssepush_config_and_config_beats_it) {
    const auto a = write("a.toml", "shards = 2\n");
    const auto b = write("b.toml", "shards = 3\n");
    EXPECT_EQ(load({}, {"SSEPUSH_CONFIG=" + a}).config.shards, 2u);
    EXPECT_EQ(load({"--config", b}, {"SSEPUSH_CONFIG=" + a}).config.shards, 3u);
    EXPECT_EQ(load({"--config=" + b}).config.config_file, b);
}

TEST_F(config, flag_beats_env_beats_file_beats_default) {
    const auto p = write("p.toml",
                         "shards = 2\n"
                         "log_level = \"warn\"\n"
                         "[events]\n"
                         "idle_timeout = \"40s\"\n"
                         "cors_origins = [\"https://file.example\"]\n"
                         "heartbeat_interval = \"5s\"\n"
                         "[limits]\n"
                         "slow_consumer = \"drop-oldest\"\n");
    auto c = load({"--config", p, "--shards", "4", "--cors-origins", "https://flag.example"},
                  {"SSEPUSH_SHARDS=3", "SSEPUSH_EVENTS_IDLE_TIMEOUT=50s",
                   "SSEPUSH_EVENTS_CORS_ORIGINS=https://env.example",
                   "SSEPUSH_LIMITS_SLOW_CONSUMER=disconnect"})
                 .config;
    EXPECT_EQ(c.shards, 4u);  // flag over env and file
    EXPECT_EQ(source_of(c, "shards"), "flag --shards");
    EXPECT_EQ(c.events.idle_timeout, 50s);  // env over file
    EXPECT_EQ(source_of(c, "events.idle_timeout"), "env SSEPUSH_EVENTS_IDLE_TIMEOUT");
    EXPECT_EQ(c.engine.slow_consumer, ssepush::engine::slow_consumer_policy::disconnect);
    EXPECT_EQ(c.level, ssepushd::log_level::warn);  // file over default
    EXPECT_EQ(source_of(c, "log_level"), "file " + p + ":2");
    EXPECT_EQ(c.events.heartbeat_interval, 5s);
    // A list from a higher source replaces the lower one.
    EXPECT_EQ(c.events.cors_origins, std::vector<std::string>{"https://flag.example"});
    EXPECT_EQ(c.engine.max_connections_per_shard, 20000u);  // default
    EXPECT_EQ(source_of(c, "limits.max_connections"), "default");

    auto e = load({"--config", p}, {"SSEPUSH_EVENTS_CORS_ORIGINS=https://env.example"}).config;
    EXPECT_EQ(e.events.cors_origins, std::vector<std::string>{"https://env.example"});
}

TEST_F(config, every_source_is_validated_even_when_overridden) {
    const auto p = write("bad.toml", "shards = 99\n");
    EXPECT_EQ(error_of({"--config", p, "--shards", "2"}),
              "shards: must be at most 62, got 99 (a subscription id names its shard) (from " + p +
                  ":1)");
    EXPECT_EQ(error_of({"--shards", "2"}, {"SSEPUSH_SHARDS=x"}),
              "shards: expected a whole number, got 'x' (from SSEPUSH_SHARDS)");
}

// --- value types ---------------------------------------------------------------------

TEST_F(config, sizes) {
    EXPECT_EQ(load({"--max-queue-bytes", "64KiB"}).config.engine.max_queue_bytes, 65536u);
    EXPECT_EQ(load({"--max-queue-bytes", "2MiB"}).config.engine.max_queue_bytes, 2u << 20);
    EXPECT_EQ(load({"--max-queue-bytes", "65536"}).config.engine.max_queue_bytes, 65536u);
    EXPECT_EQ(load({"--max-queue-bytes", "4096B"}).config.engine.max_queue_bytes, 4096u);
    EXPECT_EQ(load({"--max-body", "1GiB"}).config.engine.limits.max_body_bytes, 1u << 30);
    EXPECT_EQ(load({"--max-body", "0"}).config.engine.limits.max_body_bytes, 0u);
    EXPECT_EQ(load({"--socket-send-buffer=256KiB"}).config.engine.socket_send_buffer, 256u << 10);
    EXPECT_EQ(load({"--max-header-bytes", "8KiB"}).config.engine.limits.max_header_bytes, 8u << 10);
    // In the file: a string with a unit, or an integer of bytes.
    auto p = write("s.toml", "[limits]\nmax_queue_bytes = 8192\nmax_body = \"2MiB\"\n");
    auto c = load({"--config", p}).config;
    EXPECT_EQ(c.engine.max_queue_bytes, 8192u);
    EXPECT_EQ(c.engine.limits.max_body_bytes, 2u << 20);

    EXPECT_EQ(error_of({"--max-queue-bytes", "64KB"}),
              "limits.max_queue_bytes: expected a size like 65536, 64KiB or 1MiB, got '64KB' "
              "(units: B, KiB, MiB, GiB) (from --max-queue-bytes)");
    EXPECT_EQ(error_of({"--max-queue-bytes", "lots"}),
              "limits.max_queue_bytes: expected a size like 65536, 64KiB or 1MiB, got 'lots' "
              "(from --max-queue-bytes)");
    EXPECT_EQ(error_of({"--max-queue-bytes", "512"}),
              "limits.max_queue_bytes: must be at least 1KiB, got 512 (from --max-queue-bytes)");
    EXPECT_EQ(error_of({"--max-body", "2GiB"}),
              "limits.max_body: must be at most 1GiB, got 2GiB (from --max-body)");
    EXPECT_EQ(error_of({}, {"SSEPUSH_LIMITS_MAX_HEADER_BYTES=99999999999999999999KiB"}),
              "limits.max_header_bytes: expected a size like 65536, 64KiB or 1MiB, got "
              "'99999999999999999999KiB' (from SSEPUSH_LIMITS_MAX_HEADER_BYTES)");
    p = write("n.toml", "[limits]\nmax_body = -1\n");
    EXPECT_EQ(error_of({"--config", p}),
              "limits.max_body: must not be negative, got -1 (from " + p + ":2)");
    p = write("f.toml", "[limits]\nmax_body = 1.5\n");
    EXPECT_EQ(error_of({"--config", p}),
              "limits.max_body: expected a size like 65536 or \"64KiB\", got 1.5 (a float) (from " +
                  p + ":2)");
}

TEST_F(config, durations) {
    EXPECT_EQ(load({"--idle-timeout", "500ms", "--heartbeat-interval", "100ms"})
                  .config.events.idle_timeout,
              500ms);
    EXPECT_EQ(load({"--idle-timeout", "20s"}).config.events.idle_timeout, 20s);
    EXPECT_EQ(load({"--idle-timeout", "2m"}).config.events.idle_timeout, 2min);
    EXPECT_EQ(load({"--idle-timeout", "1h"}).config.events.idle_timeout, 1h);
    EXPECT_EQ(load({"--header-timeout", "2s"}).config.engine.header_timeout_ms, 2000u);
    EXPECT_EQ(load({"--keepalive-timeout", "2m"}).config.engine.keepalive_timeout_ms, 120000u);
    EXPECT_EQ(load({"--write-stall-timeout", "1s"}).config.engine.write_stall_timeout_ms, 1000u);
    EXPECT_EQ(load({"--drain-timeout", "0s"}).config.engine.drain_timeout_ms, 0u);
    EXPECT_EQ(load({"--leeway", "2m"}).config.jwt.leeway, 120s);
    EXPECT_EQ(load({"--leeway", "0s"}).config.jwt.leeway, 0s);

    // A bare number needs a unit...
    EXPECT_EQ(error_of({"--idle-timeout", "30"}),
              "events.idle_timeout: expected a duration like 30s or 500ms, got '30': a number "
              "needs a unit (ms, s, m, h) (from --idle-timeout)");
    EXPECT_EQ(error_of({}, {"SSEPUSH_EVENTS_IDLE_TIMEOUT=soon"}),
              "events.idle_timeout: expected a duration like 30s or 500ms, got 'soon' (from "
              "SSEPUSH_EVENTS_IDLE_TIMEOUT)");
    EXPECT_EQ(error_of({"--idle-timeout", "3d"}),
              "events.idle_timeout: expected a duration like 30s or 500ms, got '3d' (units: ms, "
              "s, m, h) (from --idle-timeout)");
    auto p = write("d.toml", "[events]\nidle_timeout = 30\n");
    EXPECT_EQ(error_of({"--config", p}),
              "events.idle_timeout: expected a duration like \"30s\" or \"500ms\", got 30: a "
              "number needs a unit (ms, s, m, h) (from " +
                  p + ":2)");
    // ...except through the older *-ms flags.
    auto c =
        load({"--idle-timeout-ms", "30000", "--heartbeat-interval-ms", "500", "--header-timeout-ms",
              "7000", "--keepalive-timeout-ms", "8000", "--write-stall-timeout-ms", "9000"})
            .config;
    EXPECT_EQ(c.events.idle_timeout, 30s);
    EXPECT_EQ(c.events.heartbeat_interval, 500ms);
    EXPECT_EQ(c.engine.header_timeout_ms, 7000u);
    EXPECT_EQ(c.engine.keepalive_timeout_ms, 8000u);
    EXPECT_EQ(c.engine.write_stall_timeout_ms, 9000u);
    EXPECT_EQ(source_of(c, "events.idle_timeout"), "flag --idle-timeout-ms");
    EXPECT_EQ(load({"--idle-timeout-ms", "1m"}).config.events.idle_timeout, 1min);

    // Out of range.
    EXPECT_EQ(error_of({"--idle-timeout", "0s"}),
              "events.idle_timeout: must be greater than 0, got 0s (from --idle-timeout)");
    EXPECT_EQ(error_of({"--header-timeout-ms", "0"}),
              "limits.header_timeout: must be greater than 0, got 0s (from --header-timeout-ms)");
    EXPECT_EQ(error_of({"--keepalive-timeout", "25h"}),
              "limits.keepalive_timeout: must be at most 24h, got 25h (from --keepalive-timeout)");
    EXPECT_EQ(error_of({"--leeway", "1500ms"}),
              "jwt.leeway: must be a whole number of seconds, got 1500ms (from --leeway)");
}

TEST_F(config, heartbeat_must_be_shorter_than_idle_timeout) {
    EXPECT_EQ(error_of({"--heartbeat-interval", "30s"}),
              "events.heartbeat_interval (30s, flag --heartbeat-interval) must be shorter than "
              "events.idle_timeout (30s, default): clients would expire between heartbeats");
    EXPECT_EQ(error_of({"--idle-timeout", "5s"}),
              "events.heartbeat_interval (10s, default) must be shorter than events.idle_timeout "
              "(5s, flag --idle-timeout): clients would expire between heartbeats");
    EXPECT_EQ(load({"--heartbeat-interval", "29s"}).config.events.heartbeat_interval, 29s);
}

TEST_F(config, enumerations) {
    EXPECT_EQ(load({"--log-level", "debug"}).config.level, ssepushd::log_level::debug);
    EXPECT_EQ(load({}, {"SSEPUSH_LOG_LEVEL=error"}).config.level, ssepushd::log_level::error);
    EXPECT_EQ(load({"--slow-consumer", "drop-oldest"}).config.engine.slow_consumer,
              ssepush::engine::slow_consumer_policy::drop_oldest);
    EXPECT_EQ(error_of({"--slow-consumer", "drop_oldest"}),
              "limits.slow_consumer: expected disconnect or drop-oldest, got 'drop_oldest' (from "
              "--slow-consumer)");
    EXPECT_EQ(error_of({}, {"SSEPUSH_LOG_LEVEL=verbose"}),
              "log_level: expected error, warn, info or debug, got 'verbose' (from "
              "SSEPUSH_LOG_LEVEL)");
    auto p = write("e.toml", "log_level = 3\n");
    EXPECT_EQ(error_of({"--config", p}),
              "log_level: expected a string, got 3 (an integer) (from " + p + ":1)");
}

TEST_F(config, lists) {
    using list = std::vector<std::string>;
    // Flags: comma-separated and repeatable; --cors-origin (older) adds one.
    auto c = load({"--cors-origins", "https://a.example, https://b.example", "--cors-origins",
                   "https://c.example", "--cors-origin", "*"})
                 .config;
    EXPECT_EQ(c.events.cors_origins,
              (list{"https://a.example", "https://b.example", "https://c.example", "*"}));
    EXPECT_EQ(load({}, {"SSEPUSH_EVENTS_CORS_ORIGINS=https://a.example,http://b.example:8080"})
                  .config.events.cors_origins,
              (list{"https://a.example", "http://b.example:8080"}));
    auto p = write("l.toml", "[events]\ncors_origins = [\"https://a.example\", \"*\"]\n");
    EXPECT_EQ(load({"--config", p}).config.events.cors_origins, (list{"https://a.example", "*"}));
    // An empty value in a higher source empties the list.
    EXPECT_TRUE(
        load({"--config", p}, {"SSEPUSH_EVENTS_CORS_ORIGINS="}).config.events.cors_origins.empty());

    p = write("s.toml", "[events]\ncors_origins = \"https://a.example\"\n");
    EXPECT_EQ(
        error_of({"--config", p}),
        "events.cors_origins: expected an array of strings like [\"https://app.example.com\"], "
        "got 'https://a.example' (a string) (from " +
            p + ":2)");
    p = write("t.toml", "[events]\ncors_origins = [\"https://a.example\", 3]\n");
    EXPECT_EQ(error_of({"--config", p}),
              "events.cors_origins: expected an array of strings, but element 2 is 3 (an "
              "integer) (from " +
                  p + ":2)");
    EXPECT_EQ(error_of({"--cors-origins", "https://a.example/"}),
              "events.cors_origins: 'https://a.example/' is not an origin: expected "
              "scheme://host[:port] without a path (like https://app.example.com), or * (from "
              "--cors-origins)");
    EXPECT_EQ(error_of({"--cors-origin", "a.example"}),
              "events.cors_origins: 'a.example' is not an origin: expected scheme://host[:port] "
              "without a path (like https://app.example.com), or * (from --cors-origin)");
}

TEST_F(config, booleans) {
    EXPECT_TRUE(load({"--demo"}).config.demo);
    EXPECT_FALSE(load({"--demo", "--no-demo"}).config.demo);
    EXPECT_FALSE(load({"--demo=false"}).config.demo);
    EXPECT_TRUE(load({"--demo=yes"}).config.demo);
    EXPECT_TRUE(load({}, {"SSEPUSH_DEMO=true"}).config.demo);
    EXPECT_FALSE(load({"--no-pin-threads"}).config.engine.pin_threads);
    EXPECT_FALSE(load({}, {"SSEPUSH_PIN_THREADS=0"}).config.pin_threads);
    EXPECT_FALSE(load({"--no-validate-user-address"}).config.events.validate_user_address);
    auto p = write("b.toml", "demo = true\n[events]\npredefined_routes = false\n");
    auto c = load({"--config", p}).config;
    EXPECT_TRUE(c.demo);
    EXPECT_FALSE(c.events.predefined_routes);
    // Older flags.
    c = load({"--no-pin", "--no-user-address-check", "--limit-to-authenticated", "--hs256-secret",
              "k"})
            .config;
    EXPECT_FALSE(c.pin_threads);
    EXPECT_FALSE(c.engine.pin_threads);
    EXPECT_FALSE(c.events.validate_user_address);
    EXPECT_TRUE(c.events.limit_to_authenticated_users);

    EXPECT_EQ(error_of({"--demo=maybe"}),
              "demo: expected true or false, got 'maybe' (from --demo)");
    EXPECT_EQ(error_of({}, {"SSEPUSH_DEMO="}),
              "demo: expected true or false, got '' (from "
              "SSEPUSH_DEMO)");
    p = write("s.toml", "demo = \"yes\"\n");
    EXPECT_EQ(error_of({"--config", p}),
              "demo: expected true or false, got 'yes' (a string) (from " + p + ":1)");
    EXPECT_EQ(error_of({"--no-demo=true"}), "--no-demo takes no value");
    EXPECT_EQ(error_of({"--no-pin=1"}), "--no-pin takes no value");
    EXPECT_EQ(error_of({"--demo", "false"}),
              "unexpected argument 'false' (booleans are written --flag, --no-flag or "
              "--flag=false)");
}

TEST_F(config, whole_numbers) {
    EXPECT_EQ(load({"--max-connections", "100"}).config.engine.max_connections_per_shard, 100u);
    EXPECT_EQ(
        load({"--max-channels-per-subscription", "3"}).config.events.max_channels_per_subscription,
        3u);
    EXPECT_EQ(load({"--history", "0"}).config.chat_history, 0u);
    EXPECT_EQ(load({"--shards", "62"}).config.shards, 62u);
    EXPECT_EQ(error_of({"--shards", "63"}),
              "shards: must be at most 62, got 63 (a subscription id names its shard) (from "
              "--shards)");
    EXPECT_EQ(error_of({"--shards", "-1"}),
              "shards: expected a whole number, got '-1' (from --shards)");
    EXPECT_EQ(error_of({"--max-connections", "0"}),
              "limits.max_connections: must be greater than 0, got 0 (from --max-connections)");
    EXPECT_EQ(error_of({"--max-channel-name-length", "70000"}),
              "events.max_channel_name_length: must be at most 65535, got 70000 (from "
              "--max-channel-name-length)");
    auto p = write("u.toml", "shards = \"4\"\n");
    EXPECT_EQ(error_of({"--config", p}),
              "shards: expected a whole number, got '4' (a string) (from " + p + ":1)");
    p = write("v.toml", "[chat]\nhistory = -5\n");
    EXPECT_EQ(error_of({"--config", p}),
              "chat.history: must not be negative, got -5 (from " + p + ":2)");
}

TEST_F(config, listen) {
    auto c = load({"--listen", "localhost:9000"}).config;
    EXPECT_EQ(c.engine.address, "127.0.0.1");
    EXPECT_EQ(c.engine.port, 9000);
    EXPECT_EQ(c.listen, "localhost:9000");
    c = load({"--listen", "[::1]:8081"}).config;
    EXPECT_EQ(c.engine.address, "::1");
    EXPECT_EQ(c.engine.port, 8081);
    c = load({}, {"SSEPUSH_LISTEN=0.0.0.0:0"}).config;
    EXPECT_EQ(c.engine.address, "0.0.0.0");
    EXPECT_EQ(c.engine.port, 0);
    c = load({"--listen", "[::]:65535"}).config;
    EXPECT_EQ(c.engine.address, "::");
    EXPECT_EQ(c.engine.port, 65535);

    EXPECT_EQ(error_of({"--listen", "example.com:80"}),
              "listen: 'example.com' is not an IP address: use an IPv4 address, [IPv6] or "
              "localhost (host names are not resolved) (from --listen)");
    EXPECT_EQ(error_of({"--listen", "::1:80"}),
              "listen: an IPv6 address needs brackets: [::1]:80 (from --listen)");
    EXPECT_EQ(error_of({"--listen", "127.0.0.1:70000"}),
              "listen: the port must be a number from 0 to 65535, got '70000' (from --listen)");
    EXPECT_EQ(error_of({"--listen", "127.0.0.1"}),
              "listen: expected HOST:PORT (like 127.0.0.1:8080 or [::1]:8080), got '127.0.0.1' "
              "(from --listen)");
    EXPECT_EQ(error_of({"--listen", ":8080"}),
              "listen: missing host: use 0.0.0.0:PORT for every IPv4 address, [::]:PORT for all "
              "(from --listen)");
    EXPECT_EQ(error_of({"--listen", "[1.2.3.4]:80"}),
              "listen: '1.2.3.4' is not an IPv6 address (from --listen)");
    EXPECT_EQ(error_of({"--listen", "[::1]80"}),
              "listen: expected [IPv6]:PORT, got '[::1]80' (from --listen)");
}

TEST_F(config, older_address_and_port_flags_adjust_listen) {
    auto c = load({"--port", "0"}).config;
    EXPECT_EQ(c.listen, "127.0.0.1:0");
    EXPECT_EQ(c.engine.port, 0);
    EXPECT_EQ(source_of(c, "listen"), "flag --port");
    c = load({"--address", "::1", "--port", "9"}).config;
    EXPECT_EQ(c.listen, "[::1]:9");
    EXPECT_EQ(c.engine.address, "::1");
    EXPECT_EQ(source_of(c, "listen"), "flag --address --port");
    c = load({"--address", "0.0.0.0"}, {"SSEPUSH_LISTEN=127.0.0.1:7000"}).config;
    EXPECT_EQ(c.listen, "0.0.0.0:7000");
    EXPECT_EQ(error_of({"--listen", "127.0.0.1:1", "--port", "2"}),
              "listen: give --listen HOST:PORT or --address / --port, not both");
    EXPECT_EQ(error_of({"--port", "x"}),
              "listen: the port must be a number from 0 to 65535, got 'x' (from --port)");
    EXPECT_EQ(error_of({"--address", "host.example"}),
              "listen: 'host.example' is not an IP address: use an IPv4 address, [IPv6] or "
              "localhost (host names are not resolved) (from --address)");
}

TEST_F(config, paths_and_urls) {
    auto c = load({"--stream-path", "/sse", "--heartbeat-path=", "--base-url",
                   "https://push.example.com"})
                 .config;
    EXPECT_EQ(c.events.stream_path, "/sse");
    EXPECT_EQ(c.events.heartbeat_path, "");
    EXPECT_EQ(c.events.base_url, "https://push.example.com");
    EXPECT_EQ(error_of({"--stream-path", "event-stream"}),
              "events.stream_path: must start with '/' (or be empty to turn the endpoint off), "
              "got 'event-stream' (from --stream-path)");
    EXPECT_EQ(error_of({}, {"SSEPUSH_EVENTS_SUBSCRIBERS_PATH=/a?b"}),
              "events.subscribers_path: must be a plain path, without '?', '#' or spaces, got "
              "'/a?b' (from SSEPUSH_EVENTS_SUBSCRIBERS_PATH)");
    EXPECT_EQ(error_of({"--base-url", "https://push.example.com/"}),
              "events.base_url: must not end with '/' (the paths are appended to it), got "
              "'https://push.example.com/' (from --base-url)");
    EXPECT_EQ(error_of({"--base-url", "push.example.com"}),
              "events.base_url: expected an absolute URL like https://push.example.com, got "
              "'push.example.com' (from --base-url)");
    EXPECT_EQ(error_of({"--log-file", "a\nb"}),
              "log_file: must not contain control characters (from --log-file)");
    EXPECT_EQ(error_of({"--cookie", "ss tok"}),
              "jwt.cookie: 'ss tok' is not a valid cookie name (from --cookie)");
    EXPECT_EQ(load({"--cookie="}).config.jwt.cookie, "");
    EXPECT_EQ(load({"--redis", "redis://:pw@10.0.0.5:6380/1"}).config.redis,
              "redis://:pw@10.0.0.5:6380/1");
    EXPECT_EQ(load({}, {"SSEPUSH_REDIS=redis://127.0.0.1"}).config.redis, "redis://127.0.0.1");
    // The password is never echoed back.
    EXPECT_EQ(error_of({"--redis", "redis://:secret@redis.internal:6379"}),
              "redis: host must be a numeric IP address or localhost, got 'redis.internal' "
              "(expected redis://[:password@]host[:port][/db]) (from --redis)");
    EXPECT_EQ(error_of({"--query-param", "a&b"}),
              "jwt.query_param: 'a&b' is not a plain query parameter name (from --query-param)");
}

TEST_F(config, jwt_keys) {
    auto c = load({}, {"SSEPUSH_JWT_HS256_SECRET=shh"}).config;
    EXPECT_EQ(c.jwt.hs256_secret, "shh");
    EXPECT_TRUE(c.jwt.enabled());
    c = load({"--hs256-secret-base64", "c2VjcmV0"}).config;
    EXPECT_EQ(c.jwt.hs256_secret_base64, "c2VjcmV0");
    const auto pem = write("key.pem",
                           "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcD\n"
                           "-----END PUBLIC KEY-----\n");
    c = load({"--rs256-public-key-file", pem, "--issuer", "https://auth.example", "--audience",
              "push"})
            .config;
    EXPECT_EQ(c.jwt.rs256_public_key_file, pem);
    EXPECT_EQ(c.jwt.issuer, "https://auth.example");
    EXPECT_EQ(c.jwt.audience, "push");

    EXPECT_EQ(error_of({"--hs256-secret", "a"}, {"SSEPUSH_JWT_RS256_PUBLIC_KEY_FILE=" + pem}),
              "jwt: give at most one of hs256_secret, hs256_secret_base64 and "
              "rs256_public_key_file; set: jwt.hs256_secret (flag --hs256-secret), "
              "jwt.rs256_public_key_file (env SSEPUSH_JWT_RS256_PUBLIC_KEY_FILE)");
    // The secret never appears in the error.
    const std::string bad = error_of({}, {"SSEPUSH_JWT_HS256_SECRET_BASE64=not*base64!"});
    EXPECT_EQ(bad,
              "jwt.hs256_secret_base64: is not valid base64 (from "
              "SSEPUSH_JWT_HS256_SECRET_BASE64)");
    const auto p = write("j.toml", "[jwt]\nhs256_secret = 12345\n");
    EXPECT_EQ(error_of({"--config", p}),
              "jwt.hs256_secret: expected a string, got an integer (from " + p + ":2)");
    const std::string missing = (dir_ / "nope.pem").string();
    EXPECT_EQ(error_of({"--rs256-public-key-file", missing}),
              "jwt.rs256_public_key_file: cannot read '" + missing +
                  "': No such file or directory (from --rs256-public-key-file)");
    const auto notpem = write("key.txt", "hello\n");
    EXPECT_EQ(error_of({"--rs256-public-key-file", notpem}),
              "jwt.rs256_public_key_file: '" + notpem +
                  "' is not a PEM file (no -----BEGIN line) (from --rs256-public-key-file)");
    EXPECT_EQ(error_of({"--publish-key", "has space"}),
              "publish_key: must not contain spaces or control characters (from --publish-key)");
}

TEST(config_base64, decodes_standard_and_url_safe) {
    EXPECT_EQ(ssepushd::decode_base64("c2VjcmV0"), "secret");
    EXPECT_EQ(ssepushd::decode_base64("YQ=="), "a");
    EXPECT_EQ(ssepushd::decode_base64("YQ"), "a");
    EXPECT_EQ(ssepushd::decode_base64("YWI="), "ab");
    EXPECT_EQ(ssepushd::decode_base64("-_8="), std::string("\xfb\xff", 2));
    EXPECT_EQ(ssepushd::decode_base64("+/8="), std::string("\xfb\xff", 2));
    EXPECT_EQ(ssepushd::decode_base64(""), "");
    EXPECT_FALSE(ssepushd::decode_base64("Y"));
    EXPECT_FALSE(ssepushd::decode_base64("YQ="));
    EXPECT_FALSE(ssepushd::decode_base64("Y*=="));
    EXPECT_FALSE(ssepushd::decode_base64("YQ==YQ=="));
}

// --- errors from the file and the command line ------------------------------------

TEST_F(config, unknown_keys_in_the_file_with_a_suggestion) {
    auto p = write("u.toml", "[events]\nidle_timout = \"30s\"\n");
    EXPECT_EQ(error_of({"--config", p}),
              p + ":2: unknown key 'events.idle_timout' (did you mean 'events.idle_timeout'?)");
    p = write("v.toml", "shards = 1\nidle_timeout = \"30s\"\n");
    EXPECT_EQ(error_of({"--config", p}),
              p + ":2: unknown key 'idle_timeout' (did you mean 'events.idle_timeout'?)");
    p = write("w.toml", "[limits]\nheartbeat_interval = \"5s\"\n");
    EXPECT_EQ(error_of({"--config", p}),
              p + ":2: unknown key 'limits.heartbeat_interval' (did you mean "
                  "'events.heartbeat_interval'?)");
    p = write("x.toml", "\n[evnts]\nidle_timeout = \"30s\"\n");
    EXPECT_EQ(error_of({"--config", p}),
              p + ":2: unknown section [evnts] (did you mean [events]?)");
    p = write("y.toml", "frobnicate = 1\n");
    EXPECT_EQ(error_of({"--config", p}), p + ":1: unknown key 'frobnicate'");
    p = write("z.toml", "events = 3\n");
    EXPECT_EQ(error_of({"--config", p}),
              p + ":1: 'events' is a section: write [events] and its keys below it, got 3 (an "
                  "integer)");
    p = write("n.toml", "[events.extra]\nx = 1\n");
    EXPECT_EQ(error_of({"--config", p}), p + ":1: unknown key 'events.extra'");
}

TEST_F(config, file_syntax_errors_and_unreadable_files) {
    auto p = write("bad.toml", "shards = 1\nlisten = \n");
    const std::string e = error_of({"--config", p});
    EXPECT_EQ(e.rfind(p + ":2:", 0), 0u) << e;
    p = write("dup.toml", "shards = 1\nshards = 2\n");
    EXPECT_EQ(error_of({"--config", p}).rfind(p + ":2:", 0), 0u);
    const std::string missing = (dir_ / "missing.toml").string();
    EXPECT_EQ(error_of({"--config", missing}),
              "cannot read config file '" + missing + "': No such file or directory");
    EXPECT_EQ(error_of({}, {"SSEPUSH_CONFIG=" + missing}),
              "cannot read config file '" + missing + "': No such file or directory");
}

TEST_F(config, unknown_and_malformed_flags) {
    EXPECT_EQ(error_of({"--idle-timout", "3s"}),
              "unknown option '--idle-timout' (did you mean --idle-timeout?)");
    EXPECT_EQ(error_of({"--no-deom"}), "unknown option '--no-deom' (did you mean --no-demo?)");
    EXPECT_EQ(error_of({"--frobnicate"}), "unknown option '--frobnicate'");
    EXPECT_EQ(error_of({"--listen"}), "--listen needs a value");
    EXPECT_EQ(error_of({"--listen", "--demo"}), "--listen needs a value");
    EXPECT_EQ(error_of({"--config"}), "--config needs a value");
    EXPECT_EQ(error_of({"serve"}), "unexpected argument 'serve'");
    EXPECT_EQ(error_of({"-x"}), "unexpected argument '-x'");
}

TEST_F(config, unknown_environment_variables_are_warnings) {
    auto r = load({}, {"SSEPUSH_IDLE_TIMEOUT=5s", "SSEPUSH_EVENTS_IDLE_TIMOUT=5s",
                       "SSEPUSH_SOMETHING_ELSE=1", "PATH=/bin"});
    EXPECT_EQ(r.config.events.idle_timeout, 30s);
    ASSERT_EQ(r.warnings.size(), 3u);
    EXPECT_EQ(r.warnings[0],
              "ignoring SSEPUSH_IDLE_TIMEOUT: not a setting (did you mean "
              "SSEPUSH_EVENTS_IDLE_TIMEOUT?)");
    EXPECT_EQ(r.warnings[1],
              "ignoring SSEPUSH_EVENTS_IDLE_TIMOUT: not a setting (did you mean "
              "SSEPUSH_EVENTS_IDLE_TIMEOUT?)");
    EXPECT_EQ(r.warnings[2], "ignoring SSEPUSH_SOMETHING_ELSE: not a setting");
}

// --- --help, --version, --check-config ----------------------------------------------

TEST_F(config, help_lists_every_key_with_its_flag_env_and_default) {
    auto r = load({"--shards", "1", "--help"});
    EXPECT_EQ(r.status, load_status::exit_ok);
    EXPECT_EQ(r.message, ssepushd::help_text());
    EXPECT_EQ(load({"-h"}).message, r.message);
    const std::string& h = r.message;
    for (const auto& o : ssepushd::option_table()) {
        SCOPED_TRACE(o.key);
        const std::string flag = o.type == "bool" ? "--[no-]" + o.flag.substr(2) : o.flag + " ";
        EXPECT_NE(h.find("  " + flag), std::string::npos);
        EXPECT_NE(h.find("env " + o.env + "\n"), std::string::npos);
        EXPECT_NE(h.find(o.help), std::string::npos);
        EXPECT_NE(h.find("default " + (o.default_value.empty() ? "empty" : o.default_value) +
                         ", env " + o.env),
                  std::string::npos);
    }
    for (const auto& a : ssepushd::flag_aliases())
        EXPECT_NE(h.find("  " + a.flag), std::string::npos);
    for (const char* s : {"[events]", "[limits]", "[jwt]", "[chat]", "--config FILE",
                          "--check-config FILE", "--version", "SSEPUSH_CONFIG"})
        EXPECT_NE(h.find(s), std::string::npos) << s;
    // Sections in order.
    EXPECT_LT(h.find("\n  --listen"), h.find("\n[events]"));
    EXPECT_LT(h.find("\n[events]"), h.find("\n  --idle-timeout DURATION"));
    EXPECT_LT(h.find("\n  --idle-timeout DURATION"), h.find("\n[limits]"));
}

TEST_F(config, version) {
    auto r = load({"--version"});
    EXPECT_EQ(r.status, load_status::exit_ok);
    EXPECT_EQ(r.message.rfind("ssepushd ", 0), 0u);
    EXPECT_EQ(r.message, ssepushd::version_text() + "\n");
}

TEST_F(config, check_config_prints_values_and_sources_without_secrets) {
    const auto p = write("c.toml",
                         "publish_key = \"hunter2\"\n"
                         "[events]\n"
                         "cors_origins = [\"https://a.example\"]\n"
                         "[jwt]\n"
                         "hs256_secret = \"s3cret-value\"\n");
    auto r =
        load({"--check-config", p, "--idle-timeout", "1m"}, {"SSEPUSH_SHARDS=3", "SSEPUSH_TYPO=1"});
    EXPECT_EQ(r.status, load_status::check_only);
    const std::string& m = r.message;
    EXPECT_EQ(m.find("hunter2"), std::string::npos) << m;
    EXPECT_EQ(m.find("s3cret-value"), std::string::npos) << m;
    EXPECT_EQ(r.config.publish_key, "hunter2");
    EXPECT_EQ(r.config.config_file, p);
    const auto line = [&](const std::string& start) {
        const auto at = m.find("\n" + start);
        return at == std::string::npos ? std::string("(missing)")
                                       : m.substr(at + 1, m.find('\n', at + 1) - at - 1);
    };
    // Values as TOML, then the source from column 48.
    const auto at48 = [](std::string v, const std::string& src) {
        v.resize(std::max<std::size_t>(v.size() + 1, 48), ' ');
        return v + "# " + src;
    };
    EXPECT_EQ(line("publish_key = "), at48("publish_key = (set)", "file " + p + ":1"));
    EXPECT_EQ(line("hs256_secret = "), at48("hs256_secret = (set)", "file " + p + ":5"));
    EXPECT_EQ(line("hs256_secret_base64 = "), at48("hs256_secret_base64 = \"\"", "default"));
    EXPECT_EQ(line("shards = "), at48("shards = 3", "env SSEPUSH_SHARDS"));
    EXPECT_EQ(line("idle_timeout = "), at48("idle_timeout = \"1m\"", "flag --idle-timeout"));
    EXPECT_EQ(line("cors_origins = "),
              at48("cors_origins = [\"https://a.example\"]", "file " + p + ":3"));
    EXPECT_EQ(line("max_queue_bytes = "), at48("max_queue_bytes = \"1MiB\"", "default"));
    EXPECT_EQ(line("socket_send_buffer = "), at48("socket_send_buffer = 0", "default"));
    EXPECT_EQ(line("listen = "), at48("listen = \"127.0.0.1:8080\"", "default"));
    EXPECT_EQ(line("demo = "), at48("demo = false", "default"));
    EXPECT_NE(m.find("\n[events]\n"), std::string::npos);
    EXPECT_NE(m.find("# warning: ignoring SSEPUSH_TYPO: not a setting"), std::string::npos);
    EXPECT_EQ(
        m.rfind("# " + ssepushd::version_text() + ": effective configuration (file " + p + ")\n",
                0),
        0u);

    // An invalid file fails the check.
    const auto bad = write("bad.toml", "[limits]\nmax_body = \"lots\"\n");
    EXPECT_EQ(error_of({"--check-config", bad}),
              "limits.max_body: expected a size like 65536, 64KiB or 1MiB, got 'lots' (from " +
                  bad + ":2)");
    EXPECT_EQ(error_of({"--check-config", p, "--config", bad}),
              "--check-config FILE names the file to check: drop --config " + bad);
    EXPECT_EQ(error_of({"--check-config"}), "--check-config needs a value");
}

// The example file holds every key, each with its default: it cannot drift.
TEST_F(config, the_example_file_holds_exactly_the_defaults) {
    auto r = load({"--check-config", SSEPUSHD_EXAMPLE_TOML});
    EXPECT_EQ(r.status, load_status::check_only);
    EXPECT_TRUE(r.warnings.empty());
    EXPECT_EQ(values_of(r.config), values_of(daemon_config{}));
    for (const auto& [k, s] : r.config.sources)
        EXPECT_EQ(s.rfind("file ", 0), 0u) << k << " is missing from the example file";
}

}  // namespace
