#pragma once
// ssepushd's log: one line per event, to stderr or a file, filtered by level.
//
//   2026-11-28T05:30:01.123Z info  listening on http://127.0.0.1:8080/ shards=2
//
// A line is formatted on the calling thread and written with one write(2), so
// lines from different shards never interleave. reopen() (on SIGHUP) opens the
// file again, for log rotation. Thread-safe.
#include <atomic>
#include <cstdarg>
#include <string>

#include "config.h"

namespace ssepushd {

class logger {
public:
    // Opens `file` for appending (empty: stderr). Throws std::system_error.
    void open(log_level level, const std::string& file);
    void reopen();
    [[nodiscard]] bool enabled(log_level l) const noexcept {
        return std::uint8_t(l) <= level_.load(std::memory_order_relaxed);
    }
    void write(log_level l, const char* fmt, ...) noexcept __attribute__((format(printf, 3, 4)));
    ~logger();

private:
    void vwrite(log_level l, const char* fmt, va_list ap) noexcept;
    std::atomic<std::uint8_t> level_{std::uint8_t(log_level::info)};
    std::atomic<int> fd_{2};
    std::string file_;
};

logger& log();

}  // namespace ssepushd

#define SSEPUSHD_LOG(level, ...)                                                \
    do {                                                                        \
        if (::ssepushd::log().enabled(::ssepushd::log_level::level))            \
            ::ssepushd::log().write(::ssepushd::log_level::level, __VA_ARGS__); \
    } while (0)
