#pragma once
// Runs ssepushd with a loaded configuration until SIGTERM/SIGINT, then
// drains: Server Events stop (streams end without onLeave so clients
// reconnect elsewhere), the engine stops accepting, flushes and closes within
// limits.drain_timeout, and run_daemon returns 0. SIGHUP reopens the log.
#include "config.h"

namespace ssepushd {

int run_daemon(const daemon_config& cfg);

}  // namespace ssepushd
