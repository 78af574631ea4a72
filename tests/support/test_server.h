#pragma once
// An engine server on an ephemeral loopback port with the routes the
// integration tests use, plus helpers to run code on a shard and wait for it.
#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "ssepush/engine/clock.h"
#include "ssepush/engine/frame.h"
#include "ssepush/engine/server.h"
#include "ssepush/engine/shard.h"

namespace ssepush::testing {

namespace eng = ssepush::engine;

class test_server {
public:
    // With manual_time, every shard reads the test's clock: deadlines move only
    // when the test calls advance().
    explicit test_server(eng::server_options opts = default_options(), bool manual_time = false)
        : srv_(with_clock(opts, manual_time ? &clock_ : nullptr)) {
        registries_.resize(srv_.options().shards);
        for (auto& r : registries_)
            r = std::make_unique<registry>();
        add_routes();
    }
    ~test_server() { srv_.stop(); }

    static eng::server_options default_options() {
        eng::server_options o;
        o.address = "127.0.0.1";
        o.port = 0;
        o.shards = 2;
        o.pin_threads = false;
        return o;
    }

    // Moves the manual clock and returns once every shard has run a full loop
    // turn (timers included) at the new time.
    void advance(std::uint64_t ms) {
        clock_.advance(ms);
        for (int round = 0; round < 2; ++round)
            for (unsigned i = 0; i < srv_.shard_count(); ++i)
                on_shard(i, [](eng::shard&) {});
    }

    eng::server& srv() { return srv_; }
    std::uint16_t port() const { return srv_.port(); }
    void start() { srv_.start(); }

    // Runs fn(shard&) on shard i and returns its result (blocks the caller).
    template <class Fn>
    auto on_shard(unsigned i, Fn fn) -> decltype(fn(std::declval<eng::shard&>())) {
        using R = decltype(fn(std::declval<eng::shard&>()));
        auto p = std::make_shared<std::promise<R>>();
        auto fut = p->get_future();
        srv_.run_on(i, [p, fn = std::move(fn)](eng::shard& s) mutable {
            if constexpr (std::is_void_v<R>) {
                fn(s);
                p->set_value();
            } else {
                p->set_value(fn(s));
            }
        });
        return fut.get();
    }

    // Streams opened through /stream and still alive, per shard.
    std::size_t streams_on(unsigned i) {
        return on_shard(i,
                        [this](eng::shard& s) { return registries_[s.index()]->streams.size(); });
    }
    std::size_t streams_total() {
        std::size_t n = 0;
        for (unsigned i = 0; i < srv_.shard_count(); ++i)
            n += streams_on(i);
        return n;
    }

    // Sends one SSE event with `data` to every /stream stream; each shard builds
    // its own frame once (with its own event id) and shares it. Returns the
    // number of streams it was queued on.
    std::size_t broadcast(const std::string& data) {
        std::size_t n = 0;
        for (unsigned i = 0; i < srv_.shard_count(); ++i) {
            n += on_shard(i, [this, data](eng::shard& s) {
                auto& streams = registries_[s.index()]->streams;
                proto::sse_event ev;
                ev.has_id = true;
                ev.id = s.next_event_id();
                ev.data = data;
                eng::frame_ptr f(eng::frame::sse(ev));
                return s.send(streams.data(), streams.size(), f.get());
            });
        }
        return n;
    }

    // The same, through server::post_bytes from the calling thread (any thread):
    // the bytes cross to every shard once, each shard frames them once. Returns
    // without waiting for delivery.
    void broadcast_bytes(const std::string& data) {
        srv_.post_bytes(
            srv_.all_shards(), eng::shared_bytes::copy_of(data),
            [](eng::shard& s, std::string_view bytes, void* ctx) noexcept {
                auto& streams = static_cast<test_server*>(ctx)->registries_[s.index()]->streams;
                proto::sse_event ev;
                ev.has_id = true;
                ev.id = s.next_event_id();
                ev.data = bytes;
                eng::frame_ptr f(eng::frame::sse(ev));
                s.send(streams.data(), streams.size(), f.get());
            },
            this);
    }

    // Whether a /park request is waiting on shard i.
    bool parked_on(unsigned i) {
        return on_shard(i,
                        [this](eng::shard& s) { return registries_[s.index()]->parked.valid(); });
    }

    // The alive streams of shard i (call on that shard only).
    std::vector<eng::stream_ref>& streams_of(unsigned i) { return registries_[i]->streams; }

    std::atomic<int> closes{0};
    std::atomic<int> last_close_reason{-1};

private:
    struct registry {
        std::vector<eng::stream_ref> streams;
        eng::conn_id parked;
        test_server* owner = nullptr;
    };

    static void on_close(void* user, eng::stream_ref s, eng::close_reason why) noexcept {
        auto* r = static_cast<registry*>(user);
        auto it = std::find_if(r->streams.begin(), r->streams.end(),
                               [&](const eng::stream_ref& x) { return x.get() == s.get(); });
        if (it != r->streams.end()) {
            *it = r->streams.back();
            r->streams.pop_back();
        }
        r->owner->last_close_reason.store(int(why));
        r->owner->closes.fetch_add(1);
    }

    void add_routes() {
        using eng::method_set;
        using proto::method;
        for (auto& r : registries_)
            r->owner = this;
        srv_.route(method_set::of({method::get}), "/hello",
                   [](eng::exchange& ex) { ex.respond(200, "text/plain", "hello\n"); });
        srv_.route(method_set::of({method::post, method::put}), "/echo", [](eng::exchange& ex) {
            ex.respond(200, "application/octet-stream", ex.request().body);
        });
        srv_.route(method_set::of({method::get}), "/peer",
                   [](eng::exchange& ex) { ex.respond(200, "text/plain", ex.peer().ip()); });
        srv_.route(method_set::of({method::get}), "/throw",
                   [](eng::exchange&) { throw std::runtime_error("boom"); });
        srv_.route(method_set::of({method::get}), "/silent", [](eng::exchange&) {});
        srv_.route(method_set::of({method::get}), "/defer", [this](eng::exchange& ex) {
            ex.defer();
            eng::conn_id id = ex.connection();
            std::string q(ex.request().query);
            // Answer from a later loop turn of the same shard.
            srv_.run_on(ex.owner().index(), [id, q](eng::shard& s) {
                s.respond(id, 200, "text/plain", "deferred " + q + "\n");
            });
        });
        // /park defers and remembers its connection; /release (same shard) answers
        // it from inside its own handler, then answers itself from its request.
        srv_.route(method_set::of({method::get}), "/park", [this](eng::exchange& ex) {
            ex.defer();
            registries_[ex.owner().index()]->parked = ex.connection();
        });
        srv_.route(method_set::of({method::post}), "/release", [this](eng::exchange& ex) {
            auto& parked = registries_[ex.owner().index()]->parked;
            bool ok = ex.owner().respond(parked, 200, "text/plain", "released\n");
            parked = {};
            ex.respond(ok ? 200 : 409, "text/plain",
                       std::string(ex.request().path) + " " + std::string(ex.request().body));
        });
        static const eng::stream_hooks hooks{&test_server::on_close};
        srv_.route_prefix(method_set::of({method::get}), "/stream", [this](eng::exchange& ex) {
            eng::stream_options o;
            o.extra_headers = "Cache-Control: no-cache\r\n";
            o.hooks = &hooks;
            registry* r = registries_[ex.owner().index()].get();
            o.user = r;
            eng::stream_ref s = ex.open_stream(o);
            if (s) r->streams.push_back(s);
        });
    }

    static eng::server_options with_clock(eng::server_options o, eng::manual_clock* c) {
        if (c) {
            o.clock = [](void* ctx) noexcept {
                return static_cast<eng::manual_clock*>(ctx)->now();
            };
            o.clock_ctx = c;
        }
        return o;
    }

    eng::manual_clock clock_{1'000'000};  // before srv_: the shards read it
    eng::server srv_;
    std::vector<std::unique_ptr<registry>> registries_;
};

}  // namespace ssepush::testing
