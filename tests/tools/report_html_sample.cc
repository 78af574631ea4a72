// Writes sample sseload HTML reports for the browser test
// (tests/browser/test/report.test.mjs), without sseload:
//
//   report_html_sample <two-runs.html> <sparse.html> [three-runs.html]
//
// two-runs:   ssepushd and nchan on the same broadcast scenario (10,000 connections,
//             100 messages/s, a 60-point timeline); nchan has a latency spike, lost
//             frames and a failed check; an option holds "</script>" and "<!--".
// sparse:     one run with most fields missing, some null or of the wrong type.
// three-runs: the ssepushd run, an hour-long run (3,600 timeline points) and a
//             result file cut short (not valid JSON).
//
// The data is synthetic but shaped like a real run; a fixed seed makes it the same
// on every run.
#include "report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

// The option value that must stay data: it would end a naive script element.
constexpr const char* k_hostile_note = "</script><script>window.__pwned = 1</script><!-- x";

// ---- a tiny JSON writer (the values here need no escaping beyond quotes)
std::string num(double v) {
    char buf[64];
    if (std::abs(v) < 1e15 && v == std::floor(v))
        std::snprintf(buf, sizeof buf, "%.0f", v);
    else
        std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

// 1234567 -> "1,234,567" (whole numbers).
std::string with_commas(double v) {
    std::string digits = num(std::round(v)), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

class object_writer {
public:
    object_writer& field(const std::string& key, double v) { return raw(key, num(v)); }
    object_writer& field(const std::string& key, int v) { return raw(key, num(v)); }
    object_writer& field(const std::string& key, bool v) { return raw(key, v ? "true" : "false"); }
    object_writer& field(const std::string& key, const char* v) { return raw(key, quote(v)); }
    object_writer& field(const std::string& key, const std::string& v) {
        return raw(key, quote(v));
    }
    object_writer& raw(const std::string& key, const std::string& json) {
        if (!body_.empty()) body_ += ',';
        body_ += quote(key) + ':' + json;
        return *this;
    }
    std::string str() const { return '{' + body_ + '}'; }

private:
    std::string body_;
};

// ---- the shape of a run
struct profile {
    std::string label;
    std::string kind;
    std::string url;
    std::string flavour;
    int pid = 0;
    std::string started_at;
    int seconds = 60;
    int connections = 10000;
    double publish_per_s = 100;
    double p50_us = 700;        // median latency
    double sigma = 0.45;        // its lognormal spread
    double tail_share = 0.02;   // a slower mode
    double tail_p50_us = 2500;  // and its median
    double spike_at_s = -1;     // a stall (seconds since start), or none
    double spike_us = 0;
    int lost = 0;
    double server_cpu_idle = 8, server_cpu_full = 95;
    double rss_start_kib = 4200, rss_kib_per_conn = 0.9;
    bool heartbeats = true;
    std::uint32_t seed = 1;
};

double lognormal_cdf(double x, double median, double sigma) {
    if (x <= 0) return 0;
    return 0.5 * std::erfc(-std::log(x / median) / (sigma * std::sqrt(2.0)));
}

struct histogram {
    std::vector<std::pair<double, double>> buckets;  // upper bound (us), count
    double total = 0;

    double percentile(double q) const {
        double cum = 0;
        for (const auto& [ub, c] : buckets) {
            cum += c;
            if (cum >= q * total) return ub;
        }
        return buckets.empty() ? 0 : buckets.back().first;
    }
    double mean() const {
        double sum = 0, lower = 0;
        for (const auto& [ub, c] : buckets) {
            sum += c * (lower + ub) / 2;
            lower = ub;
        }
        return total > 0 ? sum / total : 0;
    }
};

// Log buckets (4 per power of two, from 10 us), non-empty ones only.
histogram make_histogram(const profile& p, double count) {
    histogram h;
    const double spike_share = p.spike_at_s >= 0 ? 0.002 : 0;
    auto cdf = [&](double x) {
        return (1 - p.tail_share - spike_share) * lognormal_cdf(x, p.p50_us, p.sigma) +
               p.tail_share * lognormal_cdf(x, p.tail_p50_us, p.sigma * 1.3) +
               spike_share * lognormal_cdf(x, p.spike_us, 0.4);
    };
    double lower = 0;
    for (int i = 0; i < 120; ++i) {
        const double ub = std::round(10 * std::pow(2.0, i / 4.0));
        const double c = std::round(count * (cdf(ub) - cdf(lower)));
        if (c > 0) {
            h.buckets.emplace_back(ub, c);
            h.total += c;
        }
        lower = ub;
    }
    // Rounding aside, every delivered frame is in a bucket.
    if (!h.buckets.empty()) {
        auto& fullest = *std::max_element(h.buckets.begin(), h.buckets.end(),
                                          [](auto& a, auto& b) { return a.second < b.second; });
        fullest.second += count - h.total;
        h.total = count;
    }
    return h;
}

std::string make_run(const profile& p) {
    std::mt19937 rng(p.seed);
    auto noise = [&](double amplitude) {  // uniform in [-amplitude, amplitude]
        return amplitude * (2.0 * double(rng()) / 4294967295.0 - 1.0);
    };
    const double ramp_s = 10;
    std::string timeline = "[";
    double delivered = 0, published = 0, cpu_sum = 0, cpu_max = 0, lg_cpu_sum = 0;
    double rss_peak = p.rss_start_kib, rss_end = p.rss_start_kib, max_us = 0;
    for (int i = 1; i <= p.seconds; ++i) {
        const double t = i;
        const double conns =
            std::min<double>(p.connections, std::round(p.connections * t / ramp_s));
        const double load = conns / p.connections;
        const double pub = std::round(p.publish_per_s * (1 + noise(0.02)));
        const double dps = std::round(conns * pub * (1 + noise(0.01)));
        const bool spike = p.spike_at_s >= 0 && std::abs(t - p.spike_at_s) <= 1.0;
        const double p50 = std::round(p.p50_us * (0.9 + 0.2 * load + noise(0.06)));
        double p99 = std::round(p.tail_p50_us * (1.05 + 0.3 * load + noise(0.12)));
        if (spike) p99 = std::round(p.spike_us * (1 + noise(0.2)));
        const double mx = std::round(p99 * (1.6 + noise(0.3)));
        const double cpu = p.server_cpu_idle + (p.server_cpu_full - p.server_cpu_idle) * load +
                           noise(4) + (spike ? 35 : 0);
        const double rss =
            std::round(p.rss_start_kib + p.rss_kib_per_conn * conns + 400 * load + noise(60));
        const double lg_cpu = 6 + 32 * load + noise(2);
        const int lost = spike && t == p.spike_at_s ? p.lost : 0;
        object_writer pt;
        pt.field("t", t)
            .field("conns", conns)
            .field("published_per_s", pub)
            .field("deliveries_per_s", dps)
            .field("p50_us", p50)
            .field("p99_us", p99)
            .field("max_us", mx)
            .field("server_cpu_pct", std::round(cpu * 10) / 10)
            .field("server_rss_kib", rss)
            .field("loadgen_cpu_pct", std::round(lg_cpu * 10) / 10)
            .field("lost", lost)
            .field("heartbeats_per_s", p.heartbeats ? std::round(conns / 10) : 0.0);
        if (i > 1) timeline += ',';
        timeline += pt.str();
        delivered += dps;
        published += pub;
        cpu_sum += cpu;
        cpu_max = std::max(cpu_max, cpu);
        lg_cpu_sum += lg_cpu;
        rss_peak = std::max(rss_peak, rss);
        rss_end = rss;
        max_us = std::max(max_us, mx);
    }
    timeline += "]";
    delivered -= p.lost;
    const double expected = delivered + p.lost;
    const auto hist = make_histogram(p, delivered);
    if (!hist.buckets.empty()) max_us = std::max(max_us, hist.buckets.back().first);
    std::string hist_json = "[";
    for (std::size_t i = 0; i < hist.buckets.size(); ++i) {
        if (i) hist_json += ',';
        hist_json += '[' + num(hist.buckets[i].first) + ',' + num(hist.buckets[i].second) + ']';
    }
    hist_json += "]";
    const double n = p.seconds;
    const double beats = p.heartbeats ? std::round(p.connections * (n - ramp_s / 2) / 10) : 0;

    object_writer options;
    options.field("scenario", "broadcast")
        .field("url", p.url)
        .field("connections", p.connections)
        .field("ramp", "10s")
        .field("duration", std::to_string(p.seconds) + "s")
        .field("publish_rate", p.publish_per_s)
        .field("payload_bytes", 256)
        .field("channels", 1)
        .field("threads", 6)
        .field("flavour", p.flavour)
        .field("heartbeat_check", p.heartbeats)
        .field("connect_timeout_ms", 5000)
        .field("note", k_hostile_note)
        .field("out", "results/" + p.label + ".json");

    object_writer checks_pass, checks_lost, checks_p99;
    checks_pass.field("name", "all connections open")
        .field("pass", true)
        .field("detail", std::to_string(p.connections) + " of " + std::to_string(p.connections));
    checks_lost.field("name", "zero lost frames")
        .field("pass", p.lost == 0)
        .field("detail", std::to_string(p.lost) + " lost");
    const double p99_all = hist.percentile(0.99);
    checks_p99.field("name", "p99 latency under 10 ms")
        .field("pass", p99_all < 10000)
        .field("detail", "p99 " + with_commas(p99_all) + " \u00b5s");
    const bool pass = p.lost == 0 && p99_all < 10000;

    object_writer run;
    run.field("tool", "sseload")
        .field("version", "0.1")
        .field("label", p.label)
        .field("scenario", "broadcast")
        .raw("target", object_writer()
                           .field("kind", p.kind)
                           .field("url", p.url)
                           .field("flavour", p.flavour)
                           .field("server_pid", p.pid)
                           .str())
        .field("started_at", p.started_at)
        .field("duration_s", n)
        .raw("machine", object_writer()
                            .field("hostname", "bench-01")
                            .field("cpus", 2)
                            .field("kernel", "6.18.44")
                            .field("cpu_model", "AMD EPYC 9454P 48-Core Processor")
                            .str())
        .raw("options", options.str())
        .raw("connections", object_writer()
                                .field("target", p.connections)
                                .field("open", p.connections)
                                .field("opened_total", p.connections)
                                .field("failed", 0)
                                .field("reconnects", 0)
                                .raw("connect_ms", object_writer()
                                                       .field("p50", p.p50_us / 600)
                                                       .field("p90", p.p50_us / 350)
                                                       .field("p99", p.p50_us / 140)
                                                       .field("max", p.p50_us / 80)
                                                       .str())
                                .str())
        .raw("messages", object_writer()
                             .field("published", published)
                             .field("publish_errors", 0)
                             .field("expected", expected)
                             .field("delivered", delivered)
                             .field("lost", p.lost)
                             .field("duplicated", 0)
                             .field("out_of_order", 0)
                             .field("deliveries_per_s", std::round(delivered / n * 10) / 10)
                             .field("publish_per_s", std::round(published / n * 10) / 10)
                             .str())
        .raw("heartbeats", object_writer()
                               .field("sent", beats)
                               .field("ok", beats)
                               .field("failed", 0)
                               .field("on_heartbeat", beats)
                               .str())
        .raw("latency_us", object_writer()
                               .field("count", hist.total)
                               .field("mean", std::round(hist.mean() * 10) / 10)
                               .field("p50", hist.percentile(0.5))
                               .field("p90", hist.percentile(0.9))
                               .field("p99", p99_all)
                               .field("p999", hist.percentile(0.999))
                               .field("max", max_us)
                               .str())
        .raw("latency_hist", hist_json)
        .raw("server", object_writer()
                           .field("pid", p.pid)
                           .field("cpu_pct_avg", std::round(cpu_sum / n * 10) / 10)
                           .field("cpu_pct_max", std::round(cpu_max * 10) / 10)
                           .field("rss_kib_start", p.rss_start_kib)
                           .field("rss_kib_peak", rss_peak)
                           .field("rss_kib_end", rss_end)
                           .field("rss_bytes_per_conn",
                                  std::round((rss_peak - p.rss_start_kib) * 1024 / p.connections))
                           .str())
        .raw("loadgen", object_writer()
                            .field("cpu_pct_avg", std::round(lg_cpu_sum / n * 10) / 10)
                            .field("rss_kib_peak", 51200)
                            .field("threads", 6)
                            .str())
        .raw("timeline", timeline)
        .raw("verdict", object_writer()
                            .field("pass", pass)
                            .raw("checks", "[" + checks_pass.str() + "," + checks_lost.str() + "," +
                                               checks_p99.str() + "]")
                            .str());
    return run.str();
}

profile ssepushd_profile() {
    profile p;
    p.label = "ssepushd";
    p.kind = "ssepushd";
    p.url = "http://127.0.0.1:8080";
    p.flavour = "servicestack";
    p.pid = 4242;
    p.started_at = "2026-11-28T07:00:00Z";
    p.seed = 7;
    return p;
}

profile nchan_profile() {
    profile p;
    p.label = "nchan";
    p.kind = "nchan";
    p.url = "http://127.0.0.1:8081/sub/broadcast";
    p.flavour = "nchan";
    p.pid = 5151;
    p.started_at = "2026-11-28T07:05:00Z";
    p.p50_us = 1900;
    p.sigma = 0.6;
    p.tail_share = 0.04;
    p.tail_p50_us = 9000;
    p.spike_at_s = 38;
    p.spike_us = 160000;
    p.lost = 12;
    p.server_cpu_idle = 12;
    p.server_cpu_full = 165;
    p.rss_start_kib = 12800;
    p.rss_kib_per_conn = 5.8;
    p.heartbeats = false;
    p.seed = 11;
    return p;
}

// Most fields missing; some null, some of the wrong type; a few timeline points.
const char* const k_sparse_run = R"({
  "tool": "sseload", "label": "sparse", "scenario": "idle",
  "target": {"url": "http://127.0.0.1:9999"},
  "connections": {"target": 100, "open": null, "connect_ms": "n/a"},
  "messages": {},
  "latency_us": "n/a",
  "latency_hist": [],
  "server": null,
  "timeline": [{"t": 1, "conns": 40}, {"t": 2, "conns": 100}, {"t": 3}, null, 7,
               {"t": "4", "conns": 100}, {"t": 5, "conns": 100, "p50_us": null}],
  "verdict": {"checks": [{"name": "connections opened"}, null, {"pass": true}]},
  "options": {"connections": 100, "nested": {"a": [1, 2]}}
})";

bool write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) std::cerr << "report_html_sample: cannot write " << path << "\n";
    return bool(out);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4) {
        std::cerr << "usage: report_html_sample <two-runs.html> <sparse.html> [three-runs.html]\n";
        return 2;
    }
    using ssepush::sseload::render_html_report;
    const std::string ssepushd = make_run(ssepushd_profile());
    const std::string nchan = make_run(nchan_profile());
    bool ok = write_file(argv[1], render_html_report({ssepushd, nchan},
                                                     "sseload broadcast: ssepushd vs nchan "
                                                     "<10k connections & 100 msg/s>"));
    ok = write_file(argv[2], render_html_report({k_sparse_run}, "sseload: a sparse result")) && ok;
    if (argc == 4) {
        profile hour = ssepushd_profile();
        hour.label = "ssepushd 1h";
        hour.seconds = 3600;
        hour.started_at = "2026-11-28T08:00:00Z";
        hour.seed = 99;
        std::string cut = make_run(nchan_profile());
        cut.resize(cut.size() / 3);  // a result file cut short
        ok = write_file(argv[3], render_html_report({ssepushd, make_run(hour), cut},
                                                    "sseload: three runs")) &&
             ok;
    }
    return ok ? 0 : 1;
}
