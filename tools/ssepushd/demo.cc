#include "demo.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "ssepush/engine/frame.h"
#include "ssepush/engine/shard.h"

namespace ssepushd {

namespace eng = ssepush::engine;
using ssepush::proto::method;

namespace {

// The streams of one shard; touched only on that shard.
struct shard_streams {
    std::vector<eng::stream_ref> streams;
    eng::timer_node tick;
    std::uint64_t ticks = 0;
    unsigned tick_ms = 0;
};

std::vector<std::unique_ptr<shard_streams>> g_streams;

void on_close(void* user, eng::stream_ref s, eng::close_reason) noexcept {
    auto& v = static_cast<shard_streams*>(user)->streams;
    auto it = std::find_if(v.begin(), v.end(), [&](auto& x) { return x.get() == s.get(); });
    if (it != v.end()) {
        *it = v.back();
        v.pop_back();
    }
}
const eng::stream_hooks k_hooks{&on_close};

// Builds one frame on this shard (its own event id) and queues it on every
// stream of the shard: one allocation per shard, a pointer push per stream.
void send_to_shard(eng::shard& s, std::string_view data, std::string_view event = {}) {
    auto& st = *g_streams[s.index()];
    if (st.streams.empty()) return;
    ssepush::proto::sse_event ev;
    ev.has_id = true;
    ev.id = s.next_event_id();
    ev.event = event;
    ev.data = data;
    eng::frame_ptr f(eng::frame::sse(ev));
    s.send(st.streams.data(), st.streams.size(), f.get());
}

void on_publish(eng::shard& s, std::string_view bytes, void*) noexcept {
    try {
        send_to_shard(s, bytes, "message");
    } catch (...) {
    }
}

void on_tick(eng::timer_node& t) noexcept {
    eng::shard* s = eng::shard::current();
    auto& st = *g_streams[s->index()];
    ++st.ticks;
    try {
        send_to_shard(*s,
                      "{\"shard\":" + std::to_string(s->index()) +
                          ",\"tick\":" + std::to_string(st.ticks) + "}",
                      "tick");
    } catch (...) {
    }
    s->timers().arm(t, s->now_ms() + st.tick_ms);
}

const char k_page[] = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>ssepushd demo</title>
<style>body{font:15px system-ui,sans-serif;max-width:46rem;margin:2rem auto}
#log{height:22rem;overflow:auto;border:1px solid #ccc;padding:.5rem;font:13px monospace}
input{width:30rem}</style></head>
<body><h1>ssepushd</h1>
<p>One <code>EventSource</code> on <code>/stream</code>; every shard ticks once a second;
publishes go to every stream on every shard.</p>
<form id="f"><input id="m" placeholder="say something" autocomplete="off"> <button>publish</button></form>
<p id="st">connecting...</p><div id="log"></div>
<script>
const log = document.getElementById('log'), st = document.getElementById('st');
function add(t){const d=document.createElement('div');d.textContent=t;log.prepend(d);}
const es = new EventSource('/stream');
es.onopen = () => st.textContent = 'connected';
es.onerror = () => st.textContent = 'reconnecting...';
es.addEventListener('tick', e => st.textContent = 'connected, last tick ' + e.data + ' (id ' + e.lastEventId + ')');
es.addEventListener('message', e => add('message: ' + e.data + '  (id ' + e.lastEventId + ')'));
document.getElementById('f').onsubmit = ev => { ev.preventDefault();
  const m = document.getElementById('m'); fetch('/publish', {method:'POST', body:m.value}); m.value=''; };
</script></body></html>
)";

}  // namespace

void install_demo(eng::server& srv, const demo_options& opts) {
    g_streams.clear();
    for (unsigned i = 0; i < srv.options().shards; ++i) {
        g_streams.push_back(std::make_unique<shard_streams>());
        g_streams.back()->tick_ms = opts.tick_ms;
    }
    srv.route(eng::method_set::of({method::get}), "/",
              [](eng::exchange& ex) { ex.respond(200, "text/html; charset=utf-8", k_page); });
    srv.route(eng::method_set::of({method::get}), "/stream", [](eng::exchange& ex) {
        eng::stream_options o;
        o.extra_headers = "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n";
        o.hooks = &k_hooks;
        auto* st = g_streams[ex.owner().index()].get();
        o.user = st;
        if (eng::stream_ref s = ex.open_stream(o)) {
            st->streams.push_back(s);
            ssepush::proto::sse_event hello;
            hello.has_id = true;
            hello.id = ex.owner().next_event_id();
            hello.event = "hello";
            std::string data = "{\"shard\":" + std::to_string(ex.owner().index()) + "}";
            hello.data = data;
            eng::frame_ptr f(eng::frame::sse(hello));
            ex.owner().send(s, f.get());
        }
    });
    srv.route(eng::method_set::of({method::post}), "/publish", [&srv](eng::exchange& ex) {
        std::string_view body = ex.request().body;
        if (body.empty()) return ex.respond(400, "text/plain", "empty body: nothing to publish\n");
        if (body.size() > 64 * 1024)
            return ex.respond(413, "text/plain", "message too large: at most 65536 bytes\n");
        // One copy of the bytes for all shards; each shard frames it once.
        srv.post_bytes(srv.all_shards(), eng::shared_bytes::copy_of(body), &on_publish, nullptr);
        ex.respond(202, "text/plain", "published\n");
    });
    srv.route(eng::method_set::of({method::get}), "/stats", [&srv](eng::exchange& ex) {
        auto s = srv.stats();
        std::string j = "{\"open_connections\":" + std::to_string(s.open_connections) +
                        ",\"open_streams\":" + std::to_string(s.open_streams) +
                        ",\"accepted\":" + std::to_string(s.accepted) +
                        ",\"requests\":" + std::to_string(s.requests) +
                        ",\"frames_queued\":" + std::to_string(s.frames_queued) +
                        ",\"bytes_sent\":" + std::to_string(s.bytes_sent) +
                        ",\"frames_dropped\":" + std::to_string(s.frames_dropped) +
                        ",\"slow_consumer_closes\":" + std::to_string(s.slow_consumer_closes) +
                        "}\n";
        ex.respond(200, "application/json", j);
    });
}

void start_demo(eng::server& srv, const demo_options& opts) {
    if (opts.tick_ms == 0) return;
    for (unsigned i = 0; i < srv.shard_count(); ++i) {
        srv.run_on(i, [](eng::shard& s) {
            auto& st = *g_streams[s.index()];
            st.tick.set_callback(&on_tick);
            s.timers().arm(st.tick, s.now_ms() + st.tick_ms);
        });
    }
}

void stop_demo(eng::server& srv) {
    std::atomic<unsigned> done{0};
    for (unsigned i = 0; i < srv.shard_count(); ++i) {
        srv.run_on(i, [&done](eng::shard& s) {
            s.timers().cancel(g_streams[s.index()]->tick);
            done.fetch_add(1);
            done.notify_all();
        });
    }
    for (unsigned seen = done.load(); seen < srv.shard_count(); seen = done.load())
        done.wait(seen);
}

}  // namespace ssepushd
