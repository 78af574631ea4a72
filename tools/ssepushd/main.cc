// ssepushd: the edge push daemon.
//
// This first version serves the engine demo (a live stream, publish, ticks,
// stats); the ServiceStack Server Events endpoints, configuration files,
// the publish API and metrics arrive with the next issues.
#include <signal.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "demo.h"
#include "ssepush/engine/server.h"

namespace {

namespace eng = ssepush::engine;

const char k_usage[] =
    "usage: ssepushd [options]\n"
    "  --address ADDR            listen address, IPv4 or IPv6 literal (default 127.0.0.1)\n"
    "  --port N                  listen port, 0 = any free port (default 8080)\n"
    "  --shards N                shards (threads with their own io_uring), 0 = one per CPU\n"
    "  --demo                    serve the demo page, /stream, /publish, /stats (default)\n"
    "  --tick-ms N               demo tick period per shard, 0 = no ticks (default 1000)\n"
    "  --max-connections N       per shard (default 20000)\n"
    "  --max-queue-bytes N       out-queue limit per stream (default 1048576)\n"
    "  --slow-consumer POLICY    disconnect | drop-oldest (default disconnect)\n"
    "  --socket-send-buffer N    SO_SNDBUF per connection in bytes, 0 = kernel default\n"
    "  --header-timeout-ms N     (default 10000)\n"
    "  --keepalive-timeout-ms N  (default 60000)\n"
    "  --write-stall-timeout-ms N (default 30000)\n"
    "  --no-pin                  do not pin shard threads to CPUs\n"
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
    ssepushd::demo_options demo;
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
        } else if (a == "--tick-ms") {
            demo.tick_ms = parse_number<unsigned>(a, value());
        } else if (a == "--max-connections") {
            opts.max_connections_per_shard = parse_number<unsigned>(a, value());
        } else if (a == "--max-queue-bytes") {
            opts.max_queue_bytes = parse_number<std::uint32_t>(a, value());
        } else if (a == "--socket-send-buffer") {
            opts.socket_send_buffer = parse_number<std::uint32_t>(a, value());
        } else if (a == "--slow-consumer") {
            std::string_view v = value();
            if (v == "disconnect")
                opts.slow_consumer = eng::slow_consumer_policy::disconnect;
            else if (v == "drop-oldest")
                opts.slow_consumer = eng::slow_consumer_policy::drop_oldest;
            else
                usage_error("--slow-consumer: expected disconnect or drop-oldest, got '" +
                            std::string(v) + "'");
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

    // Signals are taken by this thread only (sigwait below); shards inherit the mask.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

    try {
        eng::server srv(opts);
        ssepushd::install_demo(srv, demo);
        srv.start();
        ssepushd::start_demo(srv, demo);
        std::printf(
            "ssepushd: listening on http://%s:%u/ with %u shards (demo: open it in a browser)\n",
            opts.address.c_str(), unsigned(srv.port()), srv.shard_count());
        std::fflush(stdout);
        int sig = 0;
        sigwait(&sigs, &sig);
        std::printf("ssepushd: %s, draining\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
        std::fflush(stdout);
        ssepushd::stop_demo(srv);
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
