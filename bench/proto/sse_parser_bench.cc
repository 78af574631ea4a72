// Client-side SSE parsing throughput on ssepushd's frames, as the load
// generator sees them:
//   - a 64 KiB read full of whole frames (one feed, the zero-copy path);
//   - the same stream in reads of a given size, cut anywhere (frames split
//     across reads go through the carry);
//   - one frame per feed (a lightly loaded connection: one read per event);
//   - multi-line data (always joined in the carry), for contrast.
// Items are events; bytes are stream bytes.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <vector>

#include "ssepush/proto/sse_parser.h"

namespace ssepush::proto {
namespace {

std::string frame(std::uint64_t id) {
    std::string f = "id: ";
    f += std::to_string(id);
    f += "\nevent: x\ndata: cmd.bench {\"t\":123456789,\"s\":42,\"c\":0}\n\n";
    return f;
}

// Whole frames, up to `size` bytes; sets `events` to how many.
std::string frames(std::size_t size, std::int64_t& events) {
    std::string out;
    events = 0;
    for (std::uint64_t id = 1'000'000;; ++id) {
        const std::string f = frame(id);
        if (out.size() + f.size() > size) break;
        out += f;
        ++events;
    }
    return out;
}

struct counter {
    std::int64_t events = 0;
    std::size_t bytes = 0;
    void operator()(const sse_message& m) {
        ++events;
        bytes += m.data.size();
    }
};

void bm_sse_parse_64k(benchmark::State& state) {
    std::int64_t per_buffer = 0;
    const std::string buf = frames(64 * 1024, per_buffer);
    sse_parser p;
    counter c;
    for (auto _ : state) {
        if (p.feed(buf, c) != sse_parse_status::ok) state.SkipWithError("parse failed");
        benchmark::DoNotOptimize(c.bytes);
    }
    if (c.events != per_buffer * static_cast<std::int64_t>(state.iterations())) {
        state.SkipWithError("event count mismatch");
    }
    state.SetItemsProcessed(c.events);
    state.SetBytesProcessed(static_cast<std::int64_t>(buf.size()) *
                            static_cast<std::int64_t>(state.iterations()));
    state.counters["frame_bytes"] = static_cast<double>(frame(1'000'000).size());
    state.counters["parser_bytes"] = static_cast<double>(sizeof(sse_parser));
}
BENCHMARK(bm_sse_parse_64k);

void bm_sse_parse_reads(benchmark::State& state) {
    const auto read_size = static_cast<std::size_t>(state.range(0));
    std::int64_t per_buffer = 0;
    const std::string buf = frames(64 * 1024, per_buffer);
    sse_parser p;
    counter c;
    for (auto _ : state) {
        for (std::size_t at = 0; at < buf.size(); at += read_size) {
            const std::string_view piece = std::string_view(buf).substr(at, read_size);
            if (p.feed(piece, c) != sse_parse_status::ok) state.SkipWithError("parse failed");
        }
        benchmark::DoNotOptimize(c.bytes);
    }
    if (c.events != per_buffer * static_cast<std::int64_t>(state.iterations())) {
        state.SkipWithError("event count mismatch");
    }
    state.SetItemsProcessed(c.events);
    state.SetBytesProcessed(static_cast<std::int64_t>(buf.size()) *
                            static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(bm_sse_parse_reads)->Arg(1460)->Arg(4096)->Arg(16384);

void bm_sse_parse_one_event_per_feed(benchmark::State& state) {
    // Distinct frames, so the id changes every time as it does on the wire.
    std::int64_t count = 0;
    const std::string buf = frames(64 * 1024, count);
    std::vector<std::string_view> events;
    for (std::size_t at = 0; at < buf.size();) {
        const std::size_t end = buf.find("\n\n", at) + 2;
        events.push_back(std::string_view(buf).substr(at, end - at));
        at = end;
    }
    sse_parser p;
    counter c;
    std::size_t i = 0;
    std::int64_t bytes = 0;
    for (auto _ : state) {
        const std::string_view ev = events[i];
        if (++i == events.size()) i = 0;
        if (p.feed(ev, c) != sse_parse_status::ok) state.SkipWithError("parse failed");
        bytes += static_cast<std::int64_t>(ev.size());
        benchmark::DoNotOptimize(c.bytes);
    }
    if (c.events != static_cast<std::int64_t>(state.iterations())) {
        state.SkipWithError("event count mismatch");
    }
    state.SetItemsProcessed(c.events);
    state.SetBytesProcessed(bytes);
}
BENCHMARK(bm_sse_parse_one_event_per_feed);

void bm_sse_parse_multiline_data(benchmark::State& state) {
    std::string buf;
    std::int64_t per_buffer = 0;
    while (buf.size() < 64 * 1024 - 200) {
        buf += "id: 1\ndata: {\"a\":1,\ndata: \"b\":2,\ndata: \"c\":3}\n\n";
        ++per_buffer;
    }
    sse_parser p;
    counter c;
    for (auto _ : state) {
        if (p.feed(buf, c) != sse_parse_status::ok) state.SkipWithError("parse failed");
        benchmark::DoNotOptimize(c.bytes);
    }
    if (c.events != per_buffer * static_cast<std::int64_t>(state.iterations())) {
        state.SkipWithError("event count mismatch");
    }
    state.SetItemsProcessed(c.events);
    state.SetBytesProcessed(static_cast<std::int64_t>(buf.size()) *
                            static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(bm_sse_parse_multiline_data);

}  // namespace
}  // namespace ssepush::proto
