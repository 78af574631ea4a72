// sseload: a load generator and checker for Server-Sent Events servers.
// `sseload --help` documents every option; docs are in tools/sseload/README.md.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

#include "options.h"
#include "payload.h"
#include "publisher.h"
#include "report_html.h"
#include "sampler.h"
#include "shared.h"
#include "ssepush/proto/json.h"
#include "worker.h"

using namespace ssepush::sseload;
namespace proto = ssepush::proto;

namespace {

std::atomic<bool> g_interrupted{false};

void on_sigint(int) {
    g_interrupted.store(true);
}
void on_alarm(int) {
    const char msg[] = "\nsseload: the run exceeded --timeout; exiting\n";
    (void)!::write(2, msg, sizeof msg - 1);
    _exit(3);
}

double self_cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
std::uint64_t self_rss_kib() {
    return sample_process(getpid()).rss_kib;
}

struct point {
    double t = 0;
    std::uint64_t conns = 0, published = 0, delivered = 0, lost = 0, hb_ok = 0;
    double published_per_s = 0, deliveries_per_s = 0, heartbeats_per_s = 0;
    double p50_us = 0, p99_us = 0, max_us = 0;
    double server_cpu_pct = -1, loadgen_cpu_pct = 0;
    std::uint64_t server_rss_kib = 0;
};

std::string human(double v) {
    char b[32];
    if (v >= 1e9)
        std::snprintf(b, sizeof b, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        std::snprintf(b, sizeof b, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        std::snprintf(b, sizeof b, "%.1fk", v / 1e3);
    else
        std::snprintf(b, sizeof b, "%.0f", v);
    return b;
}
std::string ms(double us) {
    char b[32];
    if (us >= 1000)
        std::snprintf(b, sizeof b, "%.1fms", us / 1000);
    else
        std::snprintf(b, sizeof b, "%.0fus", us);
    return b;
}

std::string iso_now() {
    std::time_t t = std::time(nullptr);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return b;
}

int report_command(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: sseload report OUT.html RESULT.json [RESULT.json...]\n");
        return 2;
    }
    std::vector<std::string> runs;
    std::string title;
    for (int i = 3; i < argc; ++i) {
        std::ifstream f(argv[i]);
        if (!f) {
            std::fprintf(stderr, "sseload report: cannot read %s\n", argv[i]);
            return 2;
        }
        runs.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
        std::string name = argv[i];
        if (std::size_t slash = name.rfind('/'); slash != std::string::npos)
            name.erase(0, slash + 1);
        title += (i > 3 ? " vs " : "") + name;
    }
    std::ofstream out(argv[2]);
    out << render_html_report(runs, "sseload: " + title);
    if (!out) {
        std::fprintf(stderr, "sseload report: cannot write %s\n", argv[2]);
        return 2;
    }
    std::printf("wrote %s\n", argv[2]);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "report") == 0) return report_command(argc, argv);
    const options opt = parse_options(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    signal(SIGALRM, on_alarm);
    alarm(unsigned(std::ceil(opt.timeout_s)));

    const bool tty = isatty(2);
    const bool publishing = opt.publish != publisher_kind::none;
    shared_state sh(opt);
    const std::uint32_t W = opt.workers;
    std::vector<worker_plan> plans(W);
    for (std::uint32_t w = 0, first = 0; w < W; ++w) {
        plans[w].index = w;
        plans[w].first = first;
        plans[w].count = opt.connections / W + (w < opt.connections % W ? 1 : 0);
        plans[w].source_ip = opt.source_ips[w % opt.source_ips.size()];
        plans[w].connect_rate = opt.connect_rate / W;
        plans[w].target = opt.targets[w % opt.targets.size()];
        first += plans[w].count;
        sh.workers.push_back(std::make_unique<worker_stats>());
    }
    // Each source address has ~28k ephemeral ports towards one server address.
    {
        std::vector<std::uint64_t> per_ip(opt.source_ips.size());
        for (std::uint32_t w = 0; w < W; ++w)
            per_ip[w % opt.source_ips.size()] += plans[w].count + opt.heartbeat_conns;
        for (std::size_t k = 0; k < per_ip.size(); ++k)
            if (per_ip[k] > 28000) {
                std::fprintf(stderr,
                             "sseload: %llu connections from %s exceed its ~28,000 ports: give "
                             "--source-ips a wider range\n",
                             static_cast<unsigned long long>(per_ip[k]),
                             ip_string(opt.source_ips[k]).c_str());
                return 2;
            }
    }

    const machine_info machine = describe_machine();
    const proc_sample server0 = opt.server_pid ? sample_process(opt.server_pid) : proc_sample{};
    if (opt.server_pid && !server0.ok) {
        std::fprintf(stderr, "sseload: --server-pid %d: no such process\n", opt.server_pid);
        return 2;
    }
    std::fprintf(stderr,
                 "sseload: %s, %u connections (%s flavour) to %s, %u workers from %s.., "
                 "publishing via %s\n",
                 name_of(opt.scenario), opt.connections, name_of(opt.flavour), opt.url.c_str(), W,
                 ip_string(opt.source_ips[0]).c_str(), name_of(opt.publish));

    const std::uint64_t t0 = now_ns();
    const std::string started_at = iso_now();
    std::vector<std::thread> workers;
    for (std::uint32_t w = 0; w < W; ++w)
        workers.emplace_back([&sh, &plans, w] { run_worker(sh, plans[w], *sh.workers[w]); });

    std::atomic<bool> stop_publishers{false};
    std::vector<std::thread> publishers;

    std::vector<point> timeline;
    histogram interval_lat;
    point prev;
    proc_sample server_prev = server0;
    double self_prev = self_cpu_s();
    std::uint64_t t_prev = t0;
    double server_cpu_max = 0, server_cpu_sum = 0, self_cpu_sum = 0;
    int server_cpu_n = 0;
    std::uint64_t server_rss_peak = server0.rss_kib, self_rss_peak = 0;
    std::uint64_t server_rss_connected = 0;
    std::uint64_t open_at_connected = 0;
    double connect_phase_s = 0;
    std::string abort_reason;

    phase ph = phase::connect;
    std::uint64_t phase_start = t0;
    const auto interval = std::chrono::nanoseconds(std::uint64_t(opt.status_interval_s * 1e9));
    auto next_tick = std::chrono::steady_clock::now() + interval;

    auto enter = [&](phase p) {
        ph = p;
        phase_start = now_ns();
        sh.now.store(p, std::memory_order_release);
    };

    while (ph < phase::final) {
        // Wake every 50 ms to move phases promptly; sample on the status interval.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        const std::uint64_t now = now_ns();
        const double in_phase = double(now - phase_start) / 1e9;
        const std::uint64_t open = sh.total(&worker_stats::open);
        if (g_interrupted.load() && abort_reason.empty()) {
            abort_reason = "interrupted";
            if (ph < phase::drain) {
                stop_publishers.store(true);
                enter(phase::drain);
            }
        }
        for (auto& w : sh.workers) {
            std::lock_guard lk(w->m);
            if (!w->error.empty() && w->error.rfind("worker setup", 0) == 0 && abort_reason.empty())
                abort_reason = w->error;
        }
        if (!abort_reason.empty() && abort_reason != "interrupted" && ph < phase::final) break;

        switch (ph) {
            case phase::connect:
                if (open >= opt.connections || in_phase > opt.connect_timeout_s) {
                    connect_phase_s = in_phase;
                    open_at_connected = open;
                    if (opt.server_pid)
                        server_rss_connected = sample_process(opt.server_pid).rss_kib;
                    if (open < opt.connections)
                        std::fprintf(
                            stderr, "\nsseload: only %llu of %u connections open after %.0f s\n",
                            static_cast<unsigned long long>(open), opt.connections, in_phase);
                    enter(phase::warmup);
                }
                break;
            case phase::warmup:
                if (in_phase >= opt.warmup_s) {
                    enter(phase::measure);
                    if (publishing)
                        for (std::uint32_t p = 0; p < opt.publishers; ++p)
                            publishers.emplace_back([&sh, p, &stop_publishers] {
                                run_publisher(sh, p, stop_publishers);
                            });
                }
                break;
            case phase::measure:
                if (in_phase >= opt.duration_s) {
                    stop_publishers.store(true);
                    for (auto& t : publishers)
                        t.join();
                    publishers.clear();
                    enter(phase::drain);
                }
                break;
            case phase::drain: {
                if (!publishing) {
                    enter(phase::final);
                    break;
                }
                const std::uint64_t epoch = sh.drain_epoch.load();
                bool all_counted = true;
                std::uint64_t behind = 0;
                for (auto& w : sh.workers) {
                    if (w->behind_epoch.load(std::memory_order_acquire) != epoch)
                        all_counted = false;
                    behind += w->behind.load(std::memory_order_relaxed);
                }
                if (epoch > 0 && all_counted && behind == 0) {
                    enter(phase::final);
                } else if (in_phase >= opt.drain_s) {
                    enter(phase::final);
                } else if (all_counted || epoch == 0) {
                    sh.drain_epoch.fetch_add(1, std::memory_order_release);
                }
                break;
            }
            default:
                break;
        }
        if (ph == phase::final) break;

        // --- sample ---
        if (std::chrono::steady_clock::now() < next_tick) continue;
        next_tick += interval;
        const double dt = double(now - t_prev) / 1e9;
        t_prev = now;
        point p;
        p.t = double(now - t0) / 1e9;
        p.conns = open;
        p.published = sh.published.load();
        p.delivered = sh.total(&worker_stats::delivered);
        p.lost = sh.total(&worker_stats::lost);
        p.hb_ok = sh.total(&worker_stats::hb_ok);
        p.published_per_s = double(p.published - prev.published) / dt;
        p.deliveries_per_s = double(p.delivered - prev.delivered) / dt;
        p.heartbeats_per_s = double(p.hb_ok - prev.hb_ok) / dt;
        interval_lat.reset();
        for (auto& w : sh.workers) {
            std::lock_guard lk(w->m);
            interval_lat.merge(w->latency_interval);
            w->latency_interval.reset();
        }
        p.p50_us = double(interval_lat.quantile(0.5)) / 1e3;
        p.p99_us = double(interval_lat.quantile(0.99)) / 1e3;
        p.max_us = double(interval_lat.max()) / 1e3;
        const double self_now = self_cpu_s();
        p.loadgen_cpu_pct = (self_now - self_prev) / dt * 100;
        self_prev = self_now;
        self_cpu_sum += p.loadgen_cpu_pct;
        self_rss_peak = std::max(self_rss_peak, self_rss_kib());
        if (opt.server_pid) {
            proc_sample s = sample_process(opt.server_pid);
            if (s.ok) {
                p.server_cpu_pct = (s.cpu_s - server_prev.cpu_s) / dt * 100;
                p.server_rss_kib = s.rss_kib;
                server_prev = s;
                server_rss_peak = std::max(server_rss_peak, s.rss_kib);
                server_cpu_max = std::max(server_cpu_max, p.server_cpu_pct);
                if (ph == phase::measure) {
                    server_cpu_sum += p.server_cpu_pct;
                    ++server_cpu_n;
                }
            } else if (abort_reason.empty()) {
                abort_reason = "the server process " + std::to_string(opt.server_pid) + " is gone";
            }
        }
        timeline.push_back(p);
        prev = p;
        if (opt.status) {
            static const char* names[] = {"connect", "warmup", "measure", "drain", "final", "stop"};
            char line[400];
            std::snprintf(
                line, sizeof line,
                "[%5.1fs %-7s] conns %s/%u fail %llu | pub %s/s | deliv %s/s | p50 %s p99 %s | "
                "lost %llu dup %llu | hb %s/s | srv %s%% %s MiB | me %.0f%%",
                p.t, names[int(ph)], human(double(open)).c_str(), opt.connections,
                static_cast<unsigned long long>(sh.total(&worker_stats::failed) +
                                                sh.total(&worker_stats::dropped)),
                human(p.published_per_s).c_str(), human(p.deliveries_per_s).c_str(),
                ms(p.p50_us).c_str(), ms(p.p99_us).c_str(), static_cast<unsigned long long>(p.lost),
                static_cast<unsigned long long>(sh.total(&worker_stats::duplicated)),
                human(p.heartbeats_per_s).c_str(),
                p.server_cpu_pct < 0 ? "-" : human(p.server_cpu_pct).c_str(),
                opt.server_pid ? std::to_string(p.server_rss_kib / 1024).c_str() : "-",
                p.loadgen_cpu_pct);
            if (tty)
                std::fprintf(stderr, "\r%s\x1b[K", line);
            else
                std::fprintf(stderr, "%s\n", line);
        }
    }
    if (opt.status && tty) std::fputc('\n', stderr);
    stop_publishers.store(true);
    for (auto& t : publishers)
        t.join();

    // Settle: every worker closes its books against the final sequences.
    for (std::uint32_t c = 0; c < opt.channels; ++c)
        sh.final_seq[c].store(sh.sent_seq[c].load(), std::memory_order_release);
    const proc_sample server_end = opt.server_pid ? sample_process(opt.server_pid) : proc_sample{};
    enter(phase::final);
    for (;;) {
        bool all = true;
        for (auto& w : sh.workers)
            all = all && w->settled.load(std::memory_order_acquire);
        if (all) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const std::uint64_t open_end = sh.total(&worker_stats::open);
    enter(phase::stop);
    for (auto& t : workers)
        t.join();
    const std::uint64_t t_end = now_ns();

    // --- totals ---
    histogram lat, conn_all;
    for (auto& w : sh.workers) {
        lat.merge(w->latency_total);
        conn_all.merge(w->connect_total);
    }
    std::string worker_error;
    for (auto& w : sh.workers)
        if (worker_error.empty() && !w->error.empty()) worker_error = w->error;
    const std::uint64_t delivered = sh.total(&worker_stats::delivered);
    const std::uint64_t lost = sh.total(&worker_stats::lost);
    const std::uint64_t dup = sh.total(&worker_stats::duplicated);
    const std::uint64_t ooo = sh.total(&worker_stats::out_of_order);
    const std::uint64_t failed = sh.total(&worker_stats::failed);
    const std::uint64_t dropped = sh.total(&worker_stats::dropped);
    const std::uint64_t published = sh.published.load();
    const std::uint64_t publish_errors = sh.publish_errors.load();
    const std::uint64_t first_pub = sh.first_publish_ns.load();
    const std::uint64_t last_deliv = sh.last_delivery_ns.load();
    const double deliver_span =
        first_pub && last_deliv > first_pub ? double(last_deliv - first_pub) / 1e9 : 0;
    const double deliveries_per_s = deliver_span > 0 ? double(delivered) / deliver_span : 0;
    const double publish_span = first_pub ? double(sh.last_publish_ns.load() - first_pub) / 1e9 : 0;
    const std::uint64_t hb_sent = sh.total(&worker_stats::hb_sent);
    const std::uint64_t hb_ok = sh.total(&worker_stats::hb_ok);
    const std::uint64_t hb_failed = sh.total(&worker_stats::hb_failed);
    const std::uint64_t on_hb = sh.total(&worker_stats::on_heartbeat);
    const std::uint64_t slow = sh.total(&worker_stats::slow);
    const double server_cpu_avg = server_cpu_n ? server_cpu_sum / server_cpu_n : 0;
    const double rss_per_conn =
        opt.server_pid && open_at_connected
            ? double(std::int64_t(server_rss_connected) - std::int64_t(server0.rss_kib)) * 1024 /
                  double(open_at_connected)
            : 0;
    const double rss_per_conn_end =
        opt.server_pid && open_end
            ? double(std::int64_t(server_end.rss_kib) - std::int64_t(server0.rss_kib)) * 1024 /
                  double(open_end)
            : 0;

    // --- verdict ---
    struct check {
        std::string name;
        bool pass;
        std::string detail;
    };
    std::vector<check> checks;
    checks.push_back({"all connections opened", open_at_connected >= opt.connections,
                      std::to_string(open_at_connected) + " of " + std::to_string(opt.connections) +
                          " in " + std::to_string(int(connect_phase_s * 10) / 10.0).substr(0, 5) +
                          " s"});
    checks.push_back({"connection failures and drops", failed + dropped <= opt.max_failures,
                      std::to_string(failed) + " failed, " + std::to_string(dropped) +
                          " dropped by the server (max " + std::to_string(opt.max_failures) + ")" +
                          (worker_error.empty() ? "" : "; first error: " + worker_error)});
    if (publishing) {
        checks.push_back({"no lost, duplicated or reordered frames",
                          lost + dup + ooo <= opt.max_lost,
                          std::to_string(lost) + " lost, " + std::to_string(dup) + " duplicated, " +
                              std::to_string(ooo) + " out of order, of " +
                              std::to_string(delivered + lost) + " expected"});
        checks.push_back({"publishes accepted", publish_errors == 0 && published > 0,
                          std::to_string(published) + " published, " +
                              std::to_string(publish_errors) + " failed" +
                              (sh.publish_error.empty() ? "" : ": " + sh.publish_error)});
    }
    if (opt.flavour == flavour::servicestack && opt.heartbeats)
        checks.push_back({"heartbeats answered", hb_failed == 0,
                          std::to_string(hb_ok) + " ok, " + std::to_string(hb_failed) +
                              " failed, " + std::to_string(on_hb) + " onHeartbeat received"});
    if (!abort_reason.empty()) checks.push_back({"run completed", false, abort_reason});
    bool pass = true;
    for (const check& c : checks)
        pass = pass && c.pass;

    // --- JSON ---
    std::string json;
    {
        proto::json_writer j(json);
        auto q = [](histogram& h, double x) { return double(h.quantile(x)) / 1e3; };
        j.begin_object();
        j.member("tool", "sseload").member("version", "0.1").member("label", opt.label);
        j.member("scenario", name_of(opt.scenario));
        j.key("target").begin_object();
        j.member("kind", name_of(opt.publish)).member("url", opt.url);
        j.member("flavour", name_of(opt.flavour)).member("server_pid", opt.server_pid);
        j.end_object();
        j.member("started_at", started_at).member("duration_s", double(t_end - t0) / 1e9);
        j.key("machine").begin_object();
        j.member("hostname", machine.hostname).member("cpus", machine.cpus);
        j.member("kernel", machine.kernel).member("cpu_model", machine.cpu_model);
        j.end_object();
        j.key("options").begin_object();
        j.member("scenario", name_of(opt.scenario)).member("url", opt.url);
        j.member("flavour", name_of(opt.flavour)).member("path", opt.path);
        j.member("connections", opt.connections).member("connect_rate", opt.connect_rate);
        j.member("connect_inflight", opt.connect_inflight).member("workers", opt.workers);
        j.member("source_ips",
                 ip_string(opt.source_ips.front()) + "-" + ip_string(opt.source_ips.back()));
        j.member("channels", opt.channels).member("channels_per_sub", opt.channels_per_sub);
        j.member("duration", opt.duration_s).member("warmup", opt.warmup_s);
        j.member("drain", opt.drain_s).member("publish", name_of(opt.publish));
        j.member("publish_url", opt.publish_url).member("publish_path", opt.publish_path);
        j.member("rate", opt.rate).member("window", opt.window);
        j.member("publishers", opt.publishers).member("message_size", opt.message_size);
        j.member("publish_pipeline", opt.publish_pipeline);
        j.member("selector", opt.selector).member("heartbeats", opt.heartbeats);
        j.member("heartbeat_interval", opt.heartbeat_interval_s);
        j.member("heartbeat_conns", opt.heartbeat_conns);
        j.member("heartbeat_pipeline", opt.heartbeat_pipeline);
        j.member("churn_share", opt.churn_share).member("slow_share", opt.slow_share);
        j.end_object();
        j.key("connections").begin_object();
        j.member("target", opt.connections).member("open", open_end);
        j.member("open_after_connect", open_at_connected);
        j.member("opened_total", sh.total(&worker_stats::opened_total));
        j.member("failed", failed).member("dropped", dropped);
        j.member("reconnects", sh.total(&worker_stats::reconnects)).member("slow", slow);
        j.member("connect_phase_s", connect_phase_s);
        j.key("connect_ms").begin_object();
        j.member("p50", q(conn_all, 0.5) / 1e3).member("p90", q(conn_all, 0.9) / 1e3);
        j.member("p99", q(conn_all, 0.99) / 1e3).member("max", double(conn_all.max()) / 1e6);
        j.end_object();
        j.end_object();
        j.key("messages").begin_object();
        j.member("published", published).member("publish_errors", publish_errors);
        j.member("expected", delivered + lost).member("delivered", delivered);
        j.member("lost", lost).member("duplicated", dup).member("out_of_order", ooo);
        j.member("other_events", sh.total(&worker_stats::other_events));
        j.member("deliveries_per_s", deliveries_per_s);
        j.member("publish_per_s", publish_span > 0 ? double(published) / publish_span : 0.0);
        j.member("bytes_received", sh.total(&worker_stats::bytes));
        j.end_object();
        j.key("heartbeats").begin_object();
        j.member("sent", hb_sent).member("ok", hb_ok).member("failed", hb_failed);
        j.member("on_heartbeat", on_hb);
        j.end_object();
        j.key("latency_us").begin_object();
        j.member("count", lat.count()).member("mean", lat.mean() / 1e3);
        j.member("p50", q(lat, 0.5)).member("p90", q(lat, 0.9)).member("p99", q(lat, 0.99));
        j.member("p999", q(lat, 0.999)).member("max", double(lat.max()) / 1e3);
        j.end_object();
        j.key("latency_hist").begin_array();
        for (auto [upper, n] : lat.buckets()) {
            j.begin_array().value(double(upper) / 1e3).value(n).end_array();
        }
        j.end_array();
        j.key("server").begin_object();
        if (opt.server_pid) {
            j.member("pid", opt.server_pid).member("cpu_pct_avg", server_cpu_avg);
            j.member("cpu_pct_max", server_cpu_max).member("rss_kib_start", server0.rss_kib);
            j.member("rss_kib_connected", server_rss_connected);
            j.member("rss_kib_peak", server_rss_peak).member("rss_kib_end", server_end.rss_kib);
            j.member("rss_bytes_per_conn", rss_per_conn);
            j.member("rss_bytes_per_conn_end", rss_per_conn_end);
        }
        j.end_object();
        j.key("loadgen").begin_object();
        j.member("cpu_pct_avg", timeline.empty() ? 0.0 : self_cpu_sum / double(timeline.size()));
        j.member("rss_kib_peak", self_rss_peak).member("threads", W + opt.publishers + 1);
        j.end_object();
        j.key("timeline").begin_array();
        for (const point& p : timeline) {
            j.begin_object();
            j.member("t", p.t)
                .member("conns", p.conns)
                .member("published_per_s", p.published_per_s);
            j.member("deliveries_per_s", p.deliveries_per_s).member("p50_us", p.p50_us);
            j.member("p99_us", p.p99_us).member("max_us", p.max_us);
            if (p.server_cpu_pct >= 0) {
                j.member("server_cpu_pct", p.server_cpu_pct);
                j.member("server_rss_kib", p.server_rss_kib);
            }
            j.member("loadgen_cpu_pct", p.loadgen_cpu_pct).member("lost", p.lost);
            j.member("heartbeats_per_s", p.heartbeats_per_s);
            j.end_object();
        }
        j.end_array();
        j.key("verdict").begin_object();
        j.member("pass", pass);
        j.key("checks").begin_array();
        for (const check& c : checks) {
            j.begin_object().member("name", c.name).member("pass", c.pass);
            j.member("detail", c.detail).end_object();
        }
        j.end_array();
        j.end_object();
        j.end_object();
    }
    if (!opt.json_path.empty()) {
        std::ofstream f(opt.json_path);
        f << json << '\n';
        if (!f) std::fprintf(stderr, "sseload: cannot write %s\n", opt.json_path.c_str());
    }
    if (!opt.html_path.empty()) {
        std::ofstream f(opt.html_path);
        f << render_html_report({json},
                                "sseload " + std::string(name_of(opt.scenario)) + ": " + opt.label);
        if (!f) std::fprintf(stderr, "sseload: cannot write %s\n", opt.html_path.c_str());
    }

    // --- summary ---
    std::printf("sseload %s against %s (%s)\n", name_of(opt.scenario), opt.url.c_str(),
                opt.label.c_str());
    std::printf(
        "  connections  %llu of %u open after %.1f s (connect p50 %.2f ms, p99 %.2f ms), "
        "%llu failed, %llu dropped, %llu reconnects, %llu slow\n",
        static_cast<unsigned long long>(open_at_connected), opt.connections, connect_phase_s,
        double(conn_all.quantile(0.5)) / 1e6, double(conn_all.quantile(0.99)) / 1e6,
        static_cast<unsigned long long>(failed), static_cast<unsigned long long>(dropped),
        static_cast<unsigned long long>(sh.total(&worker_stats::reconnects)),
        static_cast<unsigned long long>(slow));
    if (publishing) {
        std::printf(
            "  messages     %llu published (%llu errors), %llu delivered, %.0f deliveries/s\n",
            static_cast<unsigned long long>(published),
            static_cast<unsigned long long>(publish_errors),
            static_cast<unsigned long long>(delivered), deliveries_per_s);
        std::printf("  integrity    %llu lost, %llu duplicated, %llu out of order\n",
                    static_cast<unsigned long long>(lost), static_cast<unsigned long long>(dup),
                    static_cast<unsigned long long>(ooo));
        std::printf("  latency      p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
                    ms(double(lat.quantile(0.5)) / 1e3).c_str(),
                    ms(double(lat.quantile(0.9)) / 1e3).c_str(),
                    ms(double(lat.quantile(0.99)) / 1e3).c_str(),
                    ms(double(lat.quantile(0.999)) / 1e3).c_str(),
                    ms(double(lat.max()) / 1e3).c_str());
    }
    if (opt.flavour == flavour::servicestack && opt.heartbeats)
        std::printf(
            "  heartbeats   %llu sent, %llu ok, %llu failed, %llu onHeartbeat\n",
            static_cast<unsigned long long>(hb_sent), static_cast<unsigned long long>(hb_ok),
            static_cast<unsigned long long>(hb_failed), static_cast<unsigned long long>(on_hb));
    if (opt.server_pid)
        std::printf(
            "  server       cpu avg %.0f%% max %.0f%%, rss %llu -> %llu KiB (peak %llu), "
            "%.0f B per connection\n",
            server_cpu_avg, server_cpu_max, static_cast<unsigned long long>(server0.rss_kib),
            static_cast<unsigned long long>(server_end.rss_kib),
            static_cast<unsigned long long>(server_rss_peak), rss_per_conn);
    std::printf("  verdict      %s\n", pass ? "PASS" : "FAIL");
    for (const check& c : checks)
        std::printf("    [%s] %s: %s\n", c.pass ? "ok" : "FAIL", c.name.c_str(), c.detail.c_str());
    return pass ? 0 : 1;
}
