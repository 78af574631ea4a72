// HTTP/1.1 over real loopback sockets against an engine server on port 0.
#include <gtest/gtest.h>

#include <thread>

#include "support/test_client.h"
#include "support/test_server.h"

using namespace ssepush::testing;
using namespace std::chrono_literals;

namespace {

class http : public ::testing::Test {
protected:
    void SetUp() override { srv.start(); }
    test_server srv;
};

TEST_F(http, keep_alive_serves_several_requests_on_one_connection) {
    test_client c(srv.port());
    for (int i = 0; i < 3; ++i) {
        c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        auto r = c.read_response();
        ASSERT_TRUE(r) << "request " << i;
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, "hello\n");
        EXPECT_EQ(r->headers.count("connection"), 0u);
        EXPECT_EQ(r->headers["content-length"], "6");
        EXPECT_FALSE(r->headers["date"].empty());
    }
    EXPECT_FALSE(c.eof());
}

TEST_F(http, connection_close_is_honoured) {
    test_client c(srv.port());
    c.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->headers["connection"], "close");
    EXPECT_TRUE(c.wait_closed());
}

TEST_F(http, http10_closes_unless_keep_alive_is_asked) {
    {
        test_client c(srv.port());
        c.send("GET /hello HTTP/1.0\r\n\r\n");
        auto r = c.read_response();
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200);
        EXPECT_TRUE(c.wait_closed());
    }
    {
        test_client c(srv.port());
        c.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        auto r = c.read_response();
        ASSERT_TRUE(r);
        EXPECT_EQ(r->headers["connection"], "keep-alive");
        c.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        EXPECT_TRUE(c.read_response());
        EXPECT_FALSE(c.eof());
    }
}

TEST_F(http, pipelined_requests_are_answered_in_order) {
    test_client c(srv.port());
    c.send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none"
        "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nthree");
    auto a = c.read_response();
    auto b = c.read_response();
    auto d = c.read_response();
    ASSERT_TRUE(a && b && d);
    EXPECT_EQ(a->body, "one");
    EXPECT_EQ(b->body, "hello\n");
    EXPECT_EQ(d->body, "three");
}

TEST_F(http, pipelined_requests_behind_a_deferred_answer_wait_their_turn) {
    test_client c(srv.port());
    c.send("GET /defer?first HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    auto a = c.read_response();
    auto b = c.read_response();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->body, "deferred first\n");
    EXPECT_EQ(b->body, "hello\n");
}

TEST_F(http, a_second_deferred_answer_in_a_pipeline_keeps_the_requests_behind_it) {
    // The second /defer is parsed from the held input after the first answer,
    // and defers again: the third request must still be there afterwards.
    test_client c(srv.port());
    c.send(
        "GET /defer?one HTTP/1.1\r\nHost: x\r\n\r\nGET /defer?two HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /defer?four HTTP/1.1\r\nHost: x\r\n\r\n");
    std::vector<std::string> bodies;
    for (int i = 0; i < 4; ++i) {
        auto r = c.read_response();
        ASSERT_TRUE(r) << "response " << i;
        bodies.push_back(r->body);
    }
    EXPECT_EQ(bodies, (std::vector<std::string>{"deferred one\n", "deferred two\n", "hello\n",
                                                "deferred four\n"}));
    EXPECT_FALSE(c.eof());
}

TEST(http_deferred, answering_another_connection_from_a_handler_keeps_both_requests_intact) {
    auto o = test_server::default_options();
    o.shards = 1;  // both connections on the shard whose handler answers
    test_server srv(o);
    srv.start();
    test_client parked(srv.port());
    // A deferred request with a pipelined one behind it.
    parked.send("GET /park HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    test_client releaser(srv.port());
    // /park must have been handled before /release runs (bounded wait).
    auto deadline = clock_type::now() + 5s;
    while (!srv.parked_on(0) && clock_type::now() < deadline)
        std::this_thread::sleep_for(1ms);
    ASSERT_TRUE(srv.parked_on(0));
    releaser.send("POST /release HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nmine");
    auto r = releaser.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "/release mine") << "the releasing handler still sees its own request";
    auto a = parked.read_response();
    auto b = parked.read_response();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->body, "released\n");
    EXPECT_EQ(b->body, "hello\n");
}

TEST_F(http, request_split_into_single_bytes_is_parsed) {
    test_client c(srv.port());
    std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd";
    for (char ch : req)
        c.send(std::string_view(&ch, 1));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "abcd");
}

TEST_F(http, large_body_spanning_many_receive_buffers) {
    test_client c(srv.port());
    std::string body(200'000, 'z');
    for (std::size_t i = 0; i < body.size(); i += 7)
        body[i] = char('a' + i % 26);
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body);
    auto r = c.read_response(10s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, body);
}

TEST_F(http, expect_100_continue_gets_an_interim_response_before_the_body) {
    test_client c(srv.port());
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    ASSERT_TRUE(c.read_until("HTTP/1.1 100 Continue\r\n\r\n"));
    c.buffered().clear();
    c.send("hello");
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello");
}

TEST_F(http, body_trickled_a_byte_at_a_time_is_reassembled) {
    test_client c(srv.port());
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 64\r\n\r\n");
    std::string body;
    for (int i = 0; i < 64; ++i)
        body.push_back(char('A' + i % 26));
    for (char ch : body)
        c.send(std::string_view(&ch, 1));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, body);
}

TEST_F(http, unknown_path_is_404_and_wrong_method_is_405_with_allow) {
    test_client c(srv.port());
    c.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    c.send("DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 405);
    EXPECT_EQ(r->headers["allow"], "GET");
    EXPECT_FALSE(c.eof());
}

TEST_F(http, head_gets_the_get_headers_without_body) {
    test_client c(srv.port());
    c.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    auto end = c.read_until("\r\n\r\n");
    ASSERT_TRUE(end);
    std::string head = c.buffered().substr(0, *end);
    EXPECT_NE(head.find("Content-Length: 6"), std::string::npos);
    c.buffered().erase(0, *end);
    auto r = c.read_response();  // the GET right behind: the HEAD had no body
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "hello\n");
}

TEST_F(http, a_throwing_or_silent_handler_answers_500) {
    test_client c(srv.port());
    c.send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500);
    c.send("GET /silent HTTP/1.1\r\nHost: x\r\n\r\n");
    r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500);
}

TEST_F(http, peer_address_is_the_client_source_address) {
    test_client c(srv.port(), "127.0.0.9");
    c.send("GET /peer HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "127.0.0.9");
}

struct bad_case {
    const char* name;
    std::string request;
    int status;
};

class bad_input : public http, public ::testing::WithParamInterface<bad_case> {};

TEST_P(bad_input, gets_a_clear_status_then_close_and_others_are_unaffected) {
    test_client bystander(srv.port());
    bystander.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(bystander.read_until("\r\n\r\n"));

    test_client c(srv.port());
    c.send(GetParam().request);
    auto r = c.read_response();
    ASSERT_TRUE(r) << GetParam().name;
    EXPECT_EQ(r->status, GetParam().status) << GetParam().name << ": " << r->body;
    EXPECT_EQ(r->headers["connection"], "close");
    EXPECT_FALSE(r->body.empty());
    EXPECT_TRUE(c.wait_closed());

    // The server is fine and the other connection still gets its frames.
    EXPECT_EQ(srv.broadcast("after"), 1u);
    EXPECT_TRUE(bystander.read_until("data: after\n\n"));
    test_client d(srv.port());
    d.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    auto ok = d.read_response();
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
}

INSTANTIATE_TEST_SUITE_P(
    cases, bad_input,
    ::testing::Values(
        bad_case{"garbage", "\x01\x02 hello\r\n\r\n", 400},
        bad_case{"no_host", "GET /hello HTTP/1.1\r\n\r\n", 400},
        bad_case{"bad_length", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: x1\r\n\r\n", 400},
        bad_case{"chunked_body",
                 "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
        bad_case{"te_and_cl",
                 "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                 "Content-Length: 3\r\n\r\nabc",
                 400},
        bad_case{"unknown_method", "BREW /hello HTTP/1.1\r\nHost: x\r\n\r\n", 501},
        bad_case{"http2_version", "GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", 505},
        bad_case{"body_too_large",
                 "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n", 413},
        bad_case{"header_too_large",
                 "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n",
                 431},
        bad_case{"request_line_too_long",
                 "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 431}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
