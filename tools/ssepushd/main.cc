// ssepushd: the edge push daemon. Serves ServiceStack Server Events (every
// endpoint of PROTOCOL.md) with the chat services and a demo chat page.
// Configuration files, the publish API, JWT auth and metrics arrive with the
// next issues.
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "chat.h"
#include "demo.h"
#include "ssepush/engine/server.h"
#include "ssepush/events/server_events.h"

namespace {

namespace eng = ssepush::engine;
namespace events = ssepush::events;

const char k_usage[] =
    "usage: ssepushd [options]\n"
    "  --address ADDR             listen address, IPv4 or IPv6 literal (default 127.0.0.1)\n"
    "  --port N                   listen port, 0 = any free port (default 8080)\n"
    "  --shards N                 shards (threads with their own io_uring), 0 = one per CPU\n"
    "  --demo                     serve the demo chat page on / (default)\n"
    "  --heartbeat-interval-ms N  announced to clients in cmd.onConnect (default 10000)\n"
    "  --idle-timeout-ms N        a subscription without heartbeat expires (default 30000)\n"
    "  --cors-origin ORIGIN       allow this origin with credentials (repeatable; * = any)\n"
    "  --no-user-address-check    accept heartbeats from another IP than the stream's\n"
    "  --limit-to-authenticated   refuse anonymous streams with 401\n"
    "  --max-connections N        per shard (default 20000)\n"
    "  --max-queue-bytes N        out-queue limit per stream (default 1048576)\n"
    "  --slow-consumer POLICY     disconnect | drop-oldest (default disconnect)\n"
    "  --socket-send-buffer N     SO_SNDBUF per connection in bytes, 0 = kernel default\n"
    "  --header-timeout-ms N      (default 10000)\n"
    "  --keepalive-timeout-ms N   (default 60000)\n"
    "  --write-stall-timeout-ms N (default 30000)\n"
    "  --no-pin                   do not pin shard threads to CPUs\n"
    "  -h, --help\n";

[[noreturn]] void usage_error(const std::string& msg) {
    std::fprintf(stderr, "ssepushd: %s\n\n%s", msg.c_str(), k_usage);
    std::exit(2);
}

template <class T>
T parse_number(std::string_view flag, std::string_view v) {
    T out{};
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc{} || p != v.data() + v.size())
        usage_error(std::string(flag) + ": not a valid number: '" + std::string(v) + "'");
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    eng::server_options opts;
    opts.port = 8080;
    events::options eo;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) usage_error(std::string(a) + " needs a value");
            return argv[++i];
        };
        if (a == "-h" || a == "--help") {
            std::fputs(k_usage, stdout);
            return 0;
        } else if (a == "--address") {
            opts.address = std::string(value());
        } else if (a == "--port") {
            opts.port = parse_number<std::uint16_t>(a, value());
        } else if (a == "--shards") {
            opts.shards = parse_number<unsigned>(a, value());
        } else if (a == "--demo") {
        } else if (a == "--heartbeat-interval-ms") {
            eo.heartbeat_interval = std::chrono::milliseconds(parse_number<unsigned>(a, value()));
        } else if (a == "--idle-timeout-ms") {
            eo.idle_timeout = std::chrono::milliseconds(parse_number<unsigned>(a, value()));
        } else if (a == "--cors-origin") {
            eo.cors_origins.emplace_back(value());
        } else if (a == "--no-user-address-check") {
            eo.validate_user_address = false;
        } else if (a == "--limit-to-authenticated") {
            eo.limit_to_authenticated_users = true;
        } else if (a == "--max-connections") {
            opts.max_connections_per_shard = parse_number<unsigned>(a, value());
        } else if (a == "--max-queue-bytes") {
            opts.max_queue_bytes = parse_number<std::uint32_t>(a, value());
        } else if (a == "--socket-send-buffer") {
            opts.socket_send_buffer = parse_number<std::uint32_t>(a, value());
        } else if (a == "--slow-consumer") {
            std::string_view v = value();
            if (v == "disconnect") {
                opts.slow_consumer = eng::slow_consumer_policy::disconnect;
            } else if (v == "drop-oldest") {
                opts.slow_consumer = eng::slow_consumer_policy::drop_oldest;
            } else {
                usage_error("--slow-consumer: expected disconnect or drop-oldest, got '" +
                            std::string(v) + "'");
            }
        } else if (a == "--header-timeout-ms") {
            opts.header_timeout_ms = parse_number<std::uint32_t>(a, value());
        } else if (a == "--keepalive-timeout-ms") {
            opts.keepalive_timeout_ms = parse_number<std::uint32_t>(a, value());
        } else if (a == "--write-stall-timeout-ms") {
            opts.write_stall_timeout_ms = parse_number<std::uint32_t>(a, value());
        } else if (a == "--no-pin") {
            opts.pin_threads = false;
        } else {
            usage_error("unknown option '" + std::string(a) + "'");
        }
    }
    if (eo.idle_timeout.count() <= 0 || eo.heartbeat_interval.count() <= 0)
        usage_error("--idle-timeout-ms and --heartbeat-interval-ms must be > 0");

    // Signals are taken by this thread only (sigwait below); shards inherit the mask.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

    try {
        eng::server srv(opts);
        events::server_events ev(srv, eo);
        ssepushd::install_chat(srv, ev);
        ssepushd::install_demo(srv);
        srv.start();
        std::printf("ssepushd: listening on http://%s:%u/ with %u shards (demo chat on /)\n",
                    opts.address.c_str(), unsigned(srv.port()), srv.shard_count());
        std::fflush(stdout);
        int sig = 0;
        sigwait(&sigs, &sig);
        std::printf("ssepushd: %s, draining\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
        std::fflush(stdout);
        ev.stop();  // streams end without onLeave (ServiceStack's Stop)
        srv.stop();
        auto s = srv.stats();
        std::printf("ssepushd: stopped (accepted %llu connections, sent %llu bytes)\n",
                    static_cast<unsigned long long>(s.accepted),
                    static_cast<unsigned long long>(s.bytes_sent));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ssepushd: %s\n", e.what());
        return 1;
    }
    return 0;
}
