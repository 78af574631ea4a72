#pragma once
// The publish API: how backends push into ssepushd over HTTP.
//
//   POST /event-publish/all?selector=cmd.x[&channel=filter]        body: the message JSON
//   POST /event-publish/channel/{channel}?selector=cmd.x
//   POST /event-publish/subscription/{id}?selector=...[&channel=...]
//   POST /event-publish/user/{userId}?selector=...[&channel=...]
//   POST /event-publish/username/{userName}?selector=...[&channel=...]
//   POST /event-publish/session/{sessionId}?selector=...[&channel=...]
//   POST /event-publish          body: [{"target":"channel","id":"home","selector":"cmd.chat",
//                                        "channel":null,"message":{...}}, ...]
//   GET  /event-publish/subscribers?channels=a,b     full subscription infos (ServerArgs too)
//   GET  /event-publish/subscription/{id}            one subscription, or 404
//
// Every request carries `Authorization: Bearer <publish key>` (compared in
// constant time): 401 without it, 403 with a wrong one. Publishes answer 202
// with {"published":n}; bad selector, target, JSON or size get a 4xx naming
// the problem. docs/publish-api.md has curl examples (run by a test).
#include <string>

#include "ssepush/engine/server.h"
#include "ssepush/events/server_events.h"

namespace ssepushd {

// Registers the routes; `key` must not be empty.
void install_publish_api(ssepush::engine::server& srv, ssepush::events::server_events& ev,
                         std::string key);

}  // namespace ssepushd
