// Long-lived streams over real loopback sockets: ordering, fan-out across
// shards, slow consumers, deadlines and graceful stop.
#include <gtest/gtest.h>

#include <thread>

#include "support/test_client.h"
#include "support/test_server.h"

using namespace ssepush::testing;
using namespace std::chrono_literals;
namespace eng = ssepush::engine;

namespace {

// Opens /stream on `c` and strips the response head; returns it.
std::string open_stream(test_client& c, const char* version = "HTTP/1.1") {
    c.send(std::string("GET /stream ") + version + "\r\nHost: x\r\n\r\n");
    auto end = c.read_until("\r\n\r\n");
    if (!end) return {};
    std::string head = c.buffered().substr(0, *end);
    c.buffered().erase(0, *end);
    return head;
}

// Reads SSE events until `want` arrived (or the deadline).
std::vector<sse_reader::event> read_events(test_client& c, sse_reader& r, std::size_t want,
                                           ms timeout = ms(10000), bool chunked = true) {
    auto deadline = clock_type::now() + timeout;
    while (r.events().size() < want && clock_type::now() < deadline && !c.eof()) {
        if (!c.buffered().empty()) {
            r.feed(c.buffered(), chunked);
            c.buffered().clear();
            continue;
        }
        c.read_some(std::chrono::duration_cast<ms>(deadline - clock_type::now()));
        r.feed(c.buffered(), chunked);
        c.buffered().clear();
    }
    return r.events();
}

std::uint64_t id_of(const sse_reader::event& e) {
    return std::stoull(e.id);
}

TEST(stream, head_is_chunked_event_stream) {
    test_server srv;
    srv.start();
    test_client c(srv.port());
    std::string head = open_stream(c);
    EXPECT_NE(head.find("HTTP/1.1 200 OK\r\n"), std::string::npos);
    EXPECT_NE(head.find("Content-Type: text/event-stream\r\n"), std::string::npos);
    EXPECT_NE(head.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
    EXPECT_NE(head.find("Cache-Control: no-cache\r\n"), std::string::npos);
    EXPECT_EQ(head.find("Content-Length"), std::string::npos);
}

TEST(stream, http10_stream_is_close_delimited) {
    test_server srv;
    srv.start();
    test_client c(srv.port());
    std::string head = open_stream(c, "HTTP/1.0");
    EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos);
    EXPECT_EQ(head.find("Transfer-Encoding"), std::string::npos);
    ASSERT_EQ(srv.broadcast("plain"), 1u);
    sse_reader r;
    auto evs = read_events(c, r, 1, ms(5000), false);
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].data, "plain");
}

TEST(stream, ten_thousand_frames_arrive_in_order) {
    test_server srv;
    srv.start();
    test_client c(srv.port());
    open_stream(c);
    ASSERT_EQ(srv.streams_total(), 1u);
    constexpr int k_frames = 10'000;
    // Publish in batches from the stream's shard, as an application would.
    for (int batch = 0; batch < 100; ++batch) {
        for (unsigned i = 0; i < srv.srv().shard_count(); ++i) {
            srv.on_shard(i, [&, batch](eng::shard& s) {
                for (auto st : srv.streams_of(s.index())) {
                    for (int k = 0; k < 100; ++k) {
                        ssepush::proto::sse_event ev;
                        ev.has_id = true;
                        ev.id = s.next_event_id();
                        std::string data = "n=" + std::to_string(batch * 100 + k);
                        ev.data = data;
                        eng::frame_ptr f(eng::frame::sse(ev));
                        EXPECT_TRUE(s.send(st, f.get()));
                    }
                }
            });
        }
    }
    sse_reader r;
    auto evs = read_events(c, r, k_frames, ms(30000));
    ASSERT_EQ(evs.size(), std::size_t(k_frames));
    std::uint64_t prev = 0;
    for (int i = 0; i < k_frames; ++i) {
        ASSERT_EQ(evs[i].data, "n=" + std::to_string(i));
        ASSERT_GT(id_of(evs[i]), prev) << "ids strictly increase";
        prev = id_of(evs[i]);
    }
}

TEST(stream, two_thousand_streams_spread_over_shards_all_receive) {
    test_server srv;
    srv.start();
    std::vector<test_client> clients;
    clients.reserve(2000);
    for (int i = 0; i < 2000; ++i) {
        clients.emplace_back(srv.port());
        clients.back().send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    for (auto& c : clients) {
        ASSERT_TRUE(c.read_until("\r\n\r\n"));
        c.buffered().clear();
    }
    ASSERT_EQ(srv.streams_total(), 2000u);
    EXPECT_GT(srv.streams_on(0), 0u) << "SO_REUSEPORT spreads streams over shards";
    EXPECT_GT(srv.streams_on(1), 0u);
    EXPECT_EQ(srv.broadcast("to-all"), 2000u);
    for (auto& c : clients)
        ASSERT_TRUE(c.read_until("data: to-all\n\n"));
    EXPECT_EQ(srv.srv().stats().open_streams, 2000u);
}

TEST(stream, bytes_posted_from_any_thread_reach_every_stream_on_every_shard) {
    test_server srv;
    srv.start();
    std::vector<test_client> clients;
    for (int i = 0; i < 64; ++i) {
        clients.emplace_back(srv.port());
        open_stream(clients.back());
    }
    ASSERT_EQ(srv.streams_total(), 64u);
    ASSERT_GT(srv.streams_on(0), 0u);
    ASSERT_GT(srv.streams_on(1), 0u);
    std::thread t([&] { srv.broadcast_bytes("from a foreign thread"); });
    t.join();
    srv.on_shard(0, [&](eng::shard&) { srv.broadcast_bytes("from shard 0"); });
    for (auto& c : clients) {
        ASSERT_TRUE(c.read_until("data: from a foreign thread\n\n"));
        ASSERT_TRUE(c.read_until("data: from shard 0\n\n"));
    }
}

eng::server_options small_queue(eng::slow_consumer_policy p) {
    auto o = test_server::default_options();
    o.max_queue_bytes = 64 * 1024;
    o.slow_consumer = p;
    o.socket_send_buffer = 8192;  // so a stalled reader stalls the sender quickly
    return o;
}

// A client that never reads, with a tiny receive buffer so the kernel stops
// taking bytes early.
test_client stalled_client(std::uint16_t port) {
    return test_client(port, nullptr, 4096);
}

TEST(slow_consumer, disconnect_policy_cuts_only_the_stalled_stream) {
    test_server srv(small_queue(eng::slow_consumer_policy::disconnect));
    srv.start();
    test_client stalled = stalled_client(srv.port());
    open_stream(stalled);
    std::vector<test_client> readers;
    for (int i = 0; i < 4; ++i) {
        readers.emplace_back(srv.port());
        open_stream(readers.back());
    }
    ASSERT_EQ(srv.streams_total(), 5u);
    const std::string payload(1000, 'p');
    constexpr int k_frames = 2000;  // 2 MB per stream: far past the 64 KiB limit
    std::vector<sse_reader> rs(readers.size());
    for (int i = 0; i < k_frames; ++i) {
        srv.broadcast(payload + std::to_string(i));
        // Readers drain as we go, so only the stalled stream can fall behind.
        for (std::size_t k = 0; k < readers.size(); ++k) {
            while (readers[k].read_some(0ms)) {
            }
            rs[k].feed(readers[k].buffered(), true);
            readers[k].buffered().clear();
        }
        // The stalled stream's queue never holds more than the limit.
        for (unsigned s = 0; s < srv.srv().shard_count(); ++s) {
            std::size_t worst = srv.on_shard(s, [&](eng::shard& sh) {
                std::size_t w = 0;
                for (auto st : srv.streams_of(sh.index()))
                    w = std::max(w, sh.queued_bytes(st));
                return w;
            });
            ASSERT_LE(worst, 64u * 1024u);
        }
    }
    for (std::size_t k = 0; k < readers.size(); ++k) {
        auto evs = read_events(readers[k], rs[k], k_frames, ms(20000));
        ASSERT_EQ(evs.size(), std::size_t(k_frames)) << "reader " << k;
        EXPECT_EQ(evs.back().data, payload + std::to_string(k_frames - 1));
    }
    EXPECT_EQ(srv.srv().stats().slow_consumer_closes, 1u);
    EXPECT_EQ(srv.streams_total(), 4u);
    EXPECT_EQ(srv.last_close_reason.load(), int(eng::close_reason::slow_consumer));
    EXPECT_TRUE(stalled.wait_closed(ms(10000)));
}

TEST(slow_consumer, drop_oldest_keeps_the_stream_with_a_gap_marker_and_bounded_memory) {
    test_server srv(small_queue(eng::slow_consumer_policy::drop_oldest));
    srv.start();
    test_client stalled = stalled_client(srv.port());
    open_stream(stalled);
    ASSERT_EQ(srv.streams_total(), 1u);
    const std::string payload(1000, 'q');
    constexpr int k_frames = 1000;
    for (int i = 0; i < k_frames; ++i) {
        srv.broadcast(payload + std::to_string(i));
        std::size_t q = srv.on_shard(0, [&](eng::shard& sh) {
            std::size_t w = 0;
            for (auto st : srv.streams_of(sh.index()))
                w = std::max(w, sh.queued_bytes(st));
            return w;
        }) + srv.on_shard(1, [&](eng::shard& sh) {
            std::size_t w = 0;
            for (auto st : srv.streams_of(sh.index()))
                w = std::max(w, sh.queued_bytes(st));
            return w;
        });
        ASSERT_LE(q, 64u * 1024u);
    }
    auto st = srv.srv().stats();
    EXPECT_GT(st.frames_dropped, 0u);
    EXPECT_EQ(st.slow_consumer_closes, 0u);
    EXPECT_EQ(srv.streams_total(), 1u);
    // Now it reads: what it gets is in order, has a gap marker, and ends with the newest.
    sse_reader r;
    auto deadline = clock_type::now() + 10s;
    while (clock_type::now() < deadline) {
        stalled.read_some(200ms);
        r.feed(stalled.buffered(), true);
        stalled.buffered().clear();
        if (!r.events().empty() && r.events().back().data == payload + std::to_string(k_frames - 1))
            break;
    }
    auto& evs = r.events();
    ASSERT_FALSE(evs.empty());
    EXPECT_EQ(evs.back().data, payload + std::to_string(k_frames - 1));
    bool saw_gap = false;
    std::uint64_t prev = 0;
    for (auto& e : evs) {
        if (e.comment == " gap") {
            saw_gap = true;
            continue;
        }
        ASSERT_GT(id_of(e), prev);
        prev = id_of(e);
    }
    EXPECT_TRUE(saw_gap);
    EXPECT_LT(evs.size(), std::size_t(k_frames));
}

// The deadline tests run on a manual clock: the sockets are real, time moves
// only when the test says so.

TEST(deadlines, write_stall_closes_a_stream_whose_queued_bytes_do_not_move) {
    auto o = small_queue(eng::slow_consumer_policy::drop_oldest);
    o.write_stall_timeout_ms = 1000;
    test_server srv(o, true);
    srv.start();
    test_client c = stalled_client(srv.port());
    open_stream(c);
    // t=0: a frame goes out and is read: the stall timer is armed, the queue drains.
    ASSERT_EQ(srv.broadcast("first"), 1u);
    ASSERT_TRUE(c.read_until("data: first\n\n"));
    // t=800: the client stops reading and a burst fills every buffer on the way.
    srv.advance(800);
    const std::string payload(4000, 'w');
    for (int i = 0; i < 200; ++i)
        srv.broadcast(payload);
    // t=1100: the timer (armed at t=0) fires, but bytes have waited only 300 ms.
    srv.advance(300);
    EXPECT_EQ(srv.srv().stats().write_stall_closes, 0u);
    EXPECT_EQ(srv.streams_total(), 1u);
    // t=1850: 1050 ms without progress: cut.
    srv.advance(750);
    EXPECT_EQ(srv.srv().stats().write_stall_closes, 1u);
    EXPECT_EQ(srv.last_close_reason.load(), int(eng::close_reason::write_stall));
    EXPECT_EQ(srv.streams_total(), 0u);
}

TEST(deadlines, a_stream_that_keeps_reading_is_never_cut_for_stalling) {
    auto o = test_server::default_options();
    o.write_stall_timeout_ms = 1000;
    test_server srv(o, true);
    srv.start();
    test_client c(srv.port());
    open_stream(c);
    sse_reader r;
    for (int i = 0; i < 20; ++i) {
        srv.broadcast("tick " + std::to_string(i));
        read_events(c, r, std::size_t(i + 1));
        srv.advance(400);  // 8 s in all, 20 stall periods' worth of timer firings
    }
    EXPECT_EQ(r.events().size(), 20u);
    EXPECT_EQ(srv.srv().stats().write_stall_closes, 0u);
    EXPECT_EQ(srv.streams_total(), 1u);
}

TEST(deadlines, header_deadline_cuts_a_request_that_dribbles_in_virtual_time) {
    auto o = test_server::default_options();
    o.header_timeout_ms = 10'000;
    test_server srv(o, true);
    srv.start();
    test_client c(srv.port());
    // The accept is handled at t=0, so the deadline runs from here. (The
    // kernel may queue the connection a little after connect() returns: wait
    // for it, bounded; virtual time does not move meanwhile.)
    auto until = clock_type::now() + 5s;
    while (srv.srv().stats().accepted == 0 && clock_type::now() < until)
        srv.advance(0);
    ASSERT_EQ(srv.srv().stats().accepted, 1u);
    const std::string endless = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
    std::size_t sent = 0;
    // One byte per (virtual) second; the server answers 408 once 10 s have passed.
    while (sent < endless.size()) {
        c.send(endless.substr(sent++, 1));
        srv.advance(1000);
        if (c.read_some(0ms) || c.eof()) break;
    }
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 408);
    EXPECT_TRUE(c.wait_closed());
    EXPECT_EQ(sent, 10u) << "cut at the 10th second, not before";
    EXPECT_EQ(srv.srv().stats().header_timeouts, 1u);
}

TEST(deadlines, slowloris_sending_one_header_byte_per_second_is_cut_at_the_deadline) {
    auto o = test_server::default_options();
    o.header_timeout_ms = 3000;
    test_server srv(o);
    srv.start();
    test_client c(srv.port());
    const std::string endless = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaa";
    auto start = clock_type::now();
    std::size_t i = 0;
    while (!c.eof() && i < endless.size()) {
        c.send(endless.substr(i++, 1));
        c.read_some(1000ms);  // one byte per second; returns early if the server answers
        if (c.buffered().find("\r\n\r\n") != std::string::npos) break;
    }
    auto r = c.read_response();
    auto elapsed = std::chrono::duration_cast<ms>(clock_type::now() - start);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 408);
    EXPECT_TRUE(c.wait_closed());
    EXPECT_GE(elapsed.count(), 3000 - 50);
    EXPECT_LT(elapsed.count(), 3000 + 2500);
    EXPECT_LT(i, endless.size()) << "cut before the client finished";
    EXPECT_EQ(srv.srv().stats().header_timeouts, 1u);
}

TEST(deadlines, idle_keep_alive_connection_is_closed) {
    auto o = test_server::default_options();
    o.keepalive_timeout_ms = 5000;
    test_server srv(o, true);
    srv.start();
    test_client c(srv.port());
    c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(c.read_response());
    srv.advance(4900);
    EXPECT_FALSE(c.read_some(0ms)) << "still open just before the deadline";
    EXPECT_FALSE(c.eof());
    srv.advance(200);
    EXPECT_TRUE(c.wait_closed());
    EXPECT_EQ(srv.srv().stats().idle_timeouts, 1u);
}

TEST(stream, client_close_fires_the_hook_and_frees_the_stream) {
    test_server srv;
    srv.start();
    {
        test_client c(srv.port());
        open_stream(c);
        ASSERT_EQ(srv.streams_total(), 1u);
    }
    auto deadline = clock_type::now() + 5s;
    while (srv.closes.load() == 0 && clock_type::now() < deadline)
        std::this_thread::sleep_for(10ms);
    EXPECT_EQ(srv.closes.load(), 1);
    EXPECT_EQ(srv.last_close_reason.load(), int(eng::close_reason::peer_closed));
    EXPECT_EQ(srv.streams_total(), 0u);
    EXPECT_EQ(srv.srv().stats().open_connections, 0u);
}

TEST(churn, thousands_of_short_and_aborted_connections_leave_nothing_behind) {
    test_server srv;
    srv.start();
    for (int i = 0; i < 2000; ++i) {
        test_client c(srv.port());
        c.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        ASSERT_TRUE(c.read_response()) << i;
    }
    for (int i = 0; i < 1000; ++i) {
        test_client c(srv.port());
        open_stream(c);
        if (i % 2) {
            // Abort with a reset instead of a FIN.
            linger l{1, 0};
            ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
    }
    auto deadline = clock_type::now() + 10s;
    while (srv.srv().stats().open_connections != 0 && clock_type::now() < deadline)
        std::this_thread::sleep_for(10ms);
    auto st = srv.srv().stats();
    EXPECT_EQ(st.open_connections, 0u);
    EXPECT_EQ(st.open_streams, 0u);
    EXPECT_EQ(st.accepted, 3000u);
    EXPECT_EQ(st.closed, 3000u);
    EXPECT_EQ(st.queued_bytes, 0u);
    EXPECT_EQ(srv.streams_total(), 0u);
}

TEST(slow_consumer, a_client_pipelining_without_reading_is_cut_and_others_are_served) {
    test_server srv(small_queue(eng::slow_consumer_policy::drop_oldest));
    srv.start();
    test_client flood = stalled_client(srv.port());
    std::string burst;
    for (int i = 0; i < 200; ++i)
        burst += "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    // Never read: answers pile up until the connection is cut. Sends may fail
    // once the server has closed it.
    for (int i = 0; i < 200 && !flood.eof(); ++i) {
        if (::send(flood.fd(), burst.data(), burst.size(), MSG_NOSIGNAL) < 0) break;
        test_client other(srv.port());
        other.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        auto r = other.read_response();
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 200);
        if (srv.srv().stats().slow_consumer_closes) break;
    }
    EXPECT_EQ(srv.srv().stats().slow_consumer_closes, 1u)
        << "answers to a non-stream are never dropped: the connection is cut";
}

TEST(stream, graceful_stop_flushes_and_ends_every_stream) {
    auto srv = std::make_unique<test_server>();
    srv->start();
    std::vector<test_client> cs;
    for (int i = 0; i < 20; ++i) {
        cs.emplace_back(srv->port());
        open_stream(cs.back());
    }
    ASSERT_EQ(srv->streams_total(), 20u);
    srv->broadcast("last words");
    srv->srv().stop();
    for (auto& c : cs) {
        EXPECT_TRUE(c.wait_closed(5000ms));
        EXPECT_NE(c.buffered().find("data: last words\n\n"), std::string::npos);
        EXPECT_NE(c.buffered().find("\r\n0\r\n\r\n"), std::string::npos) << "last chunk sent";
    }
}

TEST(cross_shard, tasks_from_foreign_threads_and_shards_all_run_in_order) {
    test_server srv;
    srv.start();
    const unsigned n = srv.srv().shard_count();
    // Per shard: a sequence checked on that shard only.
    std::vector<std::vector<int>> seen(n);
    static constexpr int k_threads = 4, k_per_thread = 5000;
    std::vector<std::thread> ts;
    for (int t = 0; t < k_threads; ++t) {
        ts.emplace_back([&, t] {
            for (int i = 0; i < k_per_thread; ++i) {
                unsigned target = unsigned(i) % n;
                srv.srv().run_on(target, [&seen, t, i](eng::shard& s) {
                    seen[s.index()].push_back(t * k_per_thread + i);
                });
            }
        });
    }
    // And shard-to-shard: each shard sends to every shard.
    for (unsigned from = 0; from < n; ++from) {
        srv.on_shard(from, [&, from](eng::shard& s) {
            for (int i = 0; i < 3000; ++i)
                s.run_on(unsigned(i) % n, [&seen, from, i](eng::shard& d) {
                    seen[d.index()].push_back(1'000'000 + int(from) * 100'000 + i);
                });
        });
    }
    for (auto& t : ts)
        t.join();
    // A final task on each shard runs after everything sent before it by this thread.
    std::size_t total = 0;
    auto deadline = clock_type::now() + 10s;
    while (clock_type::now() < deadline) {
        total = 0;
        for (unsigned i = 0; i < n; ++i)
            total += srv.on_shard(i, [&](eng::shard& s) { return seen[s.index()].size(); });
        if (total == std::size_t(k_threads * k_per_thread + 3000 * n)) break;
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(total, std::size_t(k_threads * k_per_thread + 3000 * n));
    // FIFO per (sender, target).
    for (unsigned i = 0; i < n; ++i) {
        srv.on_shard(i, [&](eng::shard& s) {
            std::map<int, int> last;  // sender -> last value
            for (int v : seen[s.index()]) {
                int sender = v >= 1'000'000 ? 100 + (v - 1'000'000) / 100'000 : v / k_per_thread;
                auto it = last.find(sender);
                if (it != last.end()) {
                    EXPECT_LT(it->second, v);
                }
                last[sender] = v;
            }
        });
    }
}

}  // namespace
