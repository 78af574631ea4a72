#include "sampler.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace ssepush::sseload {

namespace {

proc_sample sample_one(pid_t pid) {
    proc_sample s;
    const std::string base = "/proc/" + std::to_string(pid);
    std::ifstream stat(base + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return s;
    // Fields after the command name (which may hold spaces) start past the last ')'.
    std::size_t close = line.rfind(')');
    if (close == std::string::npos) return s;
    std::istringstream in(line.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    const double hz = double(sysconf(_SC_CLK_TCK));
    s.cpu_s = double(utime + stime) / hz;
    std::ifstream status(base + "/status");
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            s.rss_kib = std::stoull(line.substr(6));
            break;
        }
    }
    s.ok = true;
    return s;
}

}  // namespace

proc_sample sample_process(pid_t pid) {
    proc_sample total = sample_one(pid);
    if (!total.ok) return total;
    // Add the direct children (nginx's workers under its master, for one).
    std::ifstream children("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) +
                           "/children");
    pid_t child;
    while (children >> child) {
        proc_sample c = sample_one(child);
        if (!c.ok) continue;
        total.cpu_s += c.cpu_s;
        total.rss_kib += c.rss_kib;
    }
    return total;
}

machine_info describe_machine() {
    machine_info m;
    utsname u{};
    if (uname(&u) == 0) {
        m.hostname = u.nodename;
        m.kernel = u.release;
    }
    m.cpus = std::thread::hardware_concurrency();
    std::ifstream cpu("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpu, line)) {
        if (line.rfind("model name", 0) == 0) {
            std::size_t colon = line.find(':');
            if (colon != std::string::npos) m.cpu_model = line.substr(colon + 2);
            break;
        }
    }
    return m;
}

}  // namespace ssepush::sseload
