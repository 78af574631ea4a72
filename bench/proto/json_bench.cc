// JSON writing and request binding on the payloads the events layer handles:
// escaping a chat message, building a subscription's Meta object, and binding
// the JSON body the TS client posts to /api/UpdateEventSubscriber.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "ssepush/proto/json.h"
#include "ssepush/proto/request_fields.h"
#include "ssepush/proto/servicestack.h"

namespace ssepush::proto {
namespace {

// 200 bytes: mostly plain text, a few quotes, a line break and some UTF-8.
constexpr std::string_view k_message =
    "Hey everyone, the \"release notes\" for v2.1 are up: https://example.com/notes/v2.1\n"
    "Caf\xc3\xa9 meeting moved to 15:30 \xe2\x80\x94 bring questions! Tabs\tand \\slashes "
    "are fine too :) see you all there, at the standup!";
static_assert(k_message.size() == 200);

void bm_json_escape_chat_message(benchmark::State& state) {
    std::string out;
    out.reserve(512);
    for (auto _ : state) {
        out.clear();
        json_escape(k_message, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(k_message.size()));
}
BENCHMARK(bm_json_escape_chat_message);

// The public Meta of a subscription plus onConnect-like extras: 10 string members.
void bm_json_meta_object(benchmark::State& state) {
    std::string out;
    out.reserve(1024);
    for (auto _ : state) {
        out.clear();
        json_writer w(out);
        w.begin_object()
            .member("userId", "-1234")
            .member("isAuthenticated", "false")
            .member("displayName", "user1234")
            .member("channels", "home,lobby,room 2")
            .member("createdAt", "1719830400123")
            .member("profileUrl", k_default_profile_url)
            .member("id", "Xq3Zb8Lm2Pf7Tn0Cw5Rk")
            .member("heartbeatUrl", "http://h:5000/event-heartbeat?id=Xq3Zb8Lm2Pf7Tn0Cw5Rk")
            .member("heartbeatIntervalMs", "10000")
            .member("idleTimeoutMs", "30000")
            .end_object();
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}
BENCHMARK(bm_json_meta_object);

constexpr std::string_view k_update_body =
    R"({"id":"Xq3Zb8Lm2Pf7Tn0Cw5Rk","subscribeChannels":["B","C"],"unsubscribeChannels":["A"]})";

void bm_request_fields_update_subscriber(benchmark::State& state) {
    request_fields f;
    for (auto _ : state) {
        f.parse("", "application/json", k_update_body);
        auto id = f.get("Id");
        auto sub = f.get_list("SubscribeChannels");
        auto unsub = f.get_list("UnsubscribeChannels");
        benchmark::DoNotOptimize(id);
        benchmark::DoNotOptimize(sub.data());
        benchmark::DoNotOptimize(unsub.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(k_update_body.size()));
}
BENCHMARK(bm_request_fields_update_subscriber);

}  // namespace
}  // namespace ssepush::proto
