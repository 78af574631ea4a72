#pragma once
// The engine's entry point: a set of shards serving HTTP/1.1 on one port.
//
//   engine::server srv(opts);                   // validates, binds (throws on error)
//   srv.route(method_set::of({proto::method::get}), "/stream", on_stream);
//   srv.start();                                // shards running, accepting
//   ...
//   srv.stop();                                 // graceful: stop accepting, flush, close, join
//
// Each shard has its own SO_REUSEPORT listener, so the kernel spreads
// connections across shards and a connection never changes shard.
//
// Threading: construct, route, start and stop from one controlling thread.
// `run_on()` and `post()` may be called from any thread, including shards.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ssepush/engine/http.h"
#include "ssepush/engine/message.h"
#include "ssepush/engine/options.h"
#include "ssepush/engine/shard.h"
#include "ssepush/engine/stats.h"

namespace ssepush::engine {

namespace detail {
class router;
struct shard_mesh;
}  // namespace detail

class server {
public:
    explicit server(server_options opts);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Routes, registered before start(). Exact path match; prefix routes match
    // any path that starts with `prefix`. The longest match wins; a path that
    // matches with another method answers 405.
    void route(method_set methods, std::string path, handler h);
    void route_prefix(method_set methods, std::string prefix, handler h);
    // Called when no route matches (default: 404).
    void fallback(handler h);

    // Per-shard hooks, registered before start() (std::logic_error after).
    // on_shard_start: every shard runs each fn, in registration order, on its
    // own thread after its ring is set up and before its first loop turn (so a
    // component can open its links there: shard::open_link); start() returns
    // once every shard has run them. on_shard_stop: each shard runs them on its
    // own thread when it begins stopping, before it closes its remaining links
    // (so an owner can close its links and release what it holds). A hook that
    // throws is reported on stderr; the others still run.
    void on_shard_start(std::function<void(shard&)> fn);
    void on_shard_stop(std::function<void(shard&)> fn);

    // Starts every shard; returns once all of them accept connections.
    void start();
    // Graceful stop: stop accepting, end streams after flushing what is queued
    // (bounded by drain_timeout_ms), close, join. Idempotent.
    void stop();
    // Ask for stop() from any thread (e.g. a signal-handling thread); wait() returns.
    void request_stop() noexcept;
    // Blocks until request_stop() or stop().
    void wait();

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] unsigned shard_count() const noexcept { return unsigned(shards_.size()); }
    [[nodiscard]] const server_options& options() const noexcept { return opts_; }
    // Only for use on that shard's own thread (or before start / after stop).
    [[nodiscard]] shard& shard_at(unsigned i) noexcept { return *shards_[i]; }

    // Runs f(shard&) on shard `target` from any thread.
    template <class Fn>
    void run_on(unsigned target, Fn&& fn) {
        post(target, detail::make_task_message(std::forward<Fn>(fn)));
    }
    // Posts a raw message to `target` (no allocation from a shard thread; one
    // node allocation from a foreign thread).
    void post(unsigned target, const shard_message& m) noexcept;
    // Posts the same message to every shard in `targets`.
    void post_each(shard_mask targets, const shard_message& m) noexcept;

    // Hands the same bytes to every shard in `targets`: each of them runs
    // fn(shard, bytes, ctx) once, on its own thread, and typically builds one
    // frame from the bytes and sends it to its own streams. Takes the caller's
    // reference to `bytes` plus one per further target (one atomic add, never
    // one per recipient) and releases each after its fn returns. Any thread.
    using bytes_fn = void (*)(shard& s, std::string_view bytes, void* ctx) noexcept;
    void post_bytes(shard_mask targets, shared_bytes* bytes, bytes_fn fn, void* ctx) noexcept;

    // The mask naming every shard.
    [[nodiscard]] shard_mask all_shards() const noexcept {
        return opts_.shards >= 64 ? ~shard_mask(0) : (shard_mask(1) << opts_.shards) - 1;
    }

    // Sum of all shards' counters.
    [[nodiscard]] stats_snapshot stats() const noexcept;

private:
    friend class shard;

    server_options opts_;
    std::unique_ptr<detail::router> routes_;
    std::unique_ptr<detail::shard_mesh> mesh_;
    std::vector<std::unique_ptr<shard>> shards_;
    std::vector<int> listen_fds_;
    std::vector<std::function<void(shard&)>> start_hooks_;
    std::vector<std::function<void(shard&)>> stop_hooks_;
    std::uint16_t port_ = 0;
    bool started_ = false;
    bool stopped_ = false;
    std::atomic<bool> stop_requested_{false};
};

}  // namespace ssepush::engine
