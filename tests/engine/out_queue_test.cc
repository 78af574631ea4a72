// The per-connection out-queue and frames, without sockets.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "out_queue.h"
#include "ssepush/engine/frame.h"

namespace eng = ssepush::engine;
using eng::detail::out_queue;

namespace {

// Builds a sealed frame; the test holds one reference through frame_ptr.
eng::frame_ptr make(const std::string& s, std::uint8_t flags = 0) {
    return eng::frame_ptr(eng::frame::copy_of(s, flags));
}

std::string gather(const iovec* iov, std::uint32_t n) {
    std::string out;
    for (std::uint32_t i = 0; i < n; ++i)
        out.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
    return out;
}

TEST(frame, chunked_view_is_header_bytes_and_crlf_in_one_piece) {
    auto f = make("data: hi\n\n");
    EXPECT_EQ(f->bytes(), "data: hi\n\n");
    EXPECT_EQ(f->chunked(), "a\r\ndata: hi\n\n\r\n");
    EXPECT_EQ(f->wire(true), f->chunked());
    EXPECT_EQ(f->wire(false), f->bytes());
    auto head = make("HTTP/1.1 200 OK\r\n\r\n", eng::frame::k_raw);
    EXPECT_EQ(head->wire(true), head->bytes()) << "raw frames are never chunk-framed";
}

TEST(frame, sse_frame_is_encoded_in_place) {
    ssepush::proto::sse_event ev;
    ev.has_id = true;
    ev.id = 42;
    ev.data = "cmd.onConnect {}";
    eng::frame_ptr f(eng::frame::sse(ev));
    EXPECT_EQ(f->bytes(), "id: 42\ndata: cmd.onConnect {}\n\n");
}

TEST(frame, references_are_counted_and_shared) {
    auto f = make("x");
    EXPECT_EQ(f->ref_count(), 1u);
    {
        auto g = f.share();
        EXPECT_EQ(f->ref_count(), 2u);
    }
    f->ref_n(3);
    EXPECT_EQ(f->ref_count(), 4u);
    for (int i = 0; i < 3; ++i)
        f->unref();
    EXPECT_EQ(f->ref_count(), 1u);
}

TEST(out_queue, one_frame_uses_the_inline_slot_and_a_burst_grows_the_ring) {
    out_queue q;
    auto f = make("0123456789");
    f->ref();
    ASSERT_TRUE(q.push(f.get()));
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.bytes(), 10u);
    for (int i = 0; i < 99; ++i) {
        f->ref();
        ASSERT_TRUE(q.push(f.get()));
    }
    EXPECT_EQ(q.size(), 100u);
    EXPECT_EQ(q.bytes(), 1000u);
    EXPECT_EQ(f->ref_count(), 101u);
    q.clear();
    EXPECT_EQ(f->ref_count(), 1u);
    EXPECT_TRUE(q.empty());
}

TEST(out_queue, a_drained_burst_gives_its_ring_back) {
    out_queue q;
    auto f = make("abc");
    for (int i = 0; i < 2; ++i) {
        f->ref();
        ASSERT_TRUE(q.push(f.get()));
    }
    EXPECT_GT(q.capacity(), 1u) << "two frames waiting need the heap ring";
    iovec iov[4];
    ASSERT_EQ(q.prepare(iov, 4), 2u);
    q.complete(iov[0].iov_len + iov[1].iov_len);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.capacity(), 1u) << "an idle stream keeps only the inline slot";
    EXPECT_EQ(f->ref_count(), 1u);
}

TEST(out_queue, partial_sends_resume_mid_frame_in_order) {
    out_queue q;
    std::vector<eng::frame_ptr> fs;
    std::string all;
    for (int i = 0; i < 5; ++i) {
        fs.push_back(make("frame-" + std::to_string(i) + ";"));
        all += fs.back()->bytes();
        fs.back()->ref();
        q.push(fs.back().get());
    }
    std::string sent;
    iovec iov[3];
    // Send 7 bytes at a time through at most 3 iovecs, as a kernel might.
    while (!q.empty()) {
        std::uint32_t n = q.prepare(iov, 3);
        std::string chunk = gather(iov, n);
        std::size_t take = std::min<std::size_t>(7, chunk.size());
        sent += chunk.substr(0, take);
        q.complete(take);
    }
    EXPECT_EQ(sent, all);
    for (auto& f : fs)
        EXPECT_EQ(f->ref_count(), 1u);
}

TEST(out_queue, chunked_queue_counts_and_sends_chunk_framing) {
    out_queue q;
    q.set_chunked(true);
    auto f = make("abc");
    f->ref();
    q.push(f.get());
    EXPECT_EQ(q.bytes(), f->chunked().size());
    iovec iov[2];
    ASSERT_EQ(q.prepare(iov, 2), 1u);
    EXPECT_EQ(gather(iov, 1), "3\r\nabc\r\n");
    q.complete(iov[0].iov_len);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
}

TEST(out_queue, drop_oldest_keeps_in_flight_frames_and_puts_the_marker_where_the_gap_is) {
    out_queue q;
    auto marker = make(": gap\n\n");
    std::vector<eng::frame_ptr> fs;
    for (int i = 0; i < 10; ++i) {
        std::string text = "f";  // built stepwise: g++ 12 -Wrestrict misfires on a + b + c
        text += std::to_string(i);
        text += '\n';
        fs.push_back(make(text));
        fs.back()->ref();
        q.push(fs.back().get());
    }
    iovec iov[2];
    ASSERT_EQ(q.prepare(iov, 2), 2u);  // f0, f1 in flight
    std::uint32_t dropped = q.drop_oldest(9, marker.get());
    EXPECT_GT(dropped, 0u);
    EXPECT_LE(q.bytes(), 9u + marker->size() + 6u);
    // Finish the in-flight send, then read the rest: f0 f1, marker, newest frames.
    q.complete(iov[0].iov_len + iov[1].iov_len);
    std::string rest;
    while (!q.empty()) {
        iovec v[8];
        std::uint32_t n = q.prepare(v, 8);
        std::string chunk = gather(v, n);
        rest += chunk;
        q.complete(chunk.size());
    }
    EXPECT_EQ(rest.rfind(": gap\n\n", 0), 0u) << rest;
    EXPECT_NE(rest.find("f9\n"), std::string::npos) << "the newest frame survives";
    EXPECT_EQ(rest.find("f2\n"), std::string::npos) << "the oldest queued frame went";
    for (auto& f : fs)
        EXPECT_EQ(f->ref_count(), 1u) << "dropped frames were released";
    EXPECT_EQ(marker->ref_count(), 1u);
}

TEST(out_queue, a_partly_sent_head_is_never_dropped) {
    out_queue q;
    auto marker = make("#");
    auto a = make("AAAAAAAA");
    auto b = make("BBBBBBBB");
    a->ref();
    b->ref();
    q.push(a.get());
    q.push(b.get());
    iovec iov[1];
    ASSERT_EQ(q.prepare(iov, 1), 1u);
    q.complete(3);  // 3 bytes of A went out; nothing in flight now
    q.drop_oldest(0, marker.get());
    std::string rest;
    while (!q.empty()) {
        iovec v[4];
        std::uint32_t n = q.prepare(v, 4);
        std::string chunk = gather(v, n);
        rest += chunk;
        q.complete(chunk.size());
    }
    EXPECT_EQ(rest, "AAAAA#") << "A finishes whole, B is replaced by the marker";
}

}  // namespace
