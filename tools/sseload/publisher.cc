#include "publisher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "payload.h"
#include "ssepush/proto/http_response_parser.h"
#include "ssepush/proto/json.h"

namespace ssepush::sseload {

namespace {

class http_connection {
public:
    explicit http_connection(const endpoint& e) : ep_(e) {}
    ~http_connection() { close(); }

    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    // Writes one request (opening the connection first if needed).
    bool send(const std::string& req, std::string& error) {
        if (fd_ < 0 && !open(error)) return false;
        if (write_all(req)) return true;
        error = std::string("writing a publish request: ") + std::strerror(errno);
        close();
        return false;
    }

    // Reads the response to the oldest request in flight. Returns its status,
    // or -errno when the connection failed (it is then closed).
    int read_one(std::string& error) {
        if (fd_ < 0) {
            error = "the publish connection is closed";
            return -EPIPE;
        }
        return read_response(error);
    }

private:
    bool open(std::string& error) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) {
            error = std::string("socket: ") + std::strerror(errno);
            return false;
        }
        int one = 1;
        (void)::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        timeval tv{5, 0};
        (void)::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void)::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(ep_.port);
        inet_pton(AF_INET, ep_.host.c_str(), &a.sin_addr);
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
            error = "connect to " + ep_.host + ":" + std::to_string(ep_.port) + ": " +
                    std::strerror(errno);
            close();
            return false;
        }
        in_.clear();
        return true;
    }

    bool write_all(const std::string& s) {
        std::size_t off = 0;
        while (off < s.size()) {
            ssize_t w = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (w <= 0) return false;
            off += std::size_t(w);
        }
        return true;
    }

    bool fill() {
        char buf[8192];
        ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
        if (r <= 0) return false;
        in_.append(buf, std::size_t(r));
        return true;
    }

    int read_response(std::string& error) {
        proto::http_response_head h;
        proto::response_head_result r;
        bool got_any = !in_.empty();
        for (;;) {
            r = proto::parse_response_head(in_, h);
            if (r.status == proto::response_head_status::complete) break;
            if (r.status == proto::response_head_status::bad) {
                error = "bad response head from the publish endpoint";
                close();
                return -EPROTO;
            }
            if (!fill()) {
                close();
                error = got_any ? "the publish endpoint closed the connection mid-response"
                                : "the publish endpoint closed the connection";
                return -EIO;
            }
            got_any = true;
        }
        in_.erase(0, r.consumed);
        switch (proto::body_framing_of(h)) {
            case proto::body_framing::content_length:
                while (in_.size() < std::size_t(h.content_length))
                    if (!fill()) {
                        close();
                        error = "publish endpoint closed mid-body";
                        return -EIO;
                    }
                body_.assign(in_, 0, std::size_t(h.content_length));
                in_.erase(0, std::size_t(h.content_length));
                break;
            case proto::body_framing::chunked: {
                proto::chunked_decoder d;
                body_.clear();
                for (;;) {
                    auto cr = d.feed(in_, [&](std::string_view p) { body_.append(p); });
                    in_.erase(0, cr.consumed);
                    if (cr.status == proto::chunked_status::done) break;
                    if (cr.status == proto::chunked_status::bad || !fill()) {
                        close();
                        error = "bad chunked publish response";
                        return -EIO;
                    }
                }
                break;
            }
            case proto::body_framing::until_close:
                while (fill()) {
                }
                body_ = in_;
                close();
                break;
            case proto::body_framing::none:
                body_.clear();
                break;
        }
        if (h.connection_close) close();
        if (h.status < 200 || h.status > 299)
            error = "publish answered " + std::to_string(h.status) + ": " + body_.substr(0, 200);
        return h.status;
    }

    endpoint ep_;
    int fd_ = -1;
    std::string in_;
    std::string body_;
};

void sleep_until_ns(std::uint64_t t) {
    timespec ts{};
    ts.tv_sec = time_t(t / 1'000'000'000u);
    ts.tv_nsec = long(t % 1'000'000'000u);
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
}

std::string fill_channel(std::string path, const std::string& channel) {
    for (std::size_t at; (at = path.find("{channel}")) != std::string::npos;)
        path.replace(at, 9, channel);
    return path;
}

}  // namespace

void run_publisher(shared_state& sh, std::uint32_t index, const std::atomic<bool>& stop) {
    const options& o = sh.opt;
    std::vector<std::uint32_t> mine;
    for (std::uint32_t c = index; c < o.channels; c += o.publishers)
        mine.push_back(c);
    if (mine.empty()) return;
    http_connection conn(o.publish_target);
    const std::string host = o.publish_target.host + ":" + std::to_string(o.publish_target.port);
    const double my_rate = o.rate / double(o.publishers);
    const std::uint64_t gap_ns = my_rate > 0 ? std::uint64_t(1e9 / my_rate) : 0;
    std::uint64_t next = now_ns();
    std::size_t rr = 0;
    std::string body, content, req, error;
    std::uint32_t inflight = 0;  // pipelined requests not yet answered
    auto fail = [&](std::uint32_t n, const std::string& why) {
        if (!n) return;
        sh.publish_errors.fetch_add(n, std::memory_order_relaxed);
        std::lock_guard lk(sh.publish_error_m);
        if (sh.publish_error.empty() && !why.empty()) sh.publish_error = why;
    };
    // One response read: counts it; false when the connection failed.
    auto account = [&](int status) {
        sh.last_publish_ns.store(now_ns(), std::memory_order_relaxed);
        if (status >= 200 && status <= 299) {
            sh.published.fetch_add(1, std::memory_order_relaxed);
            return true;
        }
        fail(1, error.empty() ? "publish failed: " + std::string(std::strerror(-status)) : error);
        return status > 0;
    };
    while (!stop.load(std::memory_order_relaxed)) {
        if (gap_ns) {
            if (now_ns() < next) sleep_until_ns(next);
            next += gap_ns;
            // After a stall, do not burst to catch up by more than a tenth of a second.
            const std::uint64_t now = now_ns();
            if (now > next + 100'000'000u) next = now;
        } else {
            // Window: publish while fewer than `window` messages per channel are undelivered.
            const std::uint64_t stall_from = now_ns();
            for (;;) {
                // Stopping: leave to read the answers of what is in flight (a
                // return here closed the connection on them, and the server,
                // reset before it read them, never published them: counted lost).
                if (stop.load(std::memory_order_relaxed)) break;
                const std::uint64_t subs =
                    sh.total(&worker_stats::open) - sh.total(&worker_stats::slow);
                const double per_msg = double(subs) * o.channels_per_sub / o.channels;
                const double outstanding =
                    double(sh.published.load(std::memory_order_relaxed)) * per_msg -
                    double(sh.total(&worker_stats::delivered));
                if (outstanding < double(o.window) * per_msg * o.channels) break;
                if (now_ns() - stall_from > 200'000'000u) break;  // deliveries stalled: go on
                std::this_thread::sleep_for(std::chrono::microseconds(20));
            }
        }
        if (stop.load(std::memory_order_relaxed)) break;
        const std::uint32_t c = mine[rr++ % mine.size()];
        const std::uint32_t seq = sh.sent_seq[c].load(std::memory_order_relaxed) + 1;
        sh.sent_seq[c].store(seq, std::memory_order_release);
        const std::uint64_t t = now_ns();
        std::uint64_t zero = 0;
        (void)sh.first_publish_ns.compare_exchange_strong(zero, t);
        encode_payload(payload{c, seq, t}, o.message_size, body);
        const std::string& channel = sh.channel_names[c];
        std::string path = o.publish_target.base_path + fill_channel(o.publish_path, channel);
        req = "POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: sseload\r\n";
        switch (o.publish) {
            case publisher_kind::ssepushd:
                req += "Authorization: Bearer " + o.publish_key +
                       "\r\nContent-Type: application/json\r\n";
                break;
            case publisher_kind::pushpin: {
                content = "{\"items\":[{\"channel\":";
                proto::json_string(channel, content);
                content += ",\"formats\":{\"http-stream\":{\"content\":";
                proto::json_string("event: message\ndata: " + body + "\n\n", content);
                content += "}}}]}";
                body.swap(content);
                req += "Content-Type: application/json\r\n";
                break;
            }
            case publisher_kind::post:
                // A generic endpoint: the JSON as the body, the key if one is given.
                if (!o.publish_key.empty())
                    req += "Authorization: Bearer " + o.publish_key + "\r\n";
                req += "Content-Type: application/json\r\n";
                break;
            default:
                req += "Content-Type: text/plain\r\n";
        }
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
        req += body;
        error.clear();
        if (!conn.send(req, error)) {
            fail(1 + inflight, error);  // this one and every one in flight
            inflight = 0;
            continue;
        }
        ++inflight;
        while (inflight >= o.publish_pipeline) {
            --inflight;
            if (!account(conn.read_one(error))) {
                fail(inflight, "");
                inflight = 0;
            }
        }
    }
    while (inflight) {
        --inflight;
        if (!account(conn.read_one(error))) {
            fail(inflight, "");
            inflight = 0;
        }
    }
}

}  // namespace ssepush::sseload
