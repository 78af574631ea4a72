#pragma once
// Publishers: threads that each keep one keep-alive HTTP connection to the
// publish endpoint and publish timestamped, sequenced messages to their share
// of the channels (channel c belongs to publisher c mod P, so each channel's
// messages leave in sequence order), paced to --rate or, with --rate 0, to a
// window of undelivered messages.
#include <atomic>
#include <cstdint>

#include "shared.h"

namespace ssepush::sseload {

// Runs until `stop` is set. Errors are counted in shared.publish_errors.
void run_publisher(shared_state& shared, std::uint32_t index, const std::atomic<bool>& stop);

}  // namespace ssepush::sseload
