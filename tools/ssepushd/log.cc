#include "log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <system_error>

namespace ssepushd {

namespace {

const char* name_of(log_level l) {
    switch (l) {
        case log_level::error:
            return "error";
        case log_level::warn:
            return "warn ";
        case log_level::info:
            return "info ";
        case log_level::debug:
            return "debug";
    }
    return "?    ";
}

int open_file(const std::string& file) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) throw std::system_error(errno, std::system_category(), "open log file " + file);
    return fd;
}

}  // namespace

logger& log() {
    static logger instance;
    return instance;
}

logger::~logger() {
    int fd = fd_.load();
    if (fd > 2) ::close(fd);
}

void logger::open(log_level level, const std::string& file) {
    level_.store(std::uint8_t(level));
    file_ = file;
    if (!file.empty()) fd_.store(open_file(file));
}

void logger::reopen() {
    if (file_.empty()) return;
    int fd = -1;
    try {
        fd = open_file(file_);
    } catch (const std::system_error& e) {
        write(log_level::error, "cannot reopen the log: %s", e.what());
        return;
    }
    int old = fd_.exchange(fd);
    if (old > 2) ::close(old);
    write(log_level::info, "log reopened");
}

void logger::write(log_level l, const char* fmt, ...) noexcept {
    va_list ap;
    va_start(ap, fmt);
    vwrite(l, fmt, ap);
    va_end(ap);
}

void logger::vwrite(log_level l, const char* fmt, va_list ap) noexcept {
    char line[2048];
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm t{};
    gmtime_r(&ts.tv_sec, &t);
    int n = std::snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
                          t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                          ts.tv_nsec / 1'000'000, name_of(l));
    int m = std::vsnprintf(line + n, sizeof line - std::size_t(n) - 1, fmt, ap);
    std::size_t len =
        std::size_t(n) +
        (m < 0 ? 0 : std::min<std::size_t>(std::size_t(m), sizeof line - std::size_t(n) - 2));
    // One event, one line: no line breaks inside.
    for (std::size_t i = std::size_t(n); i < len; ++i)
        if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
    line[len++] = '\n';
    const int fd = fd_.load(std::memory_order_relaxed);
    ssize_t w = ::write(fd, line, len);
    (void)w;
}

}  // namespace ssepushd
