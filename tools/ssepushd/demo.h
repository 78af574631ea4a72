#pragma once
// The embedded demo ssepushd serves: a chat page on ServiceStack Server
// Events (native EventSource, the frames parsed as ServiceStack clients do),
// on channel "home", with the chat services of chat.h behind it.
#include "ssepush/engine/server.h"
#include "ssepush/events/server_events.h"

namespace ssepushd {

// Registers "/" (the page) and "/stats" on `srv` (before srv.start()).
void install_demo(ssepush::engine::server& srv);

}  // namespace ssepushd
