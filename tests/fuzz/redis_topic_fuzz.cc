// parse_topic_message on arbitrary bytes: never reads outside the message,
// every view lies inside it, and a notify message written back from what was
// parsed parses to the same fields.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "ssepush/proto/redis_topic.h"

namespace proto = ssepush::proto;

namespace {
bool inside(std::string_view part, std::string_view whole) {
    return part.empty() || (part.data() >= whole.data() &&
                            part.data() + part.size() <= whole.data() + whole.size());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string msg(reinterpret_cast<const char*>(data), size);
    const std::string_view v(msg);
    const proto::topic_message m = proto::parse_topic_message(v);
    SSEPUSH_FUZZ_CHECK(inside(m.who, v) && inside(m.selector, v) && inside(m.channel, v) &&
                       inside(m.json, v));
    const bool notify = m.kind <= proto::topic_kind::notify_session;
    if (notify && !m.selector.empty() && m.selector.find(' ') == std::string_view::npos &&
        m.selector.find('@') == std::string_view::npos &&
        m.channel.find(' ') == std::string_view::npos &&
        m.who.find(' ') == std::string_view::npos) {
        std::string again;
        proto::write_notify(m.kind, m.who, m.selector, m.channel, m.json, again);
        const proto::topic_message n = proto::parse_topic_message(again);
        SSEPUSH_FUZZ_CHECK(n.kind == m.kind);
        SSEPUSH_FUZZ_CHECK(n.who == m.who && n.selector == m.selector && n.channel == m.channel &&
                           n.json == m.json);
    }
    // A subscribe/unsubscribe payload decodes to names without commas, or is refused.
    if (auto list = proto::parse_channels_payload(v))
        for (const auto& c : *list)
            SSEPUSH_FUZZ_CHECK(!c.empty() && c.find(',') == std::string::npos);
    return 0;
}
