#pragma once
// ServiceStack Server Events message formats (PROTOCOL.md §2.4, §3).
//
//   - Selectors ("cmd.onJoin", "css.background-image$#top") and channel names:
//     what may appear in a frame's data line.
//   - The data line itself: `[channel@]selector body`, always with the one space,
//     always one line.
//   - Subscription ids: 20 characters of [A-Za-z0-9] like ServiceStack's, the
//     first of which names the shard that holds the subscription, so any shard
//     can route a heartbeat or unregister for an id without a shared table.
//   - The default profile URL of anonymous users.
//
// Everything here is pure and total except csprng_source, which reads the
// kernel's CSPRNG (getrandom(2)): the one system call in proto/, kept behind
// the random_source interface so tests inject their own bytes.
//
// Threading: none; a csprng_source belongs to one thread (one per shard).
// Allocation: only the returned or appended strings.
#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ssepush::proto {

// ---------------------------------------------------------------------------
// Selectors and channels

// A selector is `op "." target` with a non-empty op (the text before the first
// '.'; the target may contain more dots, '$' and a CSS selector, or be empty).
// No whitespace, no control characters (U+0000..U+001F, U+007F), no '@' (it
// would split as a channel prefix). Non-ASCII bytes are allowed.
[[nodiscard]] bool valid_selector(std::string_view s) noexcept;

enum class channel_check : std::uint8_t {
    ok,
    too_long,     // longer than max_length bytes
    has_at,       // '@' would end the channel prefix of a data line early
    has_comma,    // ',' separates channels in every list that carries them
    has_control,  // U+0000..U+001F or U+007F: never allowed into a frame
};

// Checks a channel name. Empty names are allowed: ServiceStack keeps the ""
// channel that "A,,B" produces. Length is checked first, then the bytes from the
// left: the first offending byte decides the result.
[[nodiscard]] channel_check check_channel(std::string_view name, std::size_t max_length) noexcept;

// ---------------------------------------------------------------------------
// Data lines

// The text after "data: " of one frame: `selector " " body`, or, for a channel
// notification, `channel "@" selector " " body`. The space is written even when
// the body is empty (a null message): the C# client treats data without a space
// as a raw, unparsed message.
//
// A frame must carry exactly one data line (the C# and Java clients keep only the
// last one), so any CR or LF in the channel, the selector or the body is written
// as a space. The body is JSON, where a raw line break can only be insignificant
// whitespace (inside a string it must be escaped), so this never changes what a
// valid JSON body means. Channels and selectors should have been refused earlier
// (check_channel, valid_selector); here they are only kept from breaking the frame.
struct data_line {
    bool has_channel = false;  // NotifyChannel and join/leave/update: "channel@" prefix
    std::string_view channel;  // may be empty: then the prefix is just "@", as ServiceStack writes
    std::string_view selector;
    std::string_view body;  // JSON text, or empty
};

// Exact number of bytes write_data_line() writes.
[[nodiscard]] std::size_t data_line_size(const data_line& line) noexcept;

// Writes the line into `out` (data_line_size(line) bytes, no "data: ", no LF),
// returns the number of bytes written.
std::size_t write_data_line(const data_line& line, char* out) noexcept;

// Appends `selector body` (no channel prefix) to `out`.
void append_data_line(std::string& out, std::string_view selector, std::string_view body);

// Appends `channel@selector body` to `out`.
void append_channel_data_line(std::string& out, std::string_view channel, std::string_view selector,
                              std::string_view body);

// ---------------------------------------------------------------------------
// Subscription ids

// Source of random bytes. fill() must write all `n` bytes.
struct random_source {
    virtual ~random_source() = default;
    virtual void fill(void* p, std::size_t n) = 0;
};

// The kernel's CSPRNG through getrandom(2), read 4 KiB at a time into a buffer
// to keep system calls rare (one per ~170 ids). Not thread-safe: one per shard.
// The buffer would be duplicated by fork(); ssepush does not fork. Aborts the
// process if getrandom fails for a reason other than EINTR (no kernel CSPRNG:
// ids must not be guessable, so there is no fallback).
class csprng_source final : public random_source {
public:
    void fill(void* p, std::size_t n) override;

private:
    static constexpr std::size_t k_buffer_size = 4096;
    std::array<unsigned char, k_buffer_size> buf_{};
    std::size_t pos_ = k_buffer_size;  // start of the unused bytes
};

inline constexpr std::size_t k_subscription_id_length = 20;
// The id alphabet; the index of an id's first character is its shard.
inline constexpr std::string_view k_subscription_id_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
// Shards an id can name.
inline constexpr unsigned k_subscription_id_max_shards = 62;

// A new id for a subscription held by `shard`: alphabet[shard], then 19
// characters drawn uniformly from the alphabet (rejection sampling on random
// bytes: a byte >= 248 is drawn again, so there is no modulo bias), about 113
// bits of randomness. Empty if shard >= k_subscription_id_max_shards.
[[nodiscard]] std::string make_subscription_id(unsigned shard, random_source& random);

// The shard named by an id, or UINT_MAX if the id is malformed (not 20
// characters of the alphabet). Ids from ServiceStack servers (shared Redis) are
// well-formed too and name any of 62 shards: check the result against the
// number of shards before using it.
[[nodiscard]] unsigned shard_of_subscription_id(std::string_view id) noexcept;

// ---------------------------------------------------------------------------
// Profile URL

// The `profileUrl` of a subscription without one of its own: an inline SVG of a
// generic person (grey head and shoulders on a light disc), percent-encoded as a
// data: URI, like ServiceStack's default since 2019. Only [A-Za-z0-9-._~/:'=,()%+]
// appear in it, so it needs no JSON escaping and no further URL encoding.
inline constexpr std::string_view k_default_profile_url =
    "data:image/svg+xml,"
    "%3Csvg%20xmlns='http://www.w3.org/2000/svg'%20viewBox='0%200%2064%2064'%3E"
    "%3Ccircle%20cx='32'%20cy='32'%20r='32'%20fill='%23cbd5e1'/%3E"
    "%3Ccircle%20cx='32'%20cy='24'%20r='11'%20fill='%23475569'/%3E"
    "%3Cpath%20d='M13%2053c2-10%2010-16%2019-16s17%206%2019%2016z'%20fill='%23475569'/%3E"
    "%3C/svg%3E";

}  // namespace ssepush::proto
