// tick_service: a C++ service that embeds ssepush and publishes a tick to a
// channel every second, from its own thread. Any ServiceStack client
// subscribed to "ticks" receives `ticks@cmd.tick {"n":N,"at":"..."}`.
//
//   tick_service [--port 8090]
//   curl -N 'http://127.0.0.1:8090/event-stream?channels=ticks'
//
// Built in-tree (tools/examples) and, by the install test, out of tree with
// find_package(ssepush) exactly as an embedding project would.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <thread>

#include "ssepush/engine/server.h"
#include "ssepush/events/server_events.h"

int main(int argc, char** argv) {
    ssepush::engine::server_options opts;
    opts.port = 8090;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--port" && i + 1 < argc) {
            opts.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
        } else {
            std::fprintf(stderr, "usage: tick_service [--port N]\n");
            return 2;
        }
    }
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    try {
        ssepush::engine::server srv(opts);
        ssepush::events::server_events events(srv, {});
        srv.start();
        std::printf("tick_service: http://127.0.0.1:%u/event-stream?channels=ticks\n",
                    unsigned(srv.port()));
        std::fflush(stdout);

        std::atomic<bool> running{true};
        std::thread ticker([&] {
            // notify_* may be called from any thread: the tick is serialized
            // once and handed to the shards that have subscribers of "ticks".
            for (long n = 1; running.load(); ++n) {
                const std::string body = "{\"n\":" + std::to_string(n) + ",\"at\":\"" +
                                         std::to_string(std::time(nullptr)) + "\"}";
                events.notify_channel("ticks", "cmd.tick", body);
                for (int i = 0; i < 10 && running.load(); ++i)
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        });
        int sig = 0;
        sigwait(&sigs, &sig);
        running = false;
        ticker.join();
        events.stop();
        srv.stop();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tick_service: %s\n", e.what());
        return 1;
    }
    return 0;
}
