#pragma once
// sseload's command line: one table gives every option its parser, its
// default and its line in --help.
#include <cstdint>
#include <string>
#include <vector>

namespace ssepush::sseload {

enum class scenario : std::uint8_t { idle, broadcast, channels, churn, slow };
enum class flavour : std::uint8_t { servicestack, plain };
enum class publisher_kind : std::uint8_t { none, ssepushd, nchan, pushpin, post };

struct endpoint {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::string base_path;  // path prefix from the URL, without a trailing '/'
};

struct options {
    sseload::scenario scenario = scenario::broadcast;
    sseload::flavour flavour = flavour::servicestack;
    std::string url = "http://127.0.0.1:8080";
    endpoint target;
    // Every --url given (target is the first): worker w opens its streams on
    // targets[w % size], e.g. several nodes of one cluster.
    std::vector<endpoint> targets;
    std::string path;  // request path template; {channels} {channel} {i} are filled in
    std::vector<std::string> headers;
    std::uint32_t connections = 1000;
    double connect_rate = 5000;             // new connections per second, all workers
    std::uint32_t connect_inflight = 512;   // connects in flight per worker
    std::uint32_t workers = 0;              // 0: enough rings for the connections, >= 2
    std::vector<std::uint32_t> source_ips;  // host byte order
    std::uint32_t channels = 1;
    std::uint32_t channels_per_sub = 1;
    std::string channel_prefix = "ch";
    double duration_s = 10;
    double warmup_s = 1;
    double drain_s = 10;
    double connect_timeout_s = 0;  // 0: connections / connect_rate + 30 s
    // publishing
    publisher_kind publish = publisher_kind::ssepushd;
    bool publish_set = false;
    std::string publish_url;  // default: --url
    endpoint publish_target;
    std::string publish_path;  // template with {channel}
    std::string publish_key;
    std::string selector = "cmd.bench";
    double rate = 100;  // messages per second, all channels; 0 = as fast as the window allows
    std::uint32_t window = 4;  // rate 0: messages in flight (published, not yet delivered)
    std::uint32_t publishers = 1;
    std::uint32_t publish_pipeline = 1;  // requests in flight per publisher connection
    std::uint32_t message_size = 64;
    // ServiceStack heartbeats
    bool heartbeats = true;
    double heartbeat_interval_s = 0;        // 0: what onConnect announces
    std::uint32_t heartbeat_conns = 0;      // keep-alive connections per worker; 0: auto
    std::uint32_t heartbeat_pipeline = 32;  // heartbeats in flight per connection
    // scenarios
    double churn_share = 0.05;  // of connections reconnecting each second
    double slow_share = 0.01;   // of subscribers that stop reading
    // measurement and output
    int server_pid = 0;
    std::string label;
    std::string json_path;
    std::string html_path;
    bool status = true;
    double status_interval_s = 1;
    std::uint64_t max_lost = 0;
    std::uint64_t max_failures = 0;
    double timeout_s = 0;  // hard bound on the whole run; 0: derived
};

// Parses argv. On --help prints the help and exits 0; on a bad option prints
// "sseload: <option>: <problem>" and exits 2.
options parse_options(int argc, char** argv);
std::string help_text();
const char* name_of(scenario s);
const char* name_of(flavour f);
const char* name_of(publisher_kind p);
std::string ip_string(std::uint32_t ip);

}  // namespace ssepush::sseload
