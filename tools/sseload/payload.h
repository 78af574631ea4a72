#pragma once
// The message sseload publishes and looks for in every event it receives:
//
//   {"c":<channel index>,"s":<sequence in that channel>,"t":<send time, ns>,"p":"<padding>"}
//
// The send time is CLOCK_MONOTONIC, read just before the publish request is
// written: publisher and subscribers run on the same machine, so receive time
// minus send time is the delivery latency through the server. ServiceStack
// servers deliver it as the JSON after the selector ("ch0@cmd.bench {...}");
// plain SSE servers (nchan, pushpin) as the whole data field. The decoder finds
// the object wherever it starts and reads the three numbers in this order.
#include <time.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ssepush::sseload {

inline std::uint64_t now_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::uint64_t(ts.tv_sec) * 1'000'000'000u + std::uint64_t(ts.tv_nsec);
}

struct payload {
    std::uint32_t channel = 0;
    std::uint32_t seq = 0;
    std::uint64_t sent_ns = 0;
};

// Writes the payload JSON, padded with 'x' so the whole object is at least
// `size` bytes.
inline void encode_payload(const payload& p, std::size_t size, std::string& out) {
    char buf[96];
    int n = std::snprintf(buf, sizeof buf, "{\"c\":%u,\"s\":%u,\"t\":%llu,\"p\":\"", p.channel,
                          p.seq, static_cast<unsigned long long>(p.sent_ns));
    out.assign(buf, std::size_t(n));
    std::size_t pad = size > out.size() + 2 ? size - out.size() - 2 : 0;
    out.append(pad, 'x');
    out.append("\"}");
}

namespace detail {
inline bool read_field(const char*& p, const char* end, std::string_view key, std::uint64_t& v) {
    if (std::size_t(end - p) < key.size() || std::memcmp(p, key.data(), key.size()) != 0)
        return false;
    p += key.size();
    auto r = std::from_chars(p, end, v);
    if (r.ec != std::errc()) return false;
    p = r.ptr;
    return true;
}
}  // namespace detail

// Finds and reads a payload in an event's data. False when the data carries none.
inline bool decode_payload(std::string_view data, payload& out) noexcept {
    const char* p = static_cast<const char*>(std::memchr(data.data(), '{', data.size()));
    if (!p) return false;
    const char* end = data.data() + data.size();
    std::uint64_t c, s, t;
    if (!detail::read_field(p, end, "{\"c\":", c) || !detail::read_field(p, end, ",\"s\":", s) ||
        !detail::read_field(p, end, ",\"t\":", t))
        return false;
    out.channel = std::uint32_t(c);
    out.seq = std::uint32_t(s);
    out.sent_ns = t;
    return true;
}

}  // namespace ssepush::sseload
