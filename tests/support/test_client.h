#pragma once
// A blocking loopback client for integration tests. Every read has a deadline,
// so a test that goes wrong fails instead of hanging.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ssepush::testing {

using ms = std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

class test_client {
public:
    explicit test_client(std::uint16_t port, const char* src_ip = nullptr, int rcvbuf = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
        if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        if (src_ip) {
            int one = 1;
            ::setsockopt(fd_, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
            sockaddr_in src{};
            src.sin_family = AF_INET;
            inet_pton(AF_INET, src_ip, &src.sin_addr);
            if (::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) < 0)
                throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
        }
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
            throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ~test_client() {
        if (fd_ >= 0) ::close(fd_);
    }
    test_client(const test_client&) = delete;
    test_client& operator=(const test_client&) = delete;
    test_client(test_client&& o) noexcept : fd_(o.fd_), buf_(std::move(o.buf_)), eof_(o.eof_) {
        o.fd_ = -1;
    }

    int fd() const { return fd_; }
    bool eof() const { return eof_; }
    std::string& buffered() { return buf_; }

    void send(std::string_view s) {
        while (!s.empty()) {
            ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw std::runtime_error(std::string("send: ") + std::strerror(errno));
            }
            s.remove_prefix(std::size_t(n));
        }
    }

    // Reads what is available within `timeout` into the buffer. False on timeout;
    // sets eof() when the peer closed (or reset).
    bool read_some(ms timeout) {
        pollfd p{fd_, POLLIN, 0};
        int r = ::poll(&p, 1, int(timeout.count()));
        if (r <= 0) return false;
        char tmp[65536];
        ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
        if (n <= 0) {
            eof_ = true;
            return n == 0;
        }
        buf_.append(tmp, std::size_t(n));
        return true;
    }

    // Reads until `needle` is in the buffer (returns its end offset) or the deadline.
    std::optional<std::size_t> read_until(std::string_view needle, ms timeout = ms(5000)) {
        auto deadline = clock_type::now() + timeout;
        for (;;) {
            std::size_t at = buf_.find(needle);
            if (at != std::string::npos) return at + needle.size();
            if (eof_) return std::nullopt;
            auto left = std::chrono::duration_cast<ms>(deadline - clock_type::now());
            if (left.count() <= 0) return std::nullopt;
            read_some(left);
        }
    }

    // Reads until at least `n` bytes are buffered.
    bool read_at_least(std::size_t n, ms timeout = ms(5000)) {
        auto deadline = clock_type::now() + timeout;
        while (buf_.size() < n) {
            if (eof_) return false;
            auto left = std::chrono::duration_cast<ms>(deadline - clock_type::now());
            if (left.count() <= 0) return false;
            read_some(left);
        }
        return true;
    }

    // True when the server closes the connection within `timeout` (data read
    // meanwhile stays in the buffer).
    bool wait_closed(ms timeout = ms(5000)) {
        auto deadline = clock_type::now() + timeout;
        while (!eof_) {
            auto left = std::chrono::duration_cast<ms>(deadline - clock_type::now());
            if (left.count() <= 0) return false;
            read_some(left);
        }
        return true;
    }

    struct response {
        int status = 0;
        std::string head;
        std::map<std::string, std::string> headers;  // lower-case names
        std::string body;
    };

    // Reads one Content-Length (or close-delimited) HTTP response off the buffer.
    std::optional<response> read_response(ms timeout = ms(5000)) {
        auto end = read_until("\r\n\r\n", timeout);
        if (!end) return std::nullopt;
        response r;
        r.head = buf_.substr(0, *end);
        std::string_view head = r.head;
        if (head.size() < 12 || head.substr(0, 9) != "HTTP/1.1 ") return std::nullopt;
        r.status = std::atoi(std::string(head.substr(9, 3)).c_str());
        std::size_t pos = head.find("\r\n") + 2;
        while (pos < head.size() - 2) {
            std::size_t eol = head.find("\r\n", pos);
            std::string_view line = head.substr(pos, eol - pos);
            std::size_t colon = line.find(':');
            std::string name(line.substr(0, colon));
            for (char& ch : name)
                ch = char(std::tolower(static_cast<unsigned char>(ch)));
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ')
                value.remove_prefix(1);
            r.headers[name] = std::string(value);
            pos = eol + 2;
        }
        buf_.erase(0, *end);
        if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
            std::size_t len = std::strtoull(it->second.c_str(), nullptr, 10);
            if (!read_at_least(len, timeout)) return std::nullopt;
            r.body = buf_.substr(0, len);
            buf_.erase(0, len);
        }
        return r;
    }

private:
    int fd_ = -1;
    std::string buf_;
    bool eof_ = false;
};

// Decodes a chunked body incrementally and splits it into SSE events.
class sse_reader {
public:
    struct event {
        std::string id;
        std::string data;  // data lines joined with '\n'
        std::string comment;
    };

    // Feeds bytes of the response body (after the head).
    void feed(std::string_view bytes, bool chunked) {
        if (!chunked) {
            text_.append(bytes);
        } else {
            raw_.append(bytes);
            for (;;) {
                if (chunk_left_ == 0) {
                    std::size_t eol = raw_.find("\r\n");
                    if (eol == std::string::npos) break;
                    chunk_left_ = std::strtoull(raw_.substr(0, eol).c_str(), nullptr, 16) + 2;
                    if (chunk_left_ == 2) {
                        ended_ = true;
                        raw_.erase(0, eol + 2);
                        break;
                    }
                    raw_.erase(0, eol + 2);
                }
                std::size_t take = std::min<std::size_t>(chunk_left_, raw_.size());
                std::size_t data_part = chunk_left_ > 2 ? std::min(take, chunk_left_ - 2) : 0;
                text_.append(raw_, 0, data_part);
                raw_.erase(0, take);
                chunk_left_ -= take;
                if (chunk_left_ > 0) break;
            }
        }
        parse_events();
    }
    std::vector<event>& events() { return events_; }
    bool ended() const { return ended_; }

private:
    void parse_events() {
        for (;;) {
            std::size_t end = text_.find("\n\n");
            if (end == std::string::npos) return;
            std::string block = text_.substr(0, end + 1);
            text_.erase(0, end + 2);
            event ev;
            std::size_t pos = 0;
            while (pos < block.size()) {
                std::size_t eol = block.find('\n', pos);
                std::string line = block.substr(pos, eol - pos);
                pos = eol + 1;
                if (line.rfind("id: ", 0) == 0)
                    ev.id = line.substr(4);
                else if (line.rfind("data: ", 0) == 0) {
                    if (!ev.data.empty()) ev.data += '\n';
                    ev.data += line.substr(6);
                } else if (line.rfind(":", 0) == 0)
                    ev.comment = line.substr(1);
            }
            events_.push_back(std::move(ev));
        }
    }

    std::string raw_, text_;
    std::size_t chunk_left_ = 0;
    bool ended_ = false;
    std::vector<event> events_;
};

}  // namespace ssepush::testing
