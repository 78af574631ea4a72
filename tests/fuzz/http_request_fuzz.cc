// libFuzzer target for the HTTP request parser.
//
// For each input, with the default limits and with tight limits derived from
// the input (so the 431/413 paths are reached by small inputs too):
//   - parse it at once and check the invariants of the result;
//   - parse it again fed in two or three pieces (split points taken from the
//     input's own bytes), each prefix in its own heap copy so a stale view
//     would be caught by ASan, and require the same result as the one-shot
//     parse; small inputs are also fed one byte at a time;
//   - after `complete`, keep parsing the rest as pipelined requests.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include "fuzz_check.h"
#include "ssepush/proto/http_request.h"

using namespace ssepush::proto;

namespace {

bool inside(std::string_view v, std::string_view buf) {
    return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

void check_invariants(std::string_view buf, const parser_limits& lim, const parse_result& r,
                      const request& q) {
    switch (r.status) {
        case parse_status::incomplete:
            SSEPUSH_FUZZ_CHECK(r.http_status == 0);
            SSEPUSH_FUZZ_CHECK(r.consumed == 0 || r.consumed > buf.size());
            break;
        case parse_status::error:
            SSEPUSH_FUZZ_CHECK(r.http_status == 400 || r.http_status == 413 ||
                               r.http_status == 431 || r.http_status == 501 ||
                               r.http_status == 505);
            SSEPUSH_FUZZ_CHECK(!r.reason.empty());
            break;
        case parse_status::complete: {
            SSEPUSH_FUZZ_CHECK(r.consumed > 0 && r.consumed <= buf.size());
            const std::string_view used = buf.substr(0, r.consumed);
            SSEPUSH_FUZZ_CHECK(q.header_count <= k_max_headers);
            SSEPUSH_FUZZ_CHECK(q.header_count <= lim.max_headers);
            SSEPUSH_FUZZ_CHECK(q.version_minor <= 1);
            SSEPUSH_FUZZ_CHECK(!q.target.empty() && inside(q.target, used));
            SSEPUSH_FUZZ_CHECK(inside(q.path, used) || q.path == "/");
            SSEPUSH_FUZZ_CHECK(!q.path.empty());
            SSEPUSH_FUZZ_CHECK(inside(q.query, used));
            SSEPUSH_FUZZ_CHECK(inside(q.body, used));
            SSEPUSH_FUZZ_CHECK(q.body.size() == q.content_length);
            SSEPUSH_FUZZ_CHECK(q.content_length <= lim.max_body_bytes);
            SSEPUSH_FUZZ_CHECK(q.has_content_length || q.content_length == 0);
            if (!q.body.empty())
                SSEPUSH_FUZZ_CHECK(q.body.data() + q.body.size() == used.data() + used.size());
            SSEPUSH_FUZZ_CHECK(r.consumed - q.body.size() <= lim.max_header_bytes);
            int hosts = 0;
            for (std::uint32_t i = 0; i < q.header_count; ++i) {
                const header& h = q.headers[i];
                SSEPUSH_FUZZ_CHECK(!h.name.empty() && inside(h.name, used));
                SSEPUSH_FUZZ_CHECK(inside(h.value, used));
                SSEPUSH_FUZZ_CHECK(h.name.find(':') == std::string_view::npos);
                for (char c : h.value)
                    SSEPUSH_FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
                if (!h.value.empty()) {
                    SSEPUSH_FUZZ_CHECK(h.value.front() != ' ' && h.value.front() != '\t');
                    SSEPUSH_FUZZ_CHECK(h.value.back() != ' ' && h.value.back() != '\t');
                }
                if (h.name.size() == 4 && (h.name[0] | 0x20) == 'h' && (h.name[1] | 0x20) == 'o' &&
                    (h.name[2] | 0x20) == 's' && (h.name[3] | 0x20) == 't') {
                    ++hosts;
                }
            }
            // Exactly one Host on 1.1, at most one on 1.0.
            SSEPUSH_FUZZ_CHECK(hosts <= 1 && (q.version_minor == 0 || hosts == 1));
            break;
        }
    }
}

// Offset of a view inside `base`, or -1 for the static "/" and empty views.
std::ptrdiff_t offset(std::string_view v, const char* base, std::size_t size) {
    if (v.empty()) return -2;
    if (v.data() < base || v.data() > base + size) return -1;
    return v.data() - base;
}

bool same_view(std::string_view a, const char* base_a, std::size_t size_a, std::string_view b,
               const char* base_b, std::size_t size_b) {
    return a == b && offset(a, base_a, size_a) == offset(b, base_b, size_b);
}

bool same(const parse_result& ra, const request& qa, std::string_view a, const parse_result& rb,
          const request& qb, std::string_view b) {
    if (ra.status != rb.status || ra.http_status != rb.http_status || ra.reason != rb.reason ||
        ra.consumed != rb.consumed) {
        return false;
    }
    if (ra.status != parse_status::complete) return true;
    auto sv = [&](std::string_view x, std::string_view y) {
        return same_view(x, a.data(), a.size(), y, b.data(), b.size());
    };
    if (qa.verb != qb.verb || qa.version_minor != qb.version_minor ||
        qa.keep_alive != qb.keep_alive || qa.has_content_length != qb.has_content_length ||
        qa.content_length != qb.content_length || qa.header_count != qb.header_count) {
        return false;
    }
    if (!sv(qa.target, qb.target) || !sv(qa.path, qb.path) || !sv(qa.query, qb.query) ||
        !sv(qa.body, qb.body)) {
        return false;
    }
    for (std::uint32_t i = 0; i < qa.header_count; ++i) {
        if (!sv(qa.headers[i].name, qb.headers[i].name) ||
            !sv(qa.headers[i].value, qb.headers[i].value)) {
            return false;
        }
    }
    return true;
}

// Feeds growing prefixes of `in` ending at each of `cuts` (ascending, the last
// one == in.size()), each in a fresh heap copy; stops at the first result that
// is not incomplete. Checks it against the one-shot result.
void check_split(std::string_view in, const parser_limits& lim, const std::size_t* cuts,
                 std::size_t ncuts, const parse_result& want, const request& want_q) {
    request_parser p;
    auto q = std::make_unique<request>();
    for (std::size_t i = 0; i < ncuts; ++i) {
        const std::size_t n = cuts[i];
        const bool last = i + 1 == ncuts;
        std::unique_ptr<char[]> copy;
        std::string_view buf = in;
        if (!last) {
            copy.reset(new char[n + 1]);
            if (n > 0) std::memcpy(copy.get(), in.data(), n);
            buf = std::string_view(copy.get(), n);
        }
        const parse_result r = p.parse(buf, lim, *q);
        check_invariants(buf, lim, r, *q);
        if (r.status != parse_status::incomplete || last) {
            SSEPUSH_FUZZ_CHECK(same(r, *q, buf, want, want_q, in));
            return;
        }
    }
}

void check_one(std::string_view in, const parser_limits& lim) {
    request_parser p;
    auto q = std::make_unique<request>();
    const parse_result r = p.parse(in, lim, *q);
    check_invariants(in, lim, r, *q);

    // Two and three pieces, cut where the input's own bytes say.
    if (!in.empty()) {
        const auto b0 = static_cast<unsigned char>(in[0]);
        const auto b1 = static_cast<unsigned char>(in[in.size() / 2]);
        const auto b2 = static_cast<unsigned char>(in[in.size() - 1]);
        std::size_t c1 = (b0 * 131u + b2) % (in.size() + 1);
        std::size_t c2 = (b1 * 257u + b0) % (in.size() + 1);
        if (c1 > c2) std::swap(c1, c2);
        const std::size_t two[] = {c1, in.size()};
        check_split(in, lim, two, 2, r, *q);
        const std::size_t three[] = {c1, c2, in.size()};
        check_split(in, lim, three, 3, r, *q);
        // Near the end of the header, where CRLFCRLF gets split.
        const std::size_t tail = in.size() > 3 ? in.size() - 1 - b2 % 3 : 0;
        const std::size_t near_end[] = {tail, in.size()};
        check_split(in, lim, near_end, 2, r, *q);
    }
    if (in.size() <= 96) {
        std::size_t cuts[97];
        for (std::size_t i = 0; i < in.size(); ++i)
            cuts[i] = i + 1;
        if (!in.empty()) check_split(in, lim, cuts, in.size(), r, *q);
    }

    // Pipelined requests after the first.
    if (r.status == parse_status::complete) {
        std::string_view rest = in.substr(r.consumed);
        for (int i = 0; i < 16 && !rest.empty(); ++i) {
            p.reset();
            const parse_result next = p.parse(rest, lim, *q);
            check_invariants(rest, lim, next, *q);
            if (next.status != parse_status::complete) break;
            rest.remove_prefix(next.consumed);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    check_one(in, parser_limits{});

    // Tight limits so that short inputs reach the limit paths too.
    parser_limits tight;
    tight.max_request_line = static_cast<std::uint32_t>(size / 3);
    tight.max_header_bytes = static_cast<std::uint32_t>(size / 2 + 8);
    tight.max_headers = static_cast<std::uint32_t>(size % 7);
    tight.max_body_bytes = size % 11;
    check_one(in, tight);
    return 0;
}
