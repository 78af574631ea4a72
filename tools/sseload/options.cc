#include "options.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string_view>

namespace ssepush::sseload {

namespace {

using setter = std::function<void(options&, std::string_view)>;

struct option_def {
    const char* name;     // without the leading "--"
    const char* metavar;  // nullptr: a flag without a value
    const char* def;      // the default, as shown in --help
    const char* help;
    setter set;
};

[[noreturn]] void bad(const std::string& why) {
    throw std::invalid_argument(why);
}

double to_double(std::string_view v, double lo, double hi) {
    double d = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), d);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size() || !std::isfinite(d))
        bad("expected a number, got '" + std::string(v) + "'");
    if (d < lo || d > hi)
        bad("must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got '" +
            std::string(v) + "'");
    return d;
}

std::uint32_t to_u32(std::string_view v, std::uint64_t lo, std::uint64_t hi) {
    std::uint64_t n = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), n);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size())
        bad("expected a whole number, got '" + std::string(v) + "'");
    if (n < lo || n > hi)
        bad("must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
            std::to_string(n));
    return std::uint32_t(n);
}

bool to_bool(std::string_view v) {
    if (v == "on" || v == "true" || v == "yes" || v == "1") return true;
    if (v == "off" || v == "false" || v == "no" || v == "0") return false;
    bad("expected on or off, got '" + std::string(v) + "'");
}

std::uint32_t parse_ipv4(std::string_view v) {
    in_addr a{};
    std::string s(v);
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) bad("not an IPv4 address: '" + s + "'");
    std::uint32_t ip = ntohl(a.s_addr);
    if ((ip >> 24) != 127) bad("source addresses must be on loopback (127.0.0.0/8): '" + s + "'");
    return ip;
}

// http://host:port[/base]; loopback only.
endpoint parse_url(std::string_view v) {
    constexpr std::string_view scheme = "http://";
    if (v.substr(0, scheme.size()) != scheme)
        bad("expected http://HOST:PORT[/path], got '" + std::string(v) + "'");
    std::string_view rest = v.substr(scheme.size());
    std::size_t slash = rest.find('/');
    std::string_view hostport = rest.substr(0, slash);
    endpoint e;
    if (slash != std::string_view::npos) {
        e.base_path = std::string(rest.substr(slash));
        while (!e.base_path.empty() && e.base_path.back() == '/')
            e.base_path.pop_back();
    }
    std::size_t colon = hostport.rfind(':');
    std::string host(hostport.substr(0, colon));
    if (host == "localhost") host = "127.0.0.1";
    (void)parse_ipv4(host);  // loopback IPv4 only
    e.host = host;
    e.port = 80;
    if (colon != std::string_view::npos)
        e.port = std::uint16_t(to_u32(hostport.substr(colon + 1), 1, 65535));
    return e;
}

const std::vector<option_def>& table() {
    static const std::vector<option_def> t = {
        // --- what to run against
        {"scenario", "NAME", "broadcast",
         "idle: hold the connections (with heartbeats); broadcast: every subscriber on one "
         "channel; channels: each subscriber on --channels-per-sub of --channels channels; "
         "churn: like channels, with --churn-share of the connections reconnecting every "
         "second; slow: like broadcast, with --slow-share of the subscribers not reading",
         [](options& o, std::string_view v) {
             if (v == "idle")
                 o.scenario = scenario::idle;
             else if (v == "broadcast")
                 o.scenario = scenario::broadcast;
             else if (v == "channels")
                 o.scenario = scenario::channels;
             else if (v == "churn")
                 o.scenario = scenario::churn;
             else if (v == "slow")
                 o.scenario = scenario::slow;
             else
                 bad("expected idle, broadcast, channels, churn or slow, got '" + std::string(v) +
                     "'");
         }},
        {"url", "URL", "http://127.0.0.1:8080",
         "the SSE server (loopback only); a path in it prefixes every request path. Repeat it "
         "for the nodes of a cluster: worker w opens its streams on the (w mod n)th URL",
         [](options& o, std::string_view v) {
             o.targets.push_back(parse_url(v));
             if (o.targets.size() == 1) {
                 o.target = o.targets.front();
                 o.url = std::string(v);
             } else {
                 o.url += "," + std::string(v);
             }
         }},
        {"flavour", "NAME", "servicestack",
         "servicestack: GET /event-stream?channels=..., read cmd.onConnect, send heartbeats "
         "to its heartbeatUrl, count cmd.onHeartbeat; plain: any SSE server (nchan, pushpin), "
         "one channel per connection",
         [](options& o, std::string_view v) {
             if (v == "servicestack")
                 o.flavour = flavour::servicestack;
             else if (v == "plain")
                 o.flavour = flavour::plain;
             else
                 bad("expected servicestack or plain, got '" + std::string(v) + "'");
         }},
        {"path", "TEMPLATE", "/event-stream?channels={channels} | /sub/{channel}",
         "the subscribe request path; {channels} is the comma-separated channel list, "
         "{channel} the first channel, {i} the connection number",
         [](options& o, std::string_view v) {
             if (v.empty() || v[0] != '/') bad("must start with '/'");
             o.path = std::string(v);
         }},
        {"header", "'NAME: VALUE'", "",
         "an extra header on every subscribe request (repeatable), e.g. 'Authorization: Bearer "
         "<jwt>'",
         [](options& o, std::string_view v) {
             if (v.find(':') == std::string_view::npos || v.find('\n') != std::string_view::npos ||
                 v.find('\r') != std::string_view::npos)
                 bad("expected 'Name: value'");
             o.headers.emplace_back(v);
         }},
        // --- connections
        {"connections", "N", "1000", "subscriber connections to open and hold",
         [](options& o, std::string_view v) { o.connections = to_u32(v, 1, 2'000'000); }},
        {"connect-rate", "PER_S", "5000", "new connections per second, over all workers",
         [](options& o, std::string_view v) { o.connect_rate = to_double(v, 1, 1e7); }},
        {"connect-inflight", "N", "512", "connections being opened at once, per worker",
         [](options& o, std::string_view v) { o.connect_inflight = to_u32(v, 1, 100000); }},
        {"workers", "N", "auto",
         "client threads, each with its own io_uring ring and up to 19,000 connections as "
         "direct descriptors (past the per-process fd limit); auto: max(2, connections/16000)",
         [](options& o, std::string_view v) { o.workers = to_u32(v, 1, 256); }},
        {"source-ips", "FIRST[-LAST]", "127.0.0.2-...",
         "source addresses; worker w uses address w mod count, for its subscribers and its "
         "heartbeats alike (each address has ~28k ports towards one server address); default: "
         "one per worker from 127.0.0.2",
         [](options& o, std::string_view v) {
             std::size_t dash = v.find('-');
             std::uint32_t a = parse_ipv4(v.substr(0, dash));
             std::uint32_t b = dash == std::string_view::npos ? a : parse_ipv4(v.substr(dash + 1));
             if (b < a || b - a > 255) bad("expected FIRST-LAST with at most 256 addresses");
             o.source_ips.clear();
             for (std::uint32_t ip = a; ip <= b; ++ip)
                 o.source_ips.push_back(ip);
         }},
        {"connect-timeout", "SECONDS", "auto",
         "give up waiting for all connections after this; auto: connections/connect-rate + 30",
         [](options& o, std::string_view v) { o.connect_timeout_s = to_double(v, 0.1, 86400); }},
        // --- channels
        {"channels", "C", "1", "channels in play (broadcast and slow use 1)",
         [](options& o, std::string_view v) { o.channels = to_u32(v, 1, 1'000'000); }},
        {"channels-per-sub", "K", "1",
         "channels each subscriber joins (servicestack flavour; plain uses 1), at most 16",
         [](options& o, std::string_view v) { o.channels_per_sub = to_u32(v, 1, 16); }},
        {"channel-prefix", "NAME", "ch", "channel names are NAME0, NAME1, ...",
         [](options& o, std::string_view v) {
             if (v.empty() || v.find_first_of("@,/?&# ") != std::string_view::npos)
                 bad("must be non-empty without @ , / ? & # or space");
             o.channel_prefix = std::string(v);
         }},
        // --- timing
        {"duration", "SECONDS", "10", "the measured phase (publishing, churn, holding)",
         [](options& o, std::string_view v) { o.duration_s = to_double(v, 0, 86400); }},
        {"warmup", "SECONDS", "1", "after every connection is open, before measuring",
         [](options& o, std::string_view v) { o.warmup_s = to_double(v, 0, 3600); }},
        {"drain", "SECONDS", "10",
         "after publishing stops, wait up to this long for every connected subscriber to have "
         "every message; what is still missing then counts as lost",
         [](options& o, std::string_view v) { o.drain_s = to_double(v, 0, 3600); }},
        {"timeout", "SECONDS", "auto",
         "hard bound on the whole run (the process exits 3 past it); auto: connect timeout + "
         "warmup + duration + drain + 60",
         [](options& o, std::string_view v) { o.timeout_s = to_double(v, 1, 7 * 86400); }},
        // --- publishing
        {"publish", "KIND", "ssepushd | nchan",
         "how messages are published: ssepushd (POST /event-publish/channel/{channel}?selector=, "
         "Bearer --publish-key), nchan (POST /pub/{channel}), pushpin (POST /publish/ with an "
         "http-stream item), post (POST --publish-path with the message JSON as the body, and "
         "Authorization: Bearer --publish-key if given), none; "
         "default: ssepushd for the servicestack flavour, nchan for plain",
         [](options& o, std::string_view v) {
             o.publish_set = true;
             if (v == "ssepushd")
                 o.publish = publisher_kind::ssepushd;
             else if (v == "nchan")
                 o.publish = publisher_kind::nchan;
             else if (v == "pushpin")
                 o.publish = publisher_kind::pushpin;
             else if (v == "post")
                 o.publish = publisher_kind::post;
             else if (v == "none")
                 o.publish = publisher_kind::none;
             else
                 bad("expected ssepushd, nchan, pushpin, post or none, got '" + std::string(v) +
                     "'");
         }},
        {"publish-url", "URL", "--url", "where publishes go (pushpin: http://127.0.0.1:5561)",
         [](options& o, std::string_view v) {
             o.publish_target = parse_url(v);
             o.publish_url = std::string(v);
         }},
        {"publish-path", "TEMPLATE", "per --publish",
         "the publish request path; {channel} is filled in",
         [](options& o, std::string_view v) {
             if (v.empty() || v[0] != '/') bad("must start with '/'");
             o.publish_path = std::string(v);
         }},
        {"publish-key", "KEY", "",
         "ssepushd's publish key (sent as Authorization: Bearer); also SSELOAD_PUBLISH_KEY",
         [](options& o, std::string_view v) { o.publish_key = std::string(v); }},
        {"selector", "OP.TARGET", "cmd.bench", "the ServiceStack selector of published messages",
         [](options& o, std::string_view v) {
             if (v.find('.') == std::string_view::npos ||
                 v.find_first_of(" @\n\r") != std::string_view::npos)
                 bad("expected op.target, e.g. cmd.bench");
             o.selector = std::string(v);
         }},
        {"rate", "PER_S", "100",
         "messages published per second over all channels; 0: as fast as --window allows",
         [](options& o, std::string_view v) { o.rate = to_double(v, 0, 1e7); }},
        {"window", "N", "4",
         "with --rate 0, publish only while fewer than N messages (per channel, on average) "
         "are published but not yet delivered",
         [](options& o, std::string_view v) { o.window = to_u32(v, 1, 1'000'000); }},
        {"publishers", "N", "1",
         "publishing threads, each with its own keep-alive connection and its own share of "
         "the channels (so each channel's order is kept)",
         [](options& o, std::string_view v) { o.publishers = to_u32(v, 1, 64); }},
        {"publish-pipeline", "N", "1",
         "publish requests each publisher keeps in flight on its connection (HTTP/1.1 "
         "pipelining: the order of each channel is kept, and the server may batch them)",
         [](options& o, std::string_view v) { o.publish_pipeline = to_u32(v, 1, 1024); }},
        {"message-size", "BYTES", "64", "size of each message's JSON (padded)",
         [](options& o, std::string_view v) { o.message_size = to_u32(v, 40, 1'000'000); }},
        // --- ServiceStack
        {"heartbeats", "on|off", "on",
         "servicestack flavour: POST to onConnect's heartbeatUrl at its heartbeatIntervalMs, "
         "as the ServiceStack clients do",
         [](options& o, std::string_view v) { o.heartbeats = to_bool(v); }},
        {"heartbeat-interval", "SECONDS", "onConnect's",
         "send heartbeats at this interval instead of the announced one",
         [](options& o, std::string_view v) { o.heartbeat_interval_s = to_double(v, 0.01, 3600); }},
        {"heartbeat-conns", "N", "auto",
         "keep-alive connections per worker that carry the heartbeat requests; auto: one per "
         "10 of the worker's subscriptions (a server may answer each heartbeat only after a "
         "round trip to the subscription's thread), from 16 to 256",
         [](options& o, std::string_view v) { o.heartbeat_conns = to_u32(v, 1, 1000); }},
        {"heartbeat-pipeline", "N", "32",
         "heartbeat requests in flight on each of those connections (pipelined, so a busy "
         "server still gets every heartbeat on time)",
         [](options& o, std::string_view v) { o.heartbeat_pipeline = to_u32(v, 1, 1024); }},
        // --- scenarios
        {"churn-share", "FRACTION", "0.05", "churn: share of connections reconnecting each second",
         [](options& o, std::string_view v) { o.churn_share = to_double(v, 0, 1); }},
        {"slow-share", "FRACTION", "0.01",
         "slow: share of subscribers that stop reading once connected",
         [](options& o, std::string_view v) { o.slow_share = to_double(v, 0, 1); }},
        // --- measurement and output
        {"server-pid", "PID", "",
         "sample this process (and its direct children, e.g. nginx workers) for CPU and RSS during "
         "the run",
         [](options& o, std::string_view v) { o.server_pid = int(to_u32(v, 1, 1u << 30)); }},
        {"label", "NAME", "the target", "the run's name in reports",
         [](options& o, std::string_view v) { o.label = std::string(v); }},
        {"json", "FILE", "", "write the result as JSON",
         [](options& o, std::string_view v) { o.json_path = std::string(v); }},
        {"html", "FILE", "", "write a self-contained HTML report with charts",
         [](options& o, std::string_view v) { o.html_path = std::string(v); }},
        {"status", "on|off", "on", "the live status line (on stderr)",
         [](options& o, std::string_view v) { o.status = to_bool(v); }},
        {"status-interval", "SECONDS", "1", "timeline resolution and status line period",
         [](options& o, std::string_view v) { o.status_interval_s = to_double(v, 0.1, 60); }},
        {"max-lost", "N", "0",
         "the run fails (exit 1) if more frames than this were lost, duplicated or out of order",
         [](options& o, std::string_view v) { o.max_lost = to_u32(v, 0, 4'000'000'000u); }},
        {"max-failures", "N", "0",
         "the run fails (exit 1) if more connections than this failed or were dropped",
         [](options& o, std::string_view v) { o.max_failures = to_u32(v, 0, 4'000'000'000u); }},
    };
    return t;
}

}  // namespace

const char* name_of(scenario s) {
    switch (s) {
        case scenario::idle:
            return "idle";
        case scenario::broadcast:
            return "broadcast";
        case scenario::channels:
            return "channels";
        case scenario::churn:
            return "churn";
        case scenario::slow:
            return "slow";
    }
    return "?";
}
const char* name_of(flavour f) {
    return f == flavour::servicestack ? "servicestack" : "plain";
}
const char* name_of(publisher_kind p) {
    switch (p) {
        case publisher_kind::none:
            return "none";
        case publisher_kind::ssepushd:
            return "ssepushd";
        case publisher_kind::nchan:
            return "nchan";
        case publisher_kind::pushpin:
            return "pushpin";
        case publisher_kind::post:
            return "post";
    }
    return "?";
}

std::string ip_string(std::uint32_t ip) {
    return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." +
           std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255);
}

std::string help_text() {
    std::string h =
        "sseload: open many Server-Sent Events connections, publish timestamped messages,\n"
        "and measure delivery latency, throughput, loss and the server's CPU and memory.\n"
        "\n"
        "usage: sseload [--option value]...\n"
        "       sseload report OUT.html RESULT.json [RESULT.json...]   (one report, runs "
        "overlaid)\n"
        "\n"
        "Every message carries {\"c\":channel,\"s\":sequence,\"t\":send_ns}; each subscriber\n"
        "checks the sequence of every channel it is on: a gap is lost, a repeat duplicated,\n"
        "a late arrival out of order. Exit status: 0 pass, 1 a check failed, 2 bad usage,\n"
        "3 the run hit --timeout.\n"
        "\n"
        "options:\n";
    for (const option_def& d : table()) {
        std::string head = std::string("  --") + d.name;
        if (d.metavar) head += std::string(" ") + d.metavar;
        h += head + "\n";
        // wrap the help at 76 columns, indented 6
        std::string text = d.help;
        if (d.def && *d.def) text += std::string(" [default: ") + d.def + "]";
        std::string line = "     ";
        std::size_t i = 0;
        while (i < text.size()) {
            std::size_t j = text.find(' ', i);
            if (j == std::string::npos) j = text.size();
            std::string word = text.substr(i, j - i);
            if (line.size() + 1 + word.size() > 78) {
                h += line + "\n";
                line = "     ";
            }
            line += " " + word;
            i = j + 1;
        }
        h += line + "\n";
    }
    h += "  --help\n      this text\n";
    h += "\nexamples:\n"
         "  sseload --url http://127.0.0.1:8080 --publish-key KEY --connections 10000 --rate 100\n"
         "  sseload --url http://127.0.0.1:8091 --flavour plain --connections 10000 --rate 100\n"
         "  sseload --scenario idle --connections 100000 --duration 60 --server-pid $(pidof "
         "ssepushd)\n";
    return h;
}

options parse_options(int argc, char** argv) {
    options o;
    if (const char* k = std::getenv("SSELOAD_PUBLISH_KEY")) o.publish_key = k;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(help_text().c_str(), stdout);
            std::exit(0);
        }
        if (a.substr(0, 2) != "--") {
            std::fprintf(stderr, "sseload: unexpected argument '%s' (see --help)\n", argv[i]);
            std::exit(2);
        }
        std::string_view name = a.substr(2);
        std::string_view value;
        bool has_value = false;
        if (std::size_t eq = name.find('='); eq != std::string_view::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            has_value = true;
        }
        const option_def* def = nullptr;
        for (const option_def& d : table())
            if (name == d.name) def = &d;
        if (!def) {
            std::fprintf(stderr, "sseload: unknown option '--%.*s' (see --help)\n",
                         int(name.size()), name.data());
            std::exit(2);
        }
        if (!has_value) {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "sseload: --%s: needs a value (%s)\n", def->name,
                             def->metavar);
                std::exit(2);
            }
            value = argv[++i];
        }
        try {
            def->set(o, value);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "sseload: --%s: %s\n", def->name, e.what());
            std::exit(2);
        }
    }
    // Derived defaults and cross-checks.
    auto fail = [](const char* what) {
        std::fprintf(stderr, "sseload: %s\n", what);
        std::exit(2);
    };
    if (o.target.host.empty()) o.target = endpoint{};
    if (o.targets.empty()) o.targets.push_back(o.target);
    if (o.publish_url.empty()) {
        o.publish_url = o.url.substr(0, o.url.find(','));
        o.publish_target = o.target;
    }
    if (!o.publish_set)
        o.publish =
            o.flavour == flavour::servicestack ? publisher_kind::ssepushd : publisher_kind::nchan;
    if (o.scenario == scenario::idle) o.publish = publisher_kind::none;
    if (o.path.empty())
        o.path = o.flavour == flavour::servicestack ? "/event-stream?channels={channels}"
                                                    : "/sub/{channel}";
    if (o.publish_path.empty()) {
        switch (o.publish) {
            case publisher_kind::ssepushd:
                o.publish_path = "/event-publish/channel/{channel}?selector=" + o.selector;
                break;
            case publisher_kind::nchan:
                o.publish_path = "/pub/{channel}";
                break;
            case publisher_kind::pushpin:
                o.publish_path = "/publish/";
                break;
            case publisher_kind::post:
                fail("--publish post needs --publish-path");
                break;
            case publisher_kind::none:
                break;
        }
    }
    if (o.flavour == flavour::plain) o.channels_per_sub = 1;
    if (o.scenario == scenario::broadcast || o.scenario == scenario::slow) {
        o.channels = 1;
        o.channels_per_sub = 1;
    }
    if (o.channels_per_sub > o.channels) fail("--channels-per-sub cannot exceed --channels");
    if (o.publish == publisher_kind::ssepushd && o.publish_key.empty())
        fail("--publish ssepushd needs --publish-key (or SSELOAD_PUBLISH_KEY)");
    if (o.flavour == flavour::plain) o.heartbeats = false;
    if (o.publishers > o.channels) o.publishers = o.channels;
    if (o.workers == 0) o.workers = std::max<std::uint32_t>(2, (o.connections + 15999) / 16000);
    if (o.heartbeat_conns == 0)
        o.heartbeat_conns =
            std::clamp<std::uint32_t>((o.connections / o.workers + 9) / 10, 16, 256);
    if ((o.connections + o.workers - 1) / o.workers + o.heartbeat_conns + 16 > 19990)
        fail("too many connections per worker: raise --workers (each ring holds < 20,000)");
    if (o.source_ips.empty()) {
        // One address per worker: a worker's connections and its heartbeat pool
        // share it (servers check that heartbeats come from the subscriber's address).
        const std::uint32_t n = std::min<std::uint32_t>(o.workers, 250);
        for (std::uint32_t k = 0; k < n; ++k)
            o.source_ips.push_back((127u << 24) + 2 + k);
    }
    if (o.connect_timeout_s == 0) o.connect_timeout_s = o.connections / o.connect_rate + 30;
    if (o.timeout_s == 0)
        o.timeout_s = o.connect_timeout_s + o.warmup_s + o.duration_s + o.drain_s + 60;
    if (o.label.empty())
        o.label = o.publish != publisher_kind::none && o.publish != publisher_kind::post
                      ? name_of(o.publish)
                      : o.url;
    return o;
}

}  // namespace ssepush::sseload
