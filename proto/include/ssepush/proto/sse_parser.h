#pragma once
// Server-Sent Events parser (client side): reads a `text/event-stream` body
// the way WHATWG HTML "Interpreting an event stream" says an EventSource does.
//
// The load generator feeds it each piece of a response body as it arrives
// (ssepushd's, nchan's, or pushpin's once de-chunked); the parser calls back
// once per dispatched event and once per comment line:
//
//   - lines end in CRLF, LF or CR; a CR that ends one piece and the LF that
//     starts the next are one line break;
//   - one UTF-8 BOM at the very start of the stream is skipped;
//   - a line starting with ':' is a comment (on_comment gets the text after it);
//   - "name:value" sets a field, with one leading space of the value removed;
//     a line without ':' is a field with an empty value; the fields are
//     `event`, `data` (lines joined with "\n"), `id` (ignored when it contains
//     NUL; it persists across events until the next `id` line), and `retry`
//     (ASCII digits only; saturates at 2^32-1); other names are ignored;
//   - a blank line dispatches the event, unless it has no `data` line (then
//     the event type is forgotten and nothing is dispatched).
//
// Bytes are passed through as they are: no UTF-8 validation or decoding.
// The sequence of callbacks never depends on how the stream was split across
// feed() calls; a stream that ends in the middle of an event leaves it
// undispatched, as EventSource does.
//
// Limits: a line longer than `max_event_bytes`, or an event whose data would
// be longer, makes feed() return `too_large` (after the callbacks for
// everything before that line); the parser then refuses every feed until
// reset(). Anything else is accepted: a body cannot be malformed.
//
// Cost: when a whole event lies inside one feed() and has one `data` line
// (ssepushd's, nchan's and pushpin's frames), the message's views point into
// the caller's bytes: no copy, no allocation, line ends found with memchr.
// Only an event split across feeds, or one with several `data` lines, is
// copied into carry storage, which is allocated while needed and freed once
// that event is dispatched. An idle parser is 48 bytes and holds no heap
// memory (an id longer than 24 bytes is kept on the heap until replaced).
//
// Threading: none; one parser per connection. Callbacks must not call back
// into the same parser.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>

namespace ssepush::proto {

// One dispatched event. The views are valid only during the callback.
struct sse_message {
    std::string_view event;  // "" when there was no event field (EventSource type "message")
    std::string_view data;   // the data lines joined with "\n"
    std::string_view last_event_id;  // the last id seen on this stream, "" if none
};

enum class sse_parse_status : std::uint8_t {
    ok,
    too_large,  // a line or an event's data above max_event_bytes; reset() to go on
};

namespace detail {
struct sse_carry;  // the pending event and partial line, while there are any
class sse_run;     // one feed() call, in sse_parser.cc

// The callbacks of one feed(), type-erased so the parser can live in the .cc.
struct sse_sink {
    void* event_ctx = nullptr;
    void (*event)(void*, const sse_message&) = nullptr;
    void* comment_ctx = nullptr;
    void (*comment)(void*, std::string_view) = nullptr;  // null: comments ignored
};

template <class Fn, class Arg>
void sse_thunk(void* ctx, Arg arg) {
    (*static_cast<Fn*>(ctx))(arg);
}

template <class Fn>
void* sse_ctx(Fn& fn) noexcept {
    return const_cast<void*>(static_cast<const void*>(std::addressof(fn)));
}
}  // namespace detail

class sse_parser {
public:
    static constexpr std::uint32_t k_default_max_event_bytes = 1u << 20;

    explicit sse_parser(std::uint32_t max_event_bytes = k_default_max_event_bytes) noexcept;
    ~sse_parser();
    sse_parser(sse_parser&& other) noexcept;
    sse_parser& operator=(sse_parser&& other) noexcept;
    sse_parser(const sse_parser&) = delete;
    sse_parser& operator=(const sse_parser&) = delete;

    // Feeds the next bytes of the body (any length, including 0). Calls
    // on_event(const sse_message&) for each event dispatched and
    // on_comment(std::string_view) for each comment line (the text after ':').
    template <class OnEvent, class OnComment>
    [[nodiscard]] sse_parse_status feed(std::string_view in, OnEvent&& on_event,
                                        OnComment&& on_comment) {
        using event_fn = std::remove_reference_t<OnEvent>;
        using comment_fn = std::remove_reference_t<OnComment>;
        detail::sse_sink sink;
        sink.event_ctx = detail::sse_ctx(on_event);
        sink.event = &detail::sse_thunk<event_fn, const sse_message&>;
        sink.comment_ctx = detail::sse_ctx(on_comment);
        sink.comment = &detail::sse_thunk<comment_fn, std::string_view>;
        return feed_impl(in, sink);
    }

    // The same, comments ignored.
    template <class OnEvent>
    [[nodiscard]] sse_parse_status feed(std::string_view in, OnEvent&& on_event) {
        using event_fn = std::remove_reference_t<OnEvent>;
        detail::sse_sink sink;
        sink.event_ctx = detail::sse_ctx(on_event);
        sink.event = &detail::sse_thunk<event_fn, const sse_message&>;
        return feed_impl(in, sink);
    }

    // The reconnection time set by the last valid `retry` field, if any.
    [[nodiscard]] std::optional<std::uint32_t> retry_ms() const noexcept;

    // The last event ID buffer (what an EventSource sends as Last-Event-ID when
    // it reconnects). Valid until the next feed() or reset().
    [[nodiscard]] std::string_view last_event_id() const noexcept;

    // True after too_large, until reset().
    [[nodiscard]] bool failed() const noexcept { return (flags_ & k_error) != 0; }

    // Back to the state of a new parser (a new connection): forgets the pending
    // event, the last event id, the retry time and any error. Frees all memory.
    void reset() noexcept;

private:
    friend class detail::sse_run;

    static constexpr std::uint8_t k_error = 1;
    static constexpr std::uint8_t k_skip_lf = 2;  // the last byte fed was a CR ending a line
    static constexpr std::uint8_t k_has_retry = 4;
    static constexpr std::uint8_t k_bom_done = 8;     // past where a BOM could be
    static constexpr std::uint8_t k_bom_shift = 4;    // bits 4-5: BOM bytes matched so far
    static constexpr std::uint32_t k_inline_id = 24;  // longer ids go on the heap

    sse_parse_status feed_impl(std::string_view in, const detail::sse_sink& sink);
    void set_id(std::string_view id);
    void free_id() noexcept;

    std::unique_ptr<detail::sse_carry> carry_;  // null while nothing is pending
    std::uint32_t max_event_bytes_;
    std::uint32_t retry_ms_ = 0;
    std::uint32_t id_len_ = 0;
    std::uint8_t flags_ = 0;
    // The last event id: in `local` up to k_inline_id bytes, else on the heap.
    union id_storage {
        char local[k_inline_id];
        struct {
            char* data;
            std::uint32_t capacity;
        } heap;
    } id_{};
};

}  // namespace ssepush::proto
