#pragma once
// Reads a process's CPU time and resident memory from /proc.
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace ssepush::sseload {

struct proc_sample {
    bool ok = false;
    double cpu_s = 0;           // user + system time so far
    std::uint64_t rss_kib = 0;  // VmRSS
};

// The process and its direct children (a master and its workers), summed.
proc_sample sample_process(pid_t pid);

struct machine_info {
    std::string hostname, kernel, cpu_model;
    unsigned cpus = 0;
};
machine_info describe_machine();

}  // namespace ssepush::sseload
