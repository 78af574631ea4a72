// SSE encoding throughput on a ~200-byte ServiceStack chat frame: size it,
// then write it, as the engine does for every published message.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "ssepush/proto/sse.h"

namespace ssepush::proto {
namespace {

constexpr std::string_view k_chat =
    R"(home@cmd.chat {"id":1042,"userId":"-3","fromUserId":"-3","fromName":"user3",)"
    R"("displayName":"user3","message":"hello everyone, how is it going?",)"
    R"("channel":"home","private":false,"selector":"cmd.chat"})";

void bm_sse_encode_chat_frame(benchmark::State& state) {
    sse_event ev;
    ev.has_id = true;
    ev.id = 1042;
    ev.data = k_chat;
    std::string buf(4096, '\0');
    std::size_t bytes = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(ev.data.data());
        const std::size_t size = encoded_size(ev);
        const std::size_t n = encode(ev, buf.data());
        benchmark::DoNotOptimize(buf.data());
        bytes += n;
        if (n != size) state.SkipWithError("size mismatch");
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    state.counters["frame_bytes"] = static_cast<double>(encoded_size(ev));
}
BENCHMARK(bm_sse_encode_chat_frame);

}  // namespace
}  // namespace ssepush::proto
