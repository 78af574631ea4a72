#pragma once
// The embedded demo ssepushd serves: ServiceStack's Chat example as one page
// (plain HTML/CSS/JS, nothing loaded from elsewhere) on the chat services of
// chat.h. The page uses the native EventSource on
// /event-stream?channels=<current>, parses "[channel@]selector json" frames as
// the ServiceStack clients do, sends heartbeats and reconnects by itself. It
// has channel switching (the stream is reopened with the new channel), the
// user list from /event-subscribers merged per userId, join/leave notices,
// the chat history, "/selector message" raw sends, "@name message" and
// "@me message" private messages. Page: /?channel=<name> (default "home").
#include "ssepush/engine/server.h"

namespace ssepushd {

// Registers "/" (the page), "/favicon.ico" and "/stats" on `srv` (before srv.start()).
void install_demo(ssepush::engine::server& srv);

}  // namespace ssepushd
