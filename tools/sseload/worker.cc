#include "worker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <queue>
#include <string>
#include <system_error>
#include <vector>

#include "payload.h"
#include "sequence_book.h"
#include "ssepush/engine/uring.h"
#include "ssepush/proto/http_response_parser.h"
#include "ssepush/proto/request_fields.h"
#include "ssepush/proto/sse_parser.h"

namespace ssepush::sseload {

namespace {

// What a completion is for, packed with a generation and a slot into user_data.
enum class kind : std::uint8_t {
    sub_connect = 1,
    sub_send,
    sub_recv,
    sub_shutdown,
    sub_close,
    sub_cancel,
    hb_connect,
    hb_send,
    hb_recv,
    hb_shutdown,
    hb_close,
};
std::uint64_t pack(kind k, std::uint32_t gen, std::uint32_t slot) {
    return (std::uint64_t(k) << 56) | (std::uint64_t(gen & 0xffffffu) << 32) | slot;
}
kind kind_of(std::uint64_t ud) {
    return kind(ud >> 56);
}
std::uint32_t gen_of(std::uint64_t ud) {
    return std::uint32_t(ud >> 32) & 0xffffffu;
}
std::uint32_t slot_of(std::uint64_t ud) {
    return std::uint32_t(ud);
}

constexpr std::uint64_t k_ms = 1'000'000;
constexpr std::uint64_t k_retry_ns = 1000 * k_ms;
constexpr std::size_t k_max_head = 16 * 1024;

// One channel's sequence book in one subscription.
struct track {
    std::uint32_t channel = 0;
    sequence_book book;
};

// connecting -> head (request sent, reading the response head) -> stream (reading
// events; ServiceStack: waiting for cmd.onConnect) -> live -> closing -> idle
enum class sub_state : std::uint8_t { idle, connecting, head, stream, live, closing };

bool reading(sub_state s) {
    return s == sub_state::head || s == sub_state::stream || s == sub_state::live;
}
enum class end_reason : std::uint8_t { failed, server_closed, churn, stopping };

struct sub {
    std::uint32_t gen = 0;
    sub_state st = sub_state::idle;
    bool slow = false;
    bool failed_now = false;  // set inside a parse callback, acted on after it
    bool reconnect_now = false;
    proto::body_framing framing = proto::body_framing::until_close;
    std::uint8_t ntracks = 0;
    std::uint64_t started_ns = 0;
    std::uint64_t hb_interval_ns = 0;
    std::string req;   // the request, while it is being sent
    std::string head;  // response head bytes, while incomplete
    std::string hb_path;
    proto::chunked_decoder chunk;
    proto::sse_parser sse;
    std::unique_ptr<track[]> tracks;
};

enum class hb_state : std::uint8_t { down, connecting, ready, closing };

struct hb_due {
    std::uint64_t at;
    std::uint32_t sub;
    std::uint32_t gen;
    bool operator>(const hb_due& o) const { return at > o.at; }
};

// A keep-alive connection carrying heartbeats, pipelined: requests go out in
// batches, responses come back in order and are matched to `inflight`.
struct hb_conn {
    std::uint32_t gen = 0;
    hb_state st = hb_state::down;
    bool sending = false;
    bool recv_armed = false;
    std::uint64_t retry_at = 0;
    std::deque<hb_due> inflight;
    std::string out;
    std::size_t in_len = 0;
    char in[4096];
};

sockaddr_in addr_of(std::uint32_t ip, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(ip);
    a.sin_port = htons(port);
    return a;
}

std::uint32_t ip_of(const std::string& s) {
    in_addr a{};
    inet_pton(AF_INET, s.c_str(), &a);
    return ntohl(a.s_addr);
}

class worker {
public:
    worker(shared_state& sh, const worker_plan& plan, worker_stats& st)
        : sh_(sh),
          opt_(sh.opt),
          plan_(plan),
          st_(st),
          ring_(engine::uring_config{4096, 65536, plan.count + sh.opt.heartbeat_conns + 8}),
          bufs_(ring_, 0, 8192, 2048),
          server_(addr_of(ip_of(plan.target.host), plan.target.port)),
          source_(addr_of(plan.source_ip, 0)),
          subs_(plan.count),
          hbs_(opt_.flavour == flavour::servicestack && opt_.heartbeats ? opt_.heartbeat_conns
                                                                        : 0) {
        host_header_ = plan.target.host + ":" + std::to_string(plan.target.port);
        for (std::uint32_t i = 0; i < plan.count; ++i)
            pending_.push_back(i);
    }

    void run() {
        std::uint64_t last_tick = now_ns();
        for (;;) {
            const phase ph = sh_.now.load(std::memory_order_acquire);
            if (ph == phase::stop) break;
            const std::uint64_t now = now_ns();
            const double dt = double(now - last_tick) / 1e9;
            last_tick = now;
            if (ph <= phase::drain) {
                open_some(now, dt);
                run_heartbeats(now);
                if (ph == phase::measure) churn(now);
            }
            if (ph == phase::drain) count_behind();
            if (ph == phase::final && !st_.settled.load(std::memory_order_relaxed)) settle();
            publish(now);
            const bool busy = !pending_.empty() && connecting_ < opt_.connect_inflight;
            (void)ring_.submit_and_wait(1, busy ? 1 : 10);
            reap();
        }
        publish(now_ns());
        merge_histograms();
    }

private:
    // ---- connections -------------------------------------------------------------------

    // A socket bound to this worker's source address, installed in the ring's
    // file table at `slot`; the regular descriptor is closed again at once.
    bool install_socket(std::uint32_t slot) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return false;
        int one = 1;
        (void)::setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&source_), sizeof source_) != 0) {
            ::close(fd);
            return false;
        }
        int r = io_uring_register_files_update(ring_.raw(), slot, &fd, 1);
        ::close(fd);
        return r == 1;
    }

    // Connects the socket at file-table slot `file` to the server.
    void connect_file(unsigned file, std::uint64_t ud) {
        io_uring_sqe* q = ring_.sqe();
        io_uring_prep_connect(q, int(file), reinterpret_cast<const sockaddr*>(&server_),
                              sizeof server_);
        q->flags |= IOSQE_FIXED_FILE;
        io_uring_sqe_set_data64(q, ud);
    }

    // Shuts the socket at `file` down (which ends any recv still armed on it)
    // and closes the slot, even if the shutdown fails.
    void close_file(unsigned file, std::uint64_t shutdown_ud, std::uint64_t close_ud) {
        io_uring_sqe* q = ring_.sqe();
        io_uring_prep_shutdown(q, int(file), SHUT_RDWR);
        q->flags |= IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK;
        io_uring_sqe_set_data64(q, shutdown_ud);
        q = ring_.sqe();
        io_uring_prep_close_direct(q, file);
        io_uring_sqe_set_data64(q, close_ud);
    }

    void open_some(std::uint64_t now, double dt) {
        tokens_ =
            std::min(tokens_ + plan_.connect_rate * dt, std::max(1.0, plan_.connect_rate / 50));
        while (!retry_.empty() && retry_.front().first <= now) {
            pending_.push_back(retry_.front().second);
            retry_.pop_front();
        }
        while (!pending_.empty() && tokens_ >= 1 && connecting_ < opt_.connect_inflight) {
            std::uint32_t i = pending_.front();
            pending_.pop_front();
            tokens_ -= 1;
            start(i, now);
        }
    }

    void start(std::uint32_t i, std::uint64_t now) {
        sub& s = subs_[i];
        const std::uint32_t global = plan_.first + i;
        s.slow = is_slow(opt_, global);
        s.started_ns = now;
        s.sse.reset();
        s.chunk = proto::chunked_decoder{};
        s.head.clear();
        s.hb_path.clear();
        s.ntracks = std::uint8_t(opt_.channels_per_sub);
        if (!s.tracks) s.tracks = std::make_unique<track[]>(s.ntracks);
        for (std::uint32_t j = 0; j < s.ntracks; ++j)
            s.tracks[j] = track{channel_of(opt_, global, j), sequence_book()};
        s.st = sub_state::connecting;
        ++connecting_;
        if (!install_socket(i)) {
            s.st = sub_state::idle;
            --connecting_;
            ++failed_;
            note_error("socket/bind failed: " + std::string(std::strerror(errno)));
            retry_.emplace_back(now + k_retry_ns, i);
            return;
        }
        connect_file(i, pack(kind::sub_connect, s.gen, i));
    }

    std::string request_for(std::uint32_t i) {
        const sub& s = subs_[i];
        std::string channels;
        for (std::uint32_t j = 0; j < s.ntracks; ++j) {
            if (j) channels += ',';
            channels += sh_.channel_names[s.tracks[j].channel];
        }
        std::string path = plan_.target.base_path + opt_.path;
        auto fill = [&](std::string_view key, const std::string& v) {
            for (std::size_t at; (at = path.find(key)) != std::string::npos;)
                path.replace(at, key.size(), v);
        };
        fill("{channels}", channels);
        fill("{channel}", sh_.channel_names[s.tracks[0].channel]);
        fill("{i}", std::to_string(plan_.first + i));
        std::string r = "GET " + path + " HTTP/1.1\r\nHost: " + host_header_ +
                        "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"
                        "User-Agent: sseload\r\n";
        for (const std::string& h : opt_.headers)
            r += h + "\r\n";
        r += "\r\n";
        return r;
    }

    void arm_recv(std::uint32_t i) {
        io_uring_sqe* q = ring_.sqe();
        io_uring_prep_recv_multishot(q, int(i), nullptr, 0, 0);
        q->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
        q->buf_group = bufs_.group();
        io_uring_sqe_set_data64(q, pack(kind::sub_recv, subs_[i].gen, i));
    }

    void on_connect(std::uint32_t i, int res) {
        sub& s = subs_[i];
        if (res < 0) {
            note_error("connect: " + std::string(std::strerror(-res)));
            return end(i, end_reason::failed);
        }
        s.req = request_for(i);
        io_uring_sqe* q = ring_.sqe();
        io_uring_prep_send(q, int(i), s.req.data(), s.req.size(), MSG_NOSIGNAL);
        q->flags |= IOSQE_FIXED_FILE;
        io_uring_sqe_set_data64(q, pack(kind::sub_send, s.gen, i));
        arm_recv(i);
        s.st = sub_state::head;
    }

    void on_send(std::uint32_t i, int res) {
        sub& s = subs_[i];
        const bool whole = res == int(s.req.size());
        std::string().swap(s.req);
        if (!whole) {
            note_error("sending the request: " +
                       std::string(res < 0 ? std::strerror(-res) : "short send"));
            end(i, end_reason::failed);
        }
    }

    void on_recv(std::uint32_t i, bool current, int res, unsigned flags) {
        const bool has_buf = flags & IORING_CQE_F_BUFFER;
        const std::uint16_t bid = std::uint16_t(flags >> IORING_CQE_BUFFER_SHIFT);
        sub& s = subs_[i];
        if (current && reading(s.st)) {
            if (res > 0) {
                bytes_ += std::uint64_t(res);
                feed(i, std::string_view(bufs_.buffer(bid), std::size_t(res)));
            } else if (res == -ECANCELED && s.slow && s.st == sub_state::live) {
                // a slow subscriber stopped reading on purpose
            } else if (res != -ENOBUFS) {
                if (s.st == sub_state::live) {
                    note_error(res == 0 ? "the server ended a live stream"
                                        : "live stream: " + std::string(std::strerror(-res)));
                    end(i, end_reason::server_closed);
                } else {
                    note_error(res == 0 ? "connection closed before the stream started"
                                        : "recv: " + std::string(std::strerror(-res)));
                    end(i, end_reason::failed);
                }
            }
            if (s.failed_now) {
                s.failed_now = false;
                end(i, end_reason::failed);
            } else if (s.reconnect_now) {
                s.reconnect_now = false;
                end(i, s.st == sub_state::live ? end_reason::server_closed : end_reason::failed);
            } else if (!(flags & IORING_CQE_F_MORE) && reading(s.st) &&
                       !(s.slow && s.st == sub_state::live)) {
                arm_recv(i);
            }
        }
        if (has_buf) {
            bufs_.recycle(bid);
            if (++recycled_ >= 256) {
                bufs_.commit();
                recycled_ = 0;
            }
        }
    }

    void feed(std::uint32_t i, std::string_view in) {
        sub& s = subs_[i];
        if (s.st == sub_state::head) {
            s.head.append(in);
            proto::http_response_head h;
            auto r = proto::parse_response_head(s.head, h);
            if (r.status == proto::response_head_status::incomplete) {
                if (s.head.size() > k_max_head) {
                    note_error("response head over 16 KiB");
                    s.failed_now = true;
                }
                return;
            }
            if (r.status != proto::response_head_status::complete) {
                note_error("bad response head");
                s.failed_now = true;
                return;
            }
            if (h.status != 200) {
                note_error("subscribe answered " + std::to_string(h.status));
                s.failed_now = true;
                return;
            }
            s.framing = proto::body_framing_of(h);
            std::string rest = s.head.substr(r.consumed);
            std::string().swap(s.head);
            s.st = sub_state::stream;
            if (opt_.flavour == flavour::plain) go_live(i);
            body(i, rest);
            return;
        }
        body(i, in);
    }

    void body(std::uint32_t i, std::string_view in) {
        sub& s = subs_[i];
        if (in.empty()) return;
        if (s.framing == proto::body_framing::chunked) {
            auto r = s.chunk.feed(in, [&](std::string_view piece) { events(i, piece); });
            if (r.status == proto::chunked_status::bad) {
                note_error("bad chunked encoding");
                s.failed_now = true;
            } else if (r.status == proto::chunked_status::done) {
                s.reconnect_now = true;
            }
        } else {
            events(i, in);
        }
    }

    void events(std::uint32_t i, std::string_view in) {
        sub& s = subs_[i];
        if (s.failed_now) return;
        auto r = s.sse.feed(in, [&](const proto::sse_message& m) { on_event(i, m); });
        if (r != proto::sse_parse_status::ok) {
            note_error("an SSE event over the size limit");
            s.failed_now = true;
        }
    }

    void on_event(std::uint32_t i, const proto::sse_message& m) {
        sub& s = subs_[i];
        payload p;
        if (decode_payload(m.data, p)) return on_payload(i, p);
        if (opt_.flavour == flavour::servicestack) {
            std::string_view d = m.data;
            // A system message's selector starts the data (npos is not < 80).
            if (d.find("cmd.onConnect") < 80 && s.st != sub_state::live) {
                proto::request_fields f;
                const std::size_t brace = d.find('{');
                f.parse({}, "application/json",
                        brace == std::string_view::npos ? std::string_view() : d.substr(brace));
                const std::string hb = f.get("heartbeatUrl").value_or("");
                if (std::size_t p3 = hb.find("://"); p3 != std::string::npos) {
                    std::size_t slash = hb.find('/', p3 + 3);
                    if (slash != std::string::npos) s.hb_path = hb.substr(slash);
                }
                const std::string ms = f.get("heartbeatIntervalMs").value_or("0");
                std::uint64_t v = 0;
                (void)std::from_chars(ms.data(), ms.data() + ms.size(), v);
                s.hb_interval_ns = opt_.heartbeat_interval_s > 0
                                       ? std::uint64_t(opt_.heartbeat_interval_s * 1e9)
                                       : v * k_ms;
                go_live(i);
                return;
            }
            if (d.find("cmd.onHeartbeat") < 80) {
                ++on_heartbeat_;
                return;
            }
        }
        ++other_events_;
    }

    void go_live(std::uint32_t i) {
        sub& s = subs_[i];
        const std::uint64_t now = now_ns();
        s.st = sub_state::live;
        --connecting_;
        ++open_;
        ++opened_total_;
        const std::uint64_t took = now - s.started_ns;
        st_.connect_total.record(took);
        for (std::uint32_t j = 0; j < s.ntracks; ++j)
            s.tracks[j].book.set_baseline(
                sh_.sent_seq[s.tracks[j].channel].load(std::memory_order_acquire));
        if (s.slow) {
            ++slow_;
            io_uring_sqe* q = ring_.sqe();
            io_uring_prep_cancel64(q, pack(kind::sub_recv, s.gen, i), 0);
            io_uring_sqe_set_data64(q, pack(kind::sub_cancel, s.gen, i));
        }
        if (!hbs_.empty() && !s.hb_path.empty() && s.hb_interval_ns && !s.slow)
            hb_heap_.push(hb_due{now + s.hb_interval_ns, i, s.gen});
    }

    void on_payload(std::uint32_t i, const payload& p) {
        sub& s = subs_[i];
        const std::uint64_t now = now_ns();
        if (s.slow) return;
        track* t = nullptr;
        for (std::uint32_t j = 0; j < s.ntracks; ++j)
            if (s.tracks[j].channel == p.channel) t = &s.tracks[j];
        last_delivery_ = now;
        const std::uint64_t lat = now > p.sent_ns ? now - p.sent_ns : 0;
        latency_local_.record(lat);
        st_.latency_total.record(lat);
        if (!t) {  // a message for a channel this subscriber is not on
            ++counts_.out_of_order;
            return;
        }
        t->book.receive(p.seq, counts_);
    }

    void end(std::uint32_t i, end_reason why) {
        sub& s = subs_[i];
        if (s.st == sub_state::idle || s.st == sub_state::closing) return;
        if (s.st == sub_state::live) {
            --open_;
            if (why == end_reason::server_closed && !s.slow) ++dropped_;
        } else {
            --connecting_;
            if (why == end_reason::failed) ++failed_;
        }
        reason_[i] = why;
        s.gen = (s.gen + 1) & 0xffffffu;
        s.st = sub_state::closing;
        close_file(i, pack(kind::sub_shutdown, s.gen, i), pack(kind::sub_close, s.gen, i));
    }

    void on_close(std::uint32_t i) {
        sub& s = subs_[i];
        s.st = sub_state::idle;
        std::string().swap(s.head);
        std::string().swap(s.hb_path);
        const phase ph = sh_.now.load(std::memory_order_relaxed);
        if (ph > phase::drain) return;
        switch (reason_[i]) {
            case end_reason::churn:
                ++reconnects_;
                pending_.push_back(i);
                break;
            case end_reason::server_closed:
                ++reconnects_;
                retry_.emplace_back(now_ns() + k_retry_ns, i);
                break;
            case end_reason::failed:
                retry_.emplace_back(now_ns() + k_retry_ns, i);
                break;
            case end_reason::stopping:
                break;
        }
    }

    // ---- churn ---------------------------------------------------------------------------

    void churn(std::uint64_t now) {
        if (opt_.scenario != scenario::churn || opt_.churn_share <= 0) return;
        if (now < next_churn_) return;
        if (next_churn_ == 0) {
            next_churn_ = now + 1000 * k_ms;
            return;
        }
        next_churn_ += 1000 * k_ms;
        churn_debt_ += opt_.churn_share * double(open_);
        for (std::uint32_t scanned = 0; churn_debt_ >= 1 && scanned < subs_.size(); ++scanned) {
            churn_cursor_ = (churn_cursor_ + 1) % std::uint32_t(subs_.size());
            if (subs_[churn_cursor_].st != sub_state::live) continue;
            end(churn_cursor_, end_reason::churn);
            churn_debt_ -= 1;
        }
    }

    // ---- drain and settlement -----------------------------------------------------------

    bool behind(const sub& s) const {
        for (std::uint32_t j = 0; j < s.ntracks; ++j) {
            const track& t = s.tracks[j];
            if (t.book.behind(sh_.sent_seq[t.channel].load(std::memory_order_relaxed))) return true;
        }
        return false;
    }

    void count_behind() {
        const std::uint64_t e = sh_.drain_epoch.load(std::memory_order_acquire);
        if (e == st_.behind_epoch.load(std::memory_order_relaxed)) return;
        std::uint64_t n = 0;
        for (const sub& s : subs_)
            if (s.st == sub_state::live && !s.slow && behind(s)) ++n;
        st_.behind.store(n, std::memory_order_relaxed);
        st_.behind_epoch.store(e, std::memory_order_release);
    }

    void settle() {
        for (const sub& s : subs_) {
            if (s.st != sub_state::live || s.slow) continue;
            for (std::uint32_t j = 0; j < s.ntracks; ++j) {
                const track& t = s.tracks[j];
                t.book.close(sh_.final_seq[t.channel].load(std::memory_order_acquire), counts_);
            }
        }
        publish(now_ns());
        st_.settled.store(true, std::memory_order_release);
    }

    // ---- heartbeats ----------------------------------------------------------------------

    void run_heartbeats(std::uint64_t now) {
        if (hbs_.empty()) return;
        while (!hb_heap_.empty() && hb_heap_.top().at <= now) {
            hb_due d = hb_heap_.top();
            hb_heap_.pop();
            const sub& s = subs_[d.sub];
            if (s.gen != d.gen || s.st != sub_state::live) continue;
            hb_queue_.push_back(d);
            hb_heap_.push(hb_due{d.at + s.hb_interval_ns, d.sub, d.gen});
        }
        for (std::uint32_t j = 0; j < hbs_.size() && !hb_queue_.empty(); ++j) {
            hb_conn& h = hbs_[j];
            if (h.st == hb_state::down && h.retry_at <= now) hb_open(j);
            if (h.st == hb_state::ready && !h.sending) hb_send(j);
        }
    }

    std::uint32_t hb_slot(std::uint32_t j) const { return plan_.count + j; }

    void hb_open(std::uint32_t j) {
        hb_conn& h = hbs_[j];
        if (!install_socket(hb_slot(j))) {
            h.retry_at = now_ns() + k_retry_ns;
            return;
        }
        h.st = hb_state::connecting;
        connect_file(hb_slot(j), pack(kind::hb_connect, h.gen, j));
    }

    // Sends every queued heartbeat this connection has room for, in one write.
    void hb_send(std::uint32_t j) {
        hb_conn& h = hbs_[j];
        h.out.clear();
        while (!hb_queue_.empty() && h.inflight.size() < opt_.heartbeat_pipeline) {
            hb_due d = hb_queue_.front();
            hb_queue_.pop_front();
            const sub& s = subs_[d.sub];
            if (s.gen != d.gen || s.st != sub_state::live) continue;
            h.out += "POST ";
            h.out += s.hb_path;
            h.out += " HTTP/1.1\r\nHost: ";
            h.out += host_header_;
            h.out += "\r\nContent-Length: 0\r\nUser-Agent: sseload\r\n\r\n";
            h.inflight.push_back(d);
            ++hb_sent_;
        }
        if (h.out.empty()) return;
        h.sending = true;
        io_uring_sqe* q = ring_.sqe();
        io_uring_prep_send(q, int(hb_slot(j)), h.out.data(), h.out.size(), MSG_NOSIGNAL);
        q->flags |= IOSQE_FIXED_FILE;
        io_uring_sqe_set_data64(q, pack(kind::hb_send, h.gen, j));
        if (!h.recv_armed) hb_arm_recv(j);
    }

    void hb_arm_recv(std::uint32_t j) {
        hb_conn& h = hbs_[j];
        h.recv_armed = true;
        io_uring_sqe* q = ring_.sqe();
        io_uring_prep_recv(q, int(hb_slot(j)), h.in + h.in_len, sizeof h.in - h.in_len, 0);
        q->flags |= IOSQE_FIXED_FILE;
        io_uring_sqe_set_data64(q, pack(kind::hb_recv, h.gen, j));
    }

    // Closes the connection; heartbeats not yet answered go back to the queue.
    void hb_down(std::uint32_t j) {
        hb_conn& h = hbs_[j];
        while (!h.inflight.empty()) {
            hb_queue_.push_front(h.inflight.back());
            h.inflight.pop_back();
            --hb_sent_;
        }
        h.in_len = 0;
        h.sending = h.recv_armed = false;
        h.gen = (h.gen + 1) & 0xffffffu;
        h.st = hb_state::closing;
        close_file(hb_slot(j), pack(kind::hb_shutdown, h.gen, j), pack(kind::hb_close, h.gen, j));
    }

    void hb_on_recv(std::uint32_t j, int res) {
        hb_conn& h = hbs_[j];
        h.recv_armed = false;
        if (h.st != hb_state::ready) return;
        if (res <= 0) return hb_down(j);
        h.in_len += std::size_t(res);
        bool close_after = false;
        std::size_t off = 0;
        while (!h.inflight.empty() && off < h.in_len) {
            proto::http_response_head head;
            const std::string_view rest(h.in + off, h.in_len - off);
            auto r = proto::parse_response_head(rest, head);
            if (r.status == proto::response_head_status::incomplete) break;
            if (r.status != proto::response_head_status::complete) {
                ++hb_failed_;
                note_error("bad heartbeat response");
                return hb_down(j);
            }
            const std::size_t body = head.content_length < 0 ? 0 : std::size_t(head.content_length);
            if (rest.size() - r.consumed < body) break;
            off += r.consumed + body;
            h.inflight.pop_front();
            if (head.status == 200) {
                ++hb_ok_;
            } else {
                ++hb_failed_;
                note_error("heartbeat answered " + std::to_string(head.status));
            }
            if (head.connection_close) close_after = true;
        }
        std::memmove(h.in, h.in + off, h.in_len - off);
        h.in_len -= off;
        if (close_after || (h.in_len == sizeof h.in)) return hb_down(j);
        if (!h.inflight.empty()) hb_arm_recv(j);
    }

    // ---- completions ---------------------------------------------------------------------

    void reap() {
        io_uring_cqe* cqe;
        unsigned head;
        unsigned n = 0;
        io_uring_for_each_cqe(ring_.raw(), head, cqe) {
            ++n;
            dispatch(cqe->user_data, cqe->res, cqe->flags);
        }
        io_uring_cq_advance(ring_.raw(), n);
        bufs_.commit();
        recycled_ = 0;
    }

    void dispatch(std::uint64_t ud, int res, unsigned flags) {
        const std::uint32_t slot = slot_of(ud);
        const std::uint32_t gen = gen_of(ud);
        switch (kind_of(ud)) {
            case kind::sub_connect:
                if (subs_[slot].gen == gen && subs_[slot].st == sub_state::connecting)
                    on_connect(slot, res);
                break;
            case kind::sub_send:
                if (subs_[slot].gen == gen && reading(subs_[slot].st))
                    on_send(slot, res);
                else
                    std::string().swap(subs_[slot].req);
                break;
            case kind::sub_recv:
                on_recv(slot, subs_[slot].gen == gen, res, flags);
                break;
            case kind::sub_close:
                if (subs_[slot].gen == gen && subs_[slot].st == sub_state::closing) on_close(slot);
                break;
            case kind::sub_shutdown:
            case kind::sub_cancel:
            case kind::hb_shutdown:
                break;
            case kind::hb_connect:
                if (hbs_[slot].gen == gen && hbs_[slot].st == hb_state::connecting) {
                    if (res < 0) {
                        note_error("heartbeat connect: " + std::string(std::strerror(-res)));
                        hb_down(slot);
                    } else {
                        hbs_[slot].st = hb_state::ready;
                    }
                }
                break;
            case kind::hb_send:
                if (hbs_[slot].gen == gen && hbs_[slot].st == hb_state::ready) {
                    hbs_[slot].sending = false;
                    if (res != int(hbs_[slot].out.size())) hb_down(slot);
                }
                break;
            case kind::hb_recv:
                if (hbs_[slot].gen == gen) hb_on_recv(slot, res);
                break;
            case kind::hb_close:
                if (hbs_[slot].gen == gen) {
                    hbs_[slot].st = hb_state::down;
                    hbs_[slot].retry_at = now_ns() + 10 * k_ms;
                }
                break;
        }
    }

    // ---- numbers -------------------------------------------------------------------------

    void note_error(const std::string& e) {
        if (first_error_.empty()) {
            first_error_ = e;
            std::lock_guard lk(st_.m);
            if (st_.error.empty()) st_.error = e;
        }
    }

    void merge_histograms() {
        std::lock_guard lk(st_.m);
        st_.latency_interval.merge(latency_local_);
        latency_local_.reset();
    }

    void publish(std::uint64_t now) {
        auto put = [](std::atomic<std::uint64_t>& a, std::uint64_t v) {
            a.store(v, std::memory_order_relaxed);
        };
        put(st_.open, open_);
        put(st_.connecting, connecting_);
        put(st_.opened_total, opened_total_);
        put(st_.failed, failed_);
        put(st_.dropped, dropped_);
        put(st_.reconnects, reconnects_);
        put(st_.slow, slow_);
        put(st_.delivered, counts_.received);
        put(st_.lost, counts_.lost);
        put(st_.duplicated, counts_.duplicated);
        put(st_.out_of_order, counts_.out_of_order);
        put(st_.other_events, other_events_);
        put(st_.on_heartbeat, on_heartbeat_);
        put(st_.hb_sent, hb_sent_);
        put(st_.hb_ok, hb_ok_);
        put(st_.hb_failed, hb_failed_);
        put(st_.bytes, bytes_);
        if (last_delivery_) {
            std::uint64_t cur = sh_.last_delivery_ns.load(std::memory_order_relaxed);
            while (cur < last_delivery_ &&
                   !sh_.last_delivery_ns.compare_exchange_weak(cur, last_delivery_))
                ;
        }
        if (now - last_merge_ >= 20 * k_ms) {
            last_merge_ = now;
            merge_histograms();
        }
    }

    shared_state& sh_;
    const options& opt_;
    worker_plan plan_;
    worker_stats& st_;
    engine::uring ring_;
    engine::buf_ring bufs_;
    sockaddr_in server_;
    sockaddr_in source_;
    std::string host_header_;
    std::vector<sub> subs_;
    std::vector<end_reason> reason_ = std::vector<end_reason>(subs_.size());
    std::vector<hb_conn> hbs_;
    std::deque<std::uint32_t> pending_;
    std::deque<std::pair<std::uint64_t, std::uint32_t>> retry_;
    std::priority_queue<hb_due, std::vector<hb_due>, std::greater<>> hb_heap_;
    std::deque<hb_due> hb_queue_;
    double tokens_ = 1;
    std::uint32_t connecting_ = 0;
    unsigned recycled_ = 0;
    std::uint64_t next_churn_ = 0;
    double churn_debt_ = 0;
    std::uint32_t churn_cursor_ = 0;
    std::uint64_t last_merge_ = 0;
    std::uint64_t last_delivery_ = 0;
    std::string first_error_;
    sequence_counts counts_;
    histogram latency_local_;
    // counters, published to st_ every turn
    std::uint64_t open_ = 0, opened_total_ = 0, failed_ = 0, dropped_ = 0, reconnects_ = 0,
                  slow_ = 0, other_events_ = 0, on_heartbeat_ = 0, hb_sent_ = 0, hb_ok_ = 0,
                  hb_failed_ = 0, bytes_ = 0;
};

}  // namespace

void run_worker(shared_state& shared, const worker_plan& plan, worker_stats& stats) {
    try {
        auto w = std::make_unique<worker>(shared, plan, stats);
        w->run();
    } catch (const std::exception& e) {
        std::lock_guard lk(stats.m);
        stats.error = std::string("worker setup: ") + e.what();
        stats.settled.store(true);
    }
}

}  // namespace ssepush::sseload
