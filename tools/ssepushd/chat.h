#pragma once
// The chat services of ServiceStack's Chat demo and test hosts (PROTOCOL.md 9),
// on the ssepush events API: what ServiceStack's client test suites call, and
// what the demo page uses.
//
//   /channels/{Channel}/chat    PostChatToChannel    -> ChatMessage JSON
//   /channels/{Channel}/raw     PostRawToChannel     -> 204
//   /channels/{Channel}/object  PostObjectToChannel  -> 204
//   /reset-serverevents         ResetServerEvents    -> 204
//   /chathistory                GetChatHistory       -> {"results":[ChatMessage...]}
// each also at /api/<Name> and /json/reply/<Name>.
//
// PostChatToChannel keeps the last `history` public messages of each channel
// (0: none) for GetChatHistory (`channels`, `afterId`, `take`); private
// messages (toUserId) are never kept.
#include "ssepush/engine/server.h"
#include "ssepush/events/server_events.h"

namespace ssepushd {

// Registers the routes on `srv` (before srv.start()); `ev` must outlive them.
void install_chat(ssepush::engine::server& srv, ssepush::events::server_events& ev,
                  unsigned history = 100);

}  // namespace ssepushd
