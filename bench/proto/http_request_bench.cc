// Request parser throughput: a typical browser EventSource GET, the smallest
// valid HTTP/1.1 request, and the browser GET dribbled one byte per call (the
// slow-client case the incremental scan exists for).
#include <benchmark/benchmark.h>

#include <memory>
#include <string_view>

#include "ssepush/proto/http_request.h"

namespace ssepush::proto {
namespace {

// ~400 bytes, 10 header fields: what Chrome sends for new EventSource(url).
constexpr std::string_view k_browser =
    "GET /event-stream?channels=home,room1&t=1700000000000 HTTP/1.1\r\n"
    "Host: chat.example.com\r\n"
    "Connection: keep-alive\r\n"
    "Accept: text/event-stream\r\n"
    "Cache-Control: no-cache\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0 Safari/537.36\r\n"
    "Referer: https://chat.example.com/\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Cookie: ss-id=JaOi1bQk; ss-pid=Hk2a9xYz\r\n"
    "Sec-Fetch-Mode: cors\r\n"
    "\r\n";

constexpr std::string_view k_minimal = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

void parse_whole(benchmark::State& state, std::string_view req) {
    auto q = std::make_unique<request>();
    const parser_limits limits;
    for (auto _ : state) {
        request_parser p;
        parse_result r = p.parse(req, limits, *q);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(q->header_count);
        if (r.status != parse_status::complete) state.SkipWithError("not complete");
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(req.size()));
}

void bm_parse_browser_get(benchmark::State& state) {
    parse_whole(state, k_browser);
}
BENCHMARK(bm_parse_browser_get);

void bm_parse_minimal_get(benchmark::State& state) {
    parse_whole(state, k_minimal);
}
BENCHMARK(bm_parse_minimal_get);

void bm_parse_browser_get_bytewise(benchmark::State& state) {
    auto q = std::make_unique<request>();
    const parser_limits limits;
    for (auto _ : state) {
        request_parser p;
        parse_result r;
        for (std::size_t n = 1; n <= k_browser.size(); ++n) {
            r = p.parse(k_browser.substr(0, n), limits, *q);
            benchmark::DoNotOptimize(r);
        }
        if (r.status != parse_status::complete) state.SkipWithError("not complete");
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(k_browser.size()));
}
BENCHMARK(bm_parse_browser_get_bytewise);

}  // namespace
}  // namespace ssepush::proto
