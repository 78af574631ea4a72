// libFuzzer target for the client-side SSE parser.
//
// Layout: [limit selector][split seed][stream...]. The selector picks a small
// max_event_bytes (8, 64 or 4096 bytes, so too_large is reached by small
// inputs) or the default; the seed drives where the stream is cut.
//
// The stream is parsed
//   - by a plain reference implementation of the WHATWG algorithm over the
//     whole stream (std::string everywhere, no cleverness);
//   - by sse_parser fed the whole stream at once;
//   - fed one byte at a time (streams up to 4 KiB);
//   - fed in pieces of seed-chosen lengths (1..64 bytes, some empty);
// and all four must give the same sequence of events and comments, the same
// final status (too_large at the same place: nothing after it), the same
// retry time and the same last event id. Each piece is a heap copy of exactly
// its size, so ASan catches a read past it or a view kept after the call.
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "ssepush/proto/sse_parser.h"

using namespace ssepush::proto;

namespace {

struct outcome {
    std::vector<std::string> log;  // 'E' event '\0' data '\0' id, or 'C' comment
    bool too_large = false;
    std::optional<std::uint32_t> retry;
    std::string last_id;

    bool operator==(const outcome&) const = default;
};

std::string describe_event(std::string_view event, std::string_view data, std::string_view id) {
    std::string s = "E";
    s += event;
    s.push_back('\0');
    s += data;
    s.push_back('\0');
    s += id;
    return s;
}

std::string describe_comment(std::string_view text) {
    std::string s = "C";
    s += text;
    return s;
}

// WHATWG HTML "Interpreting an event stream", read literally.
outcome reference(std::string_view s, std::size_t max) {
    outcome o;
    if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
    std::string event;
    std::string data;  // the lines joined with "\n"
    bool has_data = false;
    std::string id;
    std::size_t pos = 0;
    while (true) {
        const std::size_t end = s.find_first_of("\r\n", pos);
        if (end == std::string_view::npos) {
            o.too_large = s.size() - pos > max;
            break;
        }
        const std::string_view line = s.substr(pos, end - pos);
        pos = end + 1;
        if (s[end] == '\r' && pos < s.size() && s[pos] == '\n') ++pos;
        if (line.size() > max) {
            o.too_large = true;
            break;
        }
        if (line.empty()) {
            if (has_data) o.log.push_back(describe_event(event, data, id));
            event.clear();
            data.clear();
            has_data = false;
            continue;
        }
        if (line[0] == ':') {
            o.log.push_back(describe_comment(line.substr(1)));
            continue;
        }
        const std::size_t colon = line.find(':');
        const std::string_view name = line.substr(0, colon);
        std::string_view value;
        if (colon != std::string_view::npos) {
            value = line.substr(colon + 1);
            if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
        }
        if (name == "event") {
            event = value;
        } else if (name == "data") {
            if (has_data) {
                if (data.size() + 1 + value.size() > max) {
                    o.too_large = true;
                    break;
                }
                data += '\n';
            }
            data += value;
            has_data = true;
        } else if (name == "id") {
            if (value.find('\0') == std::string_view::npos) id = value;
        } else if (name == "retry") {
            bool digits = !value.empty();
            std::uint64_t n = 0;
            for (char c : value) {
                if (c < '0' || c > '9') {
                    digits = false;
                    break;
                }
                n = std::min<std::uint64_t>(n * 10 + static_cast<std::uint64_t>(c - '0'),
                                            0xffffffffu);
            }
            if (digits) o.retry = static_cast<std::uint32_t>(n);
        }
    }
    o.last_id = id;
    return o;
}

std::uint64_t splitmix(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

outcome run(std::string_view stream, const std::vector<std::size_t>& cuts, std::uint32_t max) {
    outcome o;
    sse_parser p(max);
    std::size_t at = 0;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
        const std::size_t end = i < cuts.size() ? cuts[i] : stream.size();
        const std::size_t len = end - at;
        auto copy = std::make_unique<char[]>(len == 0 ? 1 : len);
        if (len > 0) std::memcpy(copy.get(), stream.data() + at, len);
        const std::string_view piece(copy.get(), len);
        at = end;
        auto inside = [&](std::string_view v) {
            // A view is either into this piece or into the parser's own storage;
            // touching every byte lets ASan check it is still alive.
            volatile char sink = 0;
            for (char c : v)
                sink = static_cast<char>(sink ^ c);
            (void)sink;
        };
        const sse_parse_status st = p.feed(
            piece,
            [&](const sse_message& m) {
                inside(m.event);
                inside(m.data);
                inside(m.last_event_id);
                o.log.push_back(describe_event(m.event, m.data, m.last_event_id));
            },
            [&](std::string_view text) {
                inside(text);
                o.log.push_back(describe_comment(text));
            });
        if (st == sse_parse_status::too_large) {
            SSEPUSH_FUZZ_CHECK(p.failed());
            o.too_large = true;
            // Stays failed.
            SSEPUSH_FUZZ_CHECK(p.feed("data: x\n\n", [](const sse_message&) {}) ==
                               sse_parse_status::too_large);
            break;
        }
        SSEPUSH_FUZZ_CHECK(!p.failed());
    }
    o.retry = p.retry_ms();
    o.last_id = std::string(p.last_event_id());
    // After reset() the parser is as new.
    p.reset();
    SSEPUSH_FUZZ_CHECK(!p.failed() && !p.retry_ms() && p.last_event_id().empty());
    int n = 0;
    SSEPUSH_FUZZ_CHECK(p.feed("data: x\n\n", [&](const sse_message& m) {
        n += m.data == "x" ? 1 : 100;
    }) == sse_parse_status::ok);
    SSEPUSH_FUZZ_CHECK(n == 1);
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    static constexpr std::uint32_t k_limits[4] = {8, 64, 4096,
                                                  sse_parser::k_default_max_event_bytes};
    const std::uint32_t max = k_limits[data[0] & 3];
    std::uint64_t seed = data[1];
    const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);

    const outcome want = reference(stream, max);
    SSEPUSH_FUZZ_CHECK(run(stream, {}, max) == want);

    if (stream.size() <= 4096) {
        std::vector<std::size_t> every;
        for (std::size_t i = 1; i < stream.size(); ++i)
            every.push_back(i);
        SSEPUSH_FUZZ_CHECK(run(stream, every, max) == want);
    }

    std::vector<std::size_t> cuts;
    std::size_t at = 0;
    while (true) {
        const std::uint64_t r = splitmix(seed);
        // Mostly short pieces, sometimes an empty one.
        at += (r & 7) == 0 ? 0 : 1 + (r >> 8) % 64;
        if (at >= stream.size()) break;
        cuts.push_back(at);
    }
    SSEPUSH_FUZZ_CHECK(run(stream, cuts, max) == want);
    return 0;
}
