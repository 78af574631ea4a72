#pragma once
// A real redis-server (Debian's) on a free loopback port, for tests: started
// without persistence, stopped by its PID; plus a small blocking client
// (hiredis) to look at what was stored, and redis-cli for the exact commands
// a user types.
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ssepush::testing {

// A port nothing listens on right now (bound, read, closed).
inline std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        throw std::runtime_error("free_port: bind failed");
    }
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

struct redis_reply_deleter {
    void operator()(redisReply* r) const {
        if (r) freeReplyObject(r);
    }
};
using redis_reply = std::unique_ptr<redisReply, redis_reply_deleter>;

// A blocking connection (test side only).
class redis_client {
public:
    explicit redis_client(std::uint16_t port) {
        timeval tv{5, 0};
        c_ = redisConnectWithTimeout("127.0.0.1", port, tv);
        if (!c_ || c_->err) throw std::runtime_error("redis_client: cannot connect");
        redisSetTimeout(c_, tv);
    }
    ~redis_client() {
        if (c_) redisFree(c_);
    }
    redis_client(const redis_client&) = delete;
    redis_client& operator=(const redis_client&) = delete;

    redis_reply run(const std::vector<std::string>& args) {
        std::vector<const char*> argv;
        std::vector<std::size_t> lens;
        for (const auto& a : args) {
            argv.push_back(a.data());
            lens.push_back(a.size());
        }
        return redis_reply(static_cast<redisReply*>(
            redisCommandArgv(c_, int(args.size()), argv.data(), lens.data())));
    }
    // A string reply's text, or nullopt (nil, error, gone).
    std::optional<std::string> get(const std::string& key) {
        auto r = run({"GET", key});
        if (!r || r->type != REDIS_REPLY_STRING) return std::nullopt;
        return std::string(r->str, r->len);
    }
    std::vector<std::string> members(const std::string& key) {
        std::vector<std::string> out;
        auto r = run({"SMEMBERS", key});
        if (r && r->type == REDIS_REPLY_ARRAY)
            for (std::size_t i = 0; i < r->elements; ++i)
                out.emplace_back(r->element[i]->str, r->element[i]->len);
        return out;
    }
    // A sorted-set score (Redis keeps doubles: .NET ticks lose their last digits).
    std::optional<long double> score(const std::string& key, const std::string& member) {
        auto r = run({"ZSCORE", key, member});
        if (!r || r->type != REDIS_REPLY_STRING) return std::nullopt;
        return std::stold(std::string(r->str, r->len));
    }
    // Blocks for the next pub/sub message after SUBSCRIBE (the payload).
    std::optional<std::string> next_message() {
        for (;;) {
            void* p = nullptr;
            if (redisGetReply(c_, &p) != REDIS_OK || !p) return std::nullopt;
            redis_reply r(static_cast<redisReply*>(p));
            if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
                std::string(r->element[0]->str, r->element[0]->len) == "message")
                return std::string(r->element[2]->str, r->element[2]->len);
        }
    }

private:
    redisContext* c_ = nullptr;
};

class redis_server {
public:
    redis_server() : port_(free_port()) { start(); }
    ~redis_server() { stop(); }
    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

    // Starts it (again, on the same port, empty: no persistence) and waits
    // until it answers PING.
    void start() {
        if (pid_ > 0) return;
        const std::string port = std::to_string(port_);
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("redis_server: fork failed");
        if (pid_ == 0) {
            ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1",
                     "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel",
                     "warning", "--logfile", "/dev/null", static_cast<char*>(nullptr));
            std::_Exit(127);
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            timeval tv{1, 0};
            redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
            const bool ok = c && !c->err;
            if (c) redisFree(c);
            if (ok) return;
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("redis_server: redis-server exited (is it installed?)");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        throw std::runtime_error("redis_server: redis-server did not answer within 10 s");
    }

    // Kills it (SIGKILL: as abrupt as a crash) and reaps it.
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }

    // Runs redis-cli with these arguments against this server; its stdout.
    std::string cli(const std::vector<std::string>& args) const {
        std::string cmd = "redis-cli -h 127.0.0.1 -p " + std::to_string(port_);
        for (const auto& a : args) {
            cmd += " '";
            for (char ch : a) {
                if (ch == '\'')
                    cmd += "'\\''";
                else
                    cmd.push_back(ch);
            }
            cmd += "'";
        }
        std::string out;
        if (FILE* f = ::popen(cmd.c_str(), "r")) {
            char buf[4096];
            std::size_t n;
            while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
                out.append(buf, n);
            ::pclose(f);
        }
        return out;
    }

private:
    std::uint16_t port_;
    pid_t pid_ = -1;
};

}  // namespace ssepush::testing
