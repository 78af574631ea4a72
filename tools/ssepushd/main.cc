// ssepushd: the edge push daemon. Configuration comes from flags, SSEPUSH_*
// environment variables and a TOML file (config.h); run_daemon (daemon.h)
// serves until SIGTERM.
#include <cstdio>
#include <exception>

#include "config.h"
#include "daemon.h"

int main(int argc, char** argv, char** envp) {
    ssepushd::load_result loaded;
    try {
        loaded = ssepushd::load_config(argc, argv, envp);
    } catch (const ssepushd::config_error& e) {
        std::fprintf(stderr, "ssepushd: %s\n(ssepushd --help lists every option)\n", e.what());
        return 2;
    }
    for (const auto& w : loaded.warnings)
        std::fprintf(stderr, "ssepushd: warning: %s\n", w.c_str());
    if (loaded.status != ssepushd::load_status::ok) {
        std::fputs(loaded.message.c_str(), stdout);
        return 0;
    }
    try {
        return ssepushd::run_daemon(loaded.config);
    } catch (const ssepushd::config_error& e) {
        std::fprintf(stderr, "ssepushd: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ssepushd: %s\n", e.what());
        return 1;
    }
}
