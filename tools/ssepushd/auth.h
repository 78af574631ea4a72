#pragma once
// Subscriber authentication from JWTs as ServiceStack's JwtAuthProvider issues
// them (HS256 shared key or RS256 public key), taken from
// `Authorization: Bearer`, the ss-tok cookie, or a query parameter when
// enabled. A stream without a token is anonymous; one with an invalid token
// (expired, not yet valid, wrong algorithm — `none` included — bad signature,
// wrong issuer/audience) gets 401.
#include <functional>

#include "config.h"
#include "ssepush/engine/http.h"
#include "ssepush/events/subscription.h"

namespace ssepushd {

// Throws config_error when the key material cannot be loaded.
std::function<ssepush::events::identity(const ssepush::engine::exchange&)> make_jwt_authenticator(
    const jwt_config& cfg);

}  // namespace ssepushd
