#include "daemon.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>

#include "auth.h"
#include "chat.h"
#include "demo.h"
#include "log.h"
#include "ops.h"
#include "publish_api.h"
#include "ssepush/engine/server.h"
#include "ssepush/events/redis_provider.h"
#include "ssepush/events/server_events.h"

namespace ssepushd {

int run_daemon(const daemon_config& cfg) {
    log().open(cfg.level, cfg.log_file);
    // Signals go to this thread only (sigwait below): block them before any
    // shard thread starts, so every thread inherits the mask.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

    engine::server_options eopts = cfg.engine;
    if (eopts.shards == 0) {
        // One per CPU, but a subscription id can name at most 62 shards.
        const unsigned cpus = std::thread::hardware_concurrency();
        eopts.shards = std::clamp(cpus, 1u, 62u);
    }
    engine::server srv(eopts);
    events::options eo = cfg.events;
    if (cfg.jwt.enabled()) eo.authenticate = make_jwt_authenticator(cfg.jwt);
    // (%.*s: the subscription's strings are views, not NUL-terminated.)
    eo.on_subscribe = [](events::subscription& s) {
        if (!log().enabled(log_level::debug)) return;
        std::string channels;
        for (const auto& c : s.channels())
            channels.append(channels.empty() ? "" : ",").append(c);
        SSEPUSHD_LOG(debug, "subscribe id=%.*s user=%.*s ip=%.*s channels=%s", int(s.id().size()),
                     s.id().data(), int(s.user_id().size()), s.user_id().data(),
                     int(s.user_address().size()), s.user_address().data(), channels.c_str());
    };
    eo.on_unsubscribe = [](events::subscription& s) {
        SSEPUSHD_LOG(debug, "unsubscribe id=%.*s user=%.*s", int(s.id().size()), s.id().data(),
                     int(s.user_id().size()), s.user_id().data());
    };
    // The provider: memory (one node), or Redis (nodes act as one).
    std::unique_ptr<events::provider> provider = events::make_memory_provider();
    const events::redis_provider* redis = nullptr;
    if (!cfg.redis.empty()) {
        auto r = events::make_redis_provider(srv, events::parse_redis_url(cfg.redis));
        redis = r.get();
        provider = std::move(r);
    }
    events::server_events ev(srv, std::move(eo), std::move(provider));
    if (cfg.demo) {
        install_chat(srv, ev, cfg.chat_history);
        install_demo(srv);
    }
    if (!cfg.publish_key.empty()) install_publish_api(srv, ev, cfg.publish_key);
    install_ops(srv, ev, redis);
    srv.start();

    const std::string host = cfg.engine.address.find(':') != std::string::npos
                                 ? "[" + cfg.engine.address + "]"
                                 : cfg.engine.address;
    SSEPUSHD_LOG(info,
                 "listening on http://%s:%u/ shards=%u demo=%s publish_api=%s jwt=%s provider=%s",
                 host.c_str(), unsigned(srv.port()), srv.shard_count(), cfg.demo ? "on" : "off",
                 cfg.publish_key.empty() ? "off" : "on", cfg.jwt.enabled() ? "on" : "off",
                 redis ? events::redis_url(events::parse_redis_url(cfg.redis)).c_str() : "memory");
    // The URL on stdout too, for scripts and for whoever ran the README command.
    std::printf("ssepushd: listening on http://%s:%u/%s\n", host.c_str(), unsigned(srv.port()),
                cfg.demo ? " (demo chat on /)" : "");
    std::fflush(stdout);

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0) continue;
        if (sig == SIGHUP) {
            log().reopen();
            continue;
        }
        SSEPUSHD_LOG(info, "%s: draining (at most %u ms)", sig == SIGINT ? "SIGINT" : "SIGTERM",
                     unsigned(cfg.engine.drain_timeout_ms));
        break;
    }
    ev.stop();  // streams end without onLeave (ServiceStack's Stop): clients reconnect elsewhere
    srv.stop();
    const auto st = srv.stats();
    SSEPUSHD_LOG(info, "stopped: accepted %llu connections, sent %llu bytes",
                 static_cast<unsigned long long>(st.accepted),
                 static_cast<unsigned long long>(st.bytes_sent));
    return 0;
}

}  // namespace ssepushd
