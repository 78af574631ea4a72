// libFuzzer target for the SSE encoder.
//
// The first bytes choose the optional fields (id, retry, how much of the rest
// is the event name), the rest is the data. The event is encoded into a buffer
// of exactly encoded_size() bytes (ASan catches a write past it), and read
// back line by line the way an EventSource splitting on LF would:
//   - every line is "id: ", "event: ", "data: " or "retry: " and has no CR;
//   - the event ends with the one empty line, and there is no other;
//   - the fields read back are the ones given (data with CRLF/CR as LF, the
//     event name with line breaks as spaces).
// Comments are checked the same way.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "ssepush/proto/sse.h"

using namespace ssepush::proto;

namespace {

std::uint64_t read_le(const std::uint8_t* p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
        v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    return v;
}

std::string normalize_breaks(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::string spaces_for_breaks(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c == '\r' || c == '\n') c = ' ';
    }
    return out;
}

bool starts_with(std::string_view s, std::string_view p) {
    return s.substr(0, p.size()) == p;
}

void check_event(const sse_event& ev) {
    const std::size_t size = encoded_size(ev);
    auto buf = std::make_unique<char[]>(size);
    const std::size_t n = encode(ev, buf.get());
    SSEPUSH_FUZZ_CHECK(n == size);
    const std::string_view out(buf.get(), n);
    SSEPUSH_FUZZ_CHECK(out.find('\r') == std::string_view::npos);
    SSEPUSH_FUZZ_CHECK(out.size() >= 2 && out.substr(out.size() - 2) == "\n\n");

    bool seen_id = false;
    bool seen_event = false;
    bool seen_retry = false;
    bool first_data = true;
    std::string data;
    std::string_view rest = out.substr(0, out.size() - 1);  // without the blank line
    while (!rest.empty()) {
        const std::size_t lf = rest.find('\n');
        SSEPUSH_FUZZ_CHECK(lf != std::string_view::npos);
        const std::string_view line = rest.substr(0, lf);
        rest.remove_prefix(lf + 1);
        SSEPUSH_FUZZ_CHECK(!line.empty());  // only the final line is empty
        if (starts_with(line, "data: ")) {
            if (!first_data) data.push_back('\n');
            first_data = false;
            data.append(line.substr(6));
        } else if (starts_with(line, "id: ")) {
            SSEPUSH_FUZZ_CHECK(!seen_id && first_data);
            seen_id = true;
            SSEPUSH_FUZZ_CHECK(line.substr(4) == std::to_string(ev.id));
        } else if (starts_with(line, "event: ")) {
            SSEPUSH_FUZZ_CHECK(!seen_event && first_data);
            seen_event = true;
            SSEPUSH_FUZZ_CHECK(line.substr(7) == spaces_for_breaks(ev.event));
        } else if (starts_with(line, "retry: ")) {
            SSEPUSH_FUZZ_CHECK(!seen_retry);
            seen_retry = true;
            SSEPUSH_FUZZ_CHECK(line.substr(7) == std::to_string(ev.retry_ms));
        } else {
            SSEPUSH_FUZZ_CHECK(false && "unknown field");
        }
    }
    SSEPUSH_FUZZ_CHECK(!first_data);  // always at least one data line
    SSEPUSH_FUZZ_CHECK(seen_id == ev.has_id);
    SSEPUSH_FUZZ_CHECK(seen_event == !ev.event.empty());
    SSEPUSH_FUZZ_CHECK(seen_retry == ev.has_retry);
    SSEPUSH_FUZZ_CHECK(data == normalize_breaks(ev.data));
}

void check_comment(std::string_view text) {
    const std::size_t size = comment_size(text);
    auto buf = std::make_unique<char[]>(size);
    const std::size_t n = encode_comment(text, buf.get());
    SSEPUSH_FUZZ_CHECK(n == size);
    const std::string_view out(buf.get(), n);
    SSEPUSH_FUZZ_CHECK(out == ": " + spaces_for_breaks(text) + "\n\n");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Layout: [flags][id: 8][retry: 4][event length: 1][event][data].
    // Shorter inputs are all data.
    sse_event ev;
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    if (size >= 14) {
        const std::uint8_t flags = data[0];
        ev.has_id = (flags & 1) != 0;
        ev.id = read_le(data + 1, 8);
        ev.has_retry = (flags & 2) != 0;
        ev.retry_ms = static_cast<std::uint32_t>(read_le(data + 9, 4));
        rest.remove_prefix(14);
        const std::size_t event_len = data[13] % (rest.size() + 1);
        ev.event = rest.substr(0, event_len);
        rest.remove_prefix(event_len);
    }
    ev.data = rest;
    check_event(ev);
    check_comment(rest);
    return 0;
}
