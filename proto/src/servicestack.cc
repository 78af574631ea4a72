// ServiceStack message formats: selectors, channel names, data lines,
// subscription ids.
//
// Ids are drawn by rejection sampling: 248 = 4 * 62 is the largest multiple of
// the alphabet size that fits in a byte, so `byte % 62` over the bytes below it
// is exactly uniform; the 8 bytes above it (1 in 32) are thrown away and more
// are drawn. Random bytes are requested in small batches sized for the usual
// case, so a fake source in a test sees a predictable sequence of calls.
#include "ssepush/proto/servicestack.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ssepush::proto {
namespace {

bool control(unsigned char c) noexcept {
    return c < 0x20 || c == 0x7f;
}

bool line_break(char c) noexcept {
    return c == '\r' || c == '\n';
}

// Copies `s` with CR and LF as spaces.
char* put_one_line(char* out, std::string_view s) noexcept {
    for (const char c : s)
        *out++ = line_break(c) ? ' ' : c;
    return out;
}

constexpr unsigned k_alphabet_size = 62;
constexpr unsigned k_accept_below = 248;  // 4 * 62

// alphabet index of a character, or -1
constexpr int alphabet_index(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return -1;
}

static_assert(k_subscription_id_alphabet.size() == k_alphabet_size);
static_assert(k_subscription_id_max_shards == k_alphabet_size);
static_assert(alphabet_index('A') == 0 && alphabet_index('a') == 26 && alphabet_index('9') == 61);

}  // namespace

bool valid_selector(std::string_view s) noexcept {
    const std::size_t dot = s.find('.');
    if (dot == 0 || dot == std::string_view::npos) return false;
    for (const char c : s) {
        const auto b = static_cast<unsigned char>(c);
        if (control(b) || c == ' ' || c == '@') return false;
    }
    return true;
}

channel_check check_channel(std::string_view name, std::size_t max_length) noexcept {
    if (name.size() > max_length) return channel_check::too_long;
    for (const char c : name) {
        if (control(static_cast<unsigned char>(c))) return channel_check::has_control;
        if (c == '@') return channel_check::has_at;
        if (c == ',') return channel_check::has_comma;
    }
    return channel_check::ok;
}

std::size_t data_line_size(const data_line& line) noexcept {
    return (line.has_channel ? line.channel.size() + 1 : 0) + line.selector.size() + 1 +
           line.body.size();
}

std::size_t write_data_line(const data_line& line, char* out) noexcept {
    char* p = out;
    if (line.has_channel) {
        p = put_one_line(p, line.channel);
        *p++ = '@';
    }
    p = put_one_line(p, line.selector);
    *p++ = ' ';
    p = put_one_line(p, line.body);
    return static_cast<std::size_t>(p - out);
}

void append_data_line(std::string& out, std::string_view selector, std::string_view body) {
    const data_line line{false, {}, selector, body};
    const std::size_t at = out.size();
    out.resize(at + data_line_size(line));
    write_data_line(line, out.data() + at);
}

void append_channel_data_line(std::string& out, std::string_view channel, std::string_view selector,
                              std::string_view body) {
    const data_line line{true, channel, selector, body};
    const std::size_t at = out.size();
    out.resize(at + data_line_size(line));
    write_data_line(line, out.data() + at);
}

// ---------------------------------------------------------------------------

void csprng_source::fill(void* p, std::size_t n) {
    auto* dst = static_cast<unsigned char*>(p);
    while (n > 0) {
        if (pos_ == buf_.size()) {
            std::size_t got = 0;
            while (got < buf_.size()) {
                const ssize_t r = getrandom(buf_.data() + got, buf_.size() - got, 0);
                if (r < 0) {
                    if (errno == EINTR) continue;
                    std::fprintf(stderr, "ssepush: getrandom failed: %s\n", std::strerror(errno));
                    std::abort();
                }
                got += static_cast<std::size_t>(r);
            }
            pos_ = 0;
        }
        const std::size_t take = std::min(n, buf_.size() - pos_);
        std::memcpy(dst, buf_.data() + pos_, take);
        // Bytes handed out are not kept around.
        std::memset(buf_.data() + pos_, 0, take);
        pos_ += take;
        dst += take;
        n -= take;
    }
}

std::string make_subscription_id(unsigned shard, random_source& random) {
    std::string id;
    if (shard >= k_subscription_id_max_shards) return id;
    id.reserve(k_subscription_id_length);
    id.push_back(k_subscription_id_alphabet[shard]);
    // 24 bytes cover 19 draws unless 6+ of them are rejected (p ~ 1e-4).
    unsigned char bytes[24];
    while (id.size() < k_subscription_id_length) {
        random.fill(bytes, sizeof bytes);
        for (const unsigned char b : bytes) {
            if (b >= k_accept_below) continue;
            id.push_back(k_subscription_id_alphabet[b % k_alphabet_size]);
            if (id.size() == k_subscription_id_length) break;
        }
    }
    return id;
}

unsigned shard_of_subscription_id(std::string_view id) noexcept {
    if (id.size() != k_subscription_id_length) return UINT_MAX;
    for (const char c : id) {
        if (alphabet_index(c) < 0) return UINT_MAX;
    }
    return static_cast<unsigned>(alphabet_index(id.front()));
}

}  // namespace ssepush::proto
