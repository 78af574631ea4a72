// Query-string decoding throughput on what /event-stream receives from the
// C# client (encoded commas, session ids), and a find_param lookup on it.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "ssepush/proto/url.h"

namespace ssepush::proto {
namespace {

constexpr std::string_view k_query =
    "channels=home%2Croom1%2Croom%202&t=1700000000000&ss-id=JaOi1bQkZ2x0aW&ss-pid=Hk2a9xYzQ1"
    "&ss-opt=perm&name=caf%C3%A9+user";

void bm_url_decode_query(benchmark::State& state) {
    std::string out;
    out.reserve(k_query.size());
    for (auto _ : state) {
        out.clear();
        url_decode(k_query, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(k_query.size()));
}
BENCHMARK(bm_url_decode_query);

void bm_url_find_param(benchmark::State& state) {
    std::string value;
    value.reserve(64);
    for (auto _ : state) {
        const bool found = find_param(k_query, "ss-pid", value);
        benchmark::DoNotOptimize(found);
        benchmark::DoNotOptimize(value.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(k_query.size()));
}
BENCHMARK(bm_url_find_param);

}  // namespace
}  // namespace ssepush::proto
