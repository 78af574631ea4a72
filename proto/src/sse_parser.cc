// Server-Sent Events parsing (client side).
//
// Each complete line is processed once, as soon as its end is seen, by the
// WHATWG algorithm. During one feed() the pending event is a set of views
// (sse_run): the event type and a single data line point straight into the
// caller's bytes, so the common event costs no copy. Only two things copy:
//   - a second data line: the data is joined in carry_->data;
//   - the end of a feed() while an event is pending or a line is unfinished:
//     the event type, the data and the partial line move into carry_ (the
//     views into the caller's bytes would dangle), and the next feed() starts
//     from there. A line completed from carry_->line is processed in place;
//     carry_->line is not touched again until the end of that feed(), so views
//     into it are as good as views into the input.
// The last event id is a view too, copied into the parser's own storage at
// the end of each feed().
//
// The limits are decided per line (its length) and per data line (the joined
// size so far), never by what happens to be buffered, so where the input was
// split cannot change where too_large is reported.
#include "ssepush/proto/sse_parser.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ssepush::proto {
namespace detail {

// What is pending between two feed() calls.
struct sse_carry {
    std::string line;   // the start of a line whose end has not arrived
    std::string event;  // the event type buffer
    std::string data;   // the data lines so far, joined with "\n"
    bool has_data = false;
};

namespace {

constexpr unsigned char k_bom[3] = {0xEF, 0xBB, 0xBF};

template <std::size_t N>
bool starts_with(std::string_view s, const char (&prefix)[N]) noexcept {
    return s.size() >= N - 1 && std::memcmp(s.data(), prefix, N - 1) == 0;
}

// The value of a field whose colon is at k - 1: one leading space removed.
std::string_view value_at(std::string_view line, std::size_t k) noexcept {
    std::string_view v = line.substr(k);
    if (!v.empty() && v[0] == ' ') v.remove_prefix(1);
    return v;
}

// Digits only (at least one), saturating; nullopt otherwise.
std::optional<std::uint32_t> parse_retry(std::string_view v) noexcept {
    if (v.empty()) return std::nullopt;
    std::uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
        if (n > std::numeric_limits<std::uint32_t>::max())
            n = std::numeric_limits<std::uint32_t>::max();
    }
    return static_cast<std::uint32_t>(n);
}

}  // namespace

class sse_run {
public:
    sse_run(sse_parser& parser, const sse_sink& sink) noexcept
        : parser_(parser), sink_(sink), max_(parser.max_event_bytes_) {}

    sse_parse_status run(std::string_view in);

private:
    sse_carry& carry() {
        if (!parser_.carry_) parser_.carry_ = std::make_unique<sse_carry>();
        return *parser_.carry_;
    }

    // The first CR at or after `pos`, or n if none.
    std::size_t find_cr(std::size_t pos) const noexcept {
        const void* cr = std::memchr(p_ + pos, '\r', n_ - pos);
        return cr != nullptr ? static_cast<std::size_t>(static_cast<const char*>(cr) - p_) : n_;
    }

    // Where the line starting at `pos` ends: the first CR or LF, or n if none.
    //
    // Most lines are short ("id: 65", "event: x", a 50-byte JSON data line,
    // the blank line), and for those a library call per line costs more than
    // the search: the first k_short_line bytes are looked at inline, 16 at a
    // time (SSE2, for CR and LF at once). A longer line goes to memchr, which
    // is faster on long runs; the CR position is remembered, so input without
    // CRs is searched for them once, not once per line.
    std::size_t line_end(std::size_t pos) noexcept {
        static constexpr std::size_t k_short_line = 64;
        const std::size_t short_end = std::min(n_, pos + k_short_line);
        std::size_t i = pos;
#if defined(__SSE2__)
        const __m128i lf = _mm_set1_epi8('\n');
        const __m128i cr = _mm_set1_epi8('\r');
        while (i + 16 <= short_end) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_ + i));
            const auto hits = static_cast<unsigned>(
                _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr))));
            if (hits != 0) return i + static_cast<std::size_t>(__builtin_ctz(hits));
            i += 16;
        }
#endif
        if (short_end == n_) {  // the rest of the input is short: finish here
            for (; i < n_; ++i) {
                if (p_[i] == '\n' || p_[i] == '\r') return i;
            }
            return n_;
        }
        if (!cr_known_ || next_cr_ < i) {
            next_cr_ = find_cr(i);
            cr_known_ = true;
        }
        const void* hit = std::memchr(p_ + i, '\n', next_cr_ - i);
        return hit != nullptr ? static_cast<std::size_t>(static_cast<const char*>(hit) - p_)
                              : next_cr_;
    }

    // Where the next line starts, given the line break at `end` (< n).
    std::size_t after_break(std::size_t end) noexcept {
        if (p_[end] == '\n') return end + 1;
        if (end + 1 < n_) return p_[end + 1] == '\n' ? end + 2 : end + 1;
        parser_.flags_ |= sse_parser::k_skip_lf;  // the LF may start the next feed
        return end + 1;
    }

    bool line(std::string_view s);
    void set_id(std::string_view value) noexcept;
    bool add_data(std::string_view value);
    void dispatch();
    sse_parse_status fail();
    void finish(std::string_view partial);

    sse_parser& parser_;
    const sse_sink& sink_;
    const std::size_t max_;
    const char* p_ = nullptr;
    std::size_t n_ = 0;
    std::size_t next_cr_ = 0;  // once cr_known_: the next CR at or after the scan, n_ if none
    bool cr_known_ = false;

    // The pending event; the views point into the input, carry_->line or carry_->event.
    std::string_view event_;
    std::string_view data_;  // one data line, when !data_owned_
    bool has_data_ = false;
    bool data_owned_ = false;  // the data is carry_->data
    std::string_view id_;      // the last event id buffer
    bool id_changed_ = false;  // id_ is not the parser's stored id
};

// One complete line, without its line break. False: too large.
inline bool sse_run::line(std::string_view s) {
    if (s.size() > max_) return false;
    if (s.empty()) {
        dispatch();
        return true;
    }
    // The lines servers send are "data: ", "id: " and "event: " with the
    // colon right after the name: recognised without looking for the colon.
    if (starts_with(s, "data:")) return add_data(value_at(s, 5));
    if (starts_with(s, "id:")) {
        set_id(value_at(s, 3));
        return true;
    }
    if (starts_with(s, "event:")) {
        event_ = value_at(s, 6);
        return true;
    }
    if (s[0] == ':') {
        if (sink_.comment != nullptr) sink_.comment(sink_.comment_ctx, s.substr(1));
        return true;
    }
    // Anything else: the name runs to the first colon, or is the whole line.
    std::string_view name = s;
    std::string_view value;
    if (const void* colon = std::memchr(s.data(), ':', s.size()); colon != nullptr) {
        const auto k = static_cast<std::size_t>(static_cast<const char*>(colon) - s.data());
        name = s.substr(0, k);
        value = value_at(s, k + 1);
    }
    if (name == "data") return add_data(value);
    if (name == "id") {
        set_id(value);
    } else if (name == "event") {
        event_ = value;
    } else if (name == "retry") {
        if (const auto ms = parse_retry(value)) {
            parser_.retry_ms_ = *ms;
            parser_.flags_ |= sse_parser::k_has_retry;
        }
    }
    return true;
}

inline void sse_run::set_id(std::string_view value) noexcept {
    // An id containing NUL is ignored. Ids are short: a loop beats a call.
    for (char c : value) {
        if (c == '\0') return;
    }
    id_ = value;
    id_changed_ = true;
}

inline bool sse_run::add_data(std::string_view value) {
    if (!has_data_) {
        data_ = value;
        has_data_ = true;
        return true;
    }
    std::string& joined = carry().data;
    if (!data_owned_) {
        joined.assign(data_);
        data_owned_ = true;
    }
    if (joined.size() + 1 + value.size() > max_) return false;
    joined.push_back('\n');
    joined.append(value);
    return true;
}

inline void sse_run::dispatch() {
    if (has_data_) {
        sse_message m;
        m.event = event_;
        m.data = data_owned_ ? std::string_view(parser_.carry_->data) : data_;
        m.last_event_id = id_;
        sink_.event(sink_.event_ctx, m);
        if (data_owned_) parser_.carry_->data.clear();
    }
    event_ = {};
    data_ = {};
    has_data_ = false;
    data_owned_ = false;
}

sse_parse_status sse_run::fail() {
    if (id_changed_) parser_.set_id(id_);
    parser_.flags_ |= sse_parser::k_error;
    parser_.carry_.reset();
    return sse_parse_status::too_large;
}

// Moves what must outlive this call into the parser: the id, the pending
// event, and `partial` (an unfinished line, a view into the input). The order
// matters: the event and the id may still point into carry_->line.
void sse_run::finish(std::string_view partial) {
    if (id_changed_) parser_.set_id(id_);
    if (!has_data_ && event_.empty() && partial.empty()) {
        parser_.carry_.reset();
        return;
    }
    sse_carry& c = carry();
    if (event_.data() != c.event.data() || event_.size() != c.event.size()) c.event.assign(event_);
    if (!has_data_) {
        c.data.clear();
    } else if (!data_owned_) {
        c.data.assign(data_);
    }
    c.has_data = has_data_;
    c.line.assign(partial);
}

sse_parse_status sse_run::run(std::string_view in) {
    if ((parser_.flags_ & sse_parser::k_error) != 0) return sse_parse_status::too_large;
    if (in.empty()) return sse_parse_status::ok;
    p_ = in.data();
    n_ = in.size();
    std::size_t pos = 0;

    // A UTF-8 BOM may only be at the very start of the stream, possibly split.
    if ((parser_.flags_ & sse_parser::k_bom_done) == 0) {
        unsigned matched = (parser_.flags_ >> sse_parser::k_bom_shift) & 3u;
        while (pos < n_ && matched < 3 && static_cast<unsigned char>(p_[pos]) == k_bom[matched]) {
            ++matched;
            ++pos;
        }
        parser_.flags_ &= static_cast<std::uint8_t>(~(3u << sse_parser::k_bom_shift));
        if (matched < 3 && pos == n_) {  // all BOM so far: wait for more
            parser_.flags_ |= static_cast<std::uint8_t>(matched << sse_parser::k_bom_shift);
            return sse_parse_status::ok;
        }
        parser_.flags_ |= sse_parser::k_bom_done;
        if (matched < 3 && matched > 0) {
            // Not a BOM after all: its bytes start the first line.
            carry().line.assign(reinterpret_cast<const char*>(k_bom), matched);
        }
    }
    if ((parser_.flags_ & sse_parser::k_skip_lf) != 0) {
        parser_.flags_ &= static_cast<std::uint8_t>(~sse_parser::k_skip_lf);
        if (pos < n_ && p_[pos] == '\n') ++pos;
    }

    // Resume the pending event, if any.
    sse_carry* c = parser_.carry_.get();
    if (c != nullptr) {
        event_ = c->event;
        has_data_ = data_owned_ = c->has_data;
    }
    id_ = parser_.last_event_id();

    // Finish the line carried from the previous call.
    if (c != nullptr && !c->line.empty()) {
        const std::size_t end = line_end(pos);
        if (c->line.size() + (end - pos) > max_) return fail();
        c->line.append(p_ + pos, end - pos);
        if (end == n_) return sse_parse_status::ok;  // still unfinished
        pos = after_break(end);
        if (!line(c->line)) return fail();
    }

    // The fast path: whole lines inside the input.
    while (pos < n_) {
        const std::size_t end = line_end(pos);
        if (end == n_) break;
        if (!line(std::string_view(p_ + pos, end - pos))) return fail();
        pos = after_break(end);
    }
    const std::string_view partial(p_ + pos, n_ - pos);
    if (partial.size() > max_) return fail();
    finish(partial);
    return sse_parse_status::ok;
}

}  // namespace detail

sse_parser::sse_parser(std::uint32_t max_event_bytes) noexcept
    : max_event_bytes_(max_event_bytes) {}

sse_parser::~sse_parser() {
    free_id();
}

sse_parser::sse_parser(sse_parser&& other) noexcept
    : carry_(std::move(other.carry_)),
      max_event_bytes_(other.max_event_bytes_),
      retry_ms_(other.retry_ms_),
      id_len_(other.id_len_),
      flags_(other.flags_),
      id_(other.id_) {
    other.id_len_ = 0;  // the heap id, if any, is ours now
    other.reset();
}

sse_parser& sse_parser::operator=(sse_parser&& other) noexcept {
    if (this != &other) {
        free_id();
        carry_ = std::move(other.carry_);
        max_event_bytes_ = other.max_event_bytes_;
        retry_ms_ = other.retry_ms_;
        id_len_ = other.id_len_;
        flags_ = other.flags_;
        id_ = other.id_;
        other.id_len_ = 0;
        other.reset();
    }
    return *this;
}

sse_parse_status sse_parser::feed_impl(std::string_view in, const detail::sse_sink& sink) {
    detail::sse_run run(*this, sink);
    return run.run(in);
}

std::optional<std::uint32_t> sse_parser::retry_ms() const noexcept {
    if ((flags_ & k_has_retry) == 0) return std::nullopt;
    return retry_ms_;
}

std::string_view sse_parser::last_event_id() const noexcept {
    return {id_len_ <= k_inline_id ? id_.local : id_.heap.data, id_len_};
}

void sse_parser::set_id(std::string_view id) {
    const auto len = static_cast<std::uint32_t>(id.size());  // a line: <= max_event_bytes_
    if (len <= k_inline_id) {
        free_id();
        if (len > 0) std::memcpy(id_.local, id.data(), len);
    } else {
        if (id_len_ <= k_inline_id || id_.heap.capacity < len) {
            char* fresh = new char[len];
            free_id();
            id_.heap.data = fresh;
            id_.heap.capacity = len;
        }
        std::memcpy(id_.heap.data, id.data(), len);
    }
    id_len_ = len;
}

void sse_parser::free_id() noexcept {
    if (id_len_ > k_inline_id) delete[] id_.heap.data;
    id_len_ = 0;
}

void sse_parser::reset() noexcept {
    free_id();
    carry_.reset();
    retry_ms_ = 0;
    flags_ = 0;
}

}  // namespace ssepush::proto
