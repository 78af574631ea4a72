// libFuzzer target for the client-side HTTP response parsing.
//
// Layout: [split seed][bytes...]. The bytes are a response head, possibly
// followed by a chunked body; or, when they do not start a complete head, a
// chunked body on their own.
//
// Response head (the buffer is a heap copy of exactly its size, so ASan
// catches any read past it):
//   - consumed <= size; on complete, every view is inside the head, the
//     status is 100..599, and find_response_header() agrees on Content-Type;
//   - parsing the same buffer again gives the same result;
//   - prefixes agree with the whole: before `consumed` they are incomplete,
//     after it complete with the same consumed and fields; a bad buffer's
//     prefixes are incomplete or bad; an incomplete buffer's are incomplete.
// Chunked body: fed whole, one byte at a time (up to 4 KiB), and in
// seed-chosen pieces, it gives the same payload bytes, the same final status
// and the same total of consumed bytes; payload pieces are never empty and
// always inside the piece fed.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "ssepush/proto/http_response_parser.h"

using namespace ssepush::proto;

namespace {

std::uint64_t splitmix(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

bool inside(std::string_view v, std::string_view buf) {
    return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

bool same_head(const http_response_head& a, const http_response_head& b) {
    return a.status == b.status && a.version_minor == b.version_minor && a.chunked == b.chunked &&
           a.has_transfer_encoding == b.has_transfer_encoding &&
           a.connection_close == b.connection_close && a.content_length == b.content_length &&
           a.reason == b.reason && a.content_type == b.content_type;
}

// Parses a heap copy of buf[0, len) of exactly that size.
response_head_result parse_prefix(std::string_view buf, std::size_t len, http_response_head& out,
                                  std::unique_ptr<char[]>& keep) {
    keep = std::make_unique<char[]>(len == 0 ? 1 : len);
    if (len > 0) std::memcpy(keep.get(), buf.data(), len);
    return parse_response_head(std::string_view(keep.get(), len), out);
}

void check_head(std::string_view bytes, std::uint64_t& seed, response_head_result& whole_out) {
    std::unique_ptr<char[]> keep;
    http_response_head head;
    const response_head_result whole = parse_prefix(bytes, bytes.size(), head, keep);
    const std::string_view buf(keep.get(), bytes.size());
    whole_out = whole;
    SSEPUSH_FUZZ_CHECK(whole.consumed <= bytes.size());
    if (whole.status == response_head_status::complete) {
        SSEPUSH_FUZZ_CHECK(whole.consumed >= 14 && whole.consumed <= k_max_response_head);
        const std::string_view used = buf.substr(0, whole.consumed);
        SSEPUSH_FUZZ_CHECK(head.status >= 100 && head.status <= 599);
        SSEPUSH_FUZZ_CHECK(head.version_minor <= 9);
        SSEPUSH_FUZZ_CHECK(inside(head.reason, used) && inside(head.content_type, used));
        SSEPUSH_FUZZ_CHECK(head.content_length >= -1);
        SSEPUSH_FUZZ_CHECK(!head.chunked || head.has_transfer_encoding);
        SSEPUSH_FUZZ_CHECK(find_response_header(used, "content-type") == head.content_type);
        SSEPUSH_FUZZ_CHECK(used.back() == '\n');
        const body_framing f = body_framing_of(head);
        if (f == body_framing::chunked) SSEPUSH_FUZZ_CHECK(head.chunked);
        if (f == body_framing::content_length) SSEPUSH_FUZZ_CHECK(head.content_length >= 0);
    } else {
        SSEPUSH_FUZZ_CHECK(whole.consumed == 0);
    }

    // The same buffer again.
    http_response_head again;
    const response_head_result r2 = parse_response_head(buf, again);
    SSEPUSH_FUZZ_CHECK(r2.status == whole.status && r2.consumed == whole.consumed);
    if (whole.status == response_head_status::complete) SSEPUSH_FUZZ_CHECK(same_head(head, again));

    // Prefixes: all of them for short inputs, a sample otherwise.
    auto check_prefix = [&](std::size_t len) {
        std::unique_ptr<char[]> k;
        http_response_head h;
        const response_head_result r = parse_prefix(bytes, len, h, k);
        SSEPUSH_FUZZ_CHECK(r.consumed <= len);
        switch (whole.status) {
            case response_head_status::complete:
                if (len < whole.consumed) {
                    SSEPUSH_FUZZ_CHECK(r.status == response_head_status::incomplete);
                } else {
                    SSEPUSH_FUZZ_CHECK(r.status == response_head_status::complete);
                    SSEPUSH_FUZZ_CHECK(r.consumed == whole.consumed && same_head(h, head));
                }
                break;
            case response_head_status::bad:
                SSEPUSH_FUZZ_CHECK(r.status != response_head_status::complete);
                break;
            case response_head_status::incomplete:
                SSEPUSH_FUZZ_CHECK(r.status == response_head_status::incomplete);
                break;
        }
    };
    if (bytes.size() <= 512) {
        for (std::size_t len = 0; len < bytes.size(); ++len)
            check_prefix(len);
    } else {
        for (int i = 0; i < 64; ++i)
            check_prefix(splitmix(seed) % bytes.size());
    }
}

struct decoded {
    std::string payload;
    chunked_status status = chunked_status::ok;
    std::size_t consumed = 0;
    bool operator==(const decoded&) const = default;
};

decoded decode(std::string_view body, const std::vector<std::size_t>& cuts) {
    decoded d;
    chunked_decoder dec;
    std::size_t at = 0;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
        const std::size_t end = i < cuts.size() ? cuts[i] : body.size();
        const std::size_t len = end - at;
        auto copy = std::make_unique<char[]>(len == 0 ? 1 : len);
        if (len > 0) std::memcpy(copy.get(), body.data() + at, len);
        const std::string_view piece(copy.get(), len);
        at = end;
        std::size_t delivered = 0;
        const chunked_result r = dec.feed(piece, [&](std::string_view p) {
            SSEPUSH_FUZZ_CHECK(!p.empty() && inside(p, piece));
            // Pieces come in order and do not overlap.
            SSEPUSH_FUZZ_CHECK(p.data() >= piece.data() + delivered);
            delivered = static_cast<std::size_t>(p.data() + p.size() - piece.data());
            d.payload.append(p);
        });
        SSEPUSH_FUZZ_CHECK(r.consumed <= len && delivered <= r.consumed);
        d.status = r.status;
        d.consumed += r.consumed;
        if (r.status == chunked_status::ok) {
            SSEPUSH_FUZZ_CHECK(r.consumed == len && !dec.done());
            continue;
        }
        SSEPUSH_FUZZ_CHECK(dec.done() == (r.status == chunked_status::done));
        // Final: later feeds change nothing.
        const chunked_result again = dec.feed("0\r\n\r\n", [](std::string_view) {
            SSEPUSH_FUZZ_CHECK(false && "payload after the end");
        });
        SSEPUSH_FUZZ_CHECK(again.status == r.status && again.consumed == 0);
        break;
    }
    SSEPUSH_FUZZ_CHECK(d.payload.size() <= d.consumed);
    return d;
}

void check_chunked(std::string_view body, std::uint64_t& seed) {
    const decoded whole = decode(body, {});
    if (body.size() <= 4096) {
        std::vector<std::size_t> every;
        for (std::size_t i = 1; i < body.size(); ++i)
            every.push_back(i);
        SSEPUSH_FUZZ_CHECK(decode(body, every) == whole);
    }
    std::vector<std::size_t> cuts;
    std::size_t at = 0;
    while (true) {
        const std::uint64_t r = splitmix(seed);
        at += (r & 7) == 0 ? 0 : 1 + (r >> 8) % 48;
        if (at >= body.size()) break;
        cuts.push_back(at);
    }
    SSEPUSH_FUZZ_CHECK(decode(body, cuts) == whole);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    std::uint64_t seed = data[0];
    const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    response_head_result head;
    check_head(bytes, seed, head);
    check_chunked(
        head.status == response_head_status::complete ? bytes.substr(head.consumed) : bytes, seed);
    return 0;
}
