#pragma once
// A ServiceStack Server Events client for integration tests: opens a stream,
// splits frames, and parses each data line the way the ServiceStack clients do
// ("[channel@]op.target body"). Every wait has a deadline.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/test_client.h"

namespace ssepush::testing {

// A flat JSON object (the bodies of system messages): key -> value text
// (strings unescaped for the simple escapes the server writes).
using flat_json = std::map<std::string, std::string>;

inline flat_json parse_flat_json(std::string_view s) {
    flat_json out;
    std::size_t i = s.find('{');
    if (i == std::string_view::npos) return out;
    ++i;
    auto skip_ws = [&] {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\n'))
            ++i;
    };
    auto read_string = [&]() -> std::string {
        std::string v;
        ++i;  // opening quote
        while (i < s.size() && s[i] != '"') {
            if (s[i] == '\\' && i + 1 < s.size()) {
                ++i;
                switch (s[i]) {
                    case 'n':
                        v.push_back('\n');
                        break;
                    case 't':
                        v.push_back('\t');
                        break;
                    case 'r':
                        v.push_back('\r');
                        break;
                    default:
                        v.push_back(s[i]);
                }
            } else {
                v.push_back(s[i]);
            }
            ++i;
        }
        ++i;  // closing quote
        return v;
    };
    for (;;) {
        skip_ws();
        if (i >= s.size() || s[i] == '}') break;
        if (s[i] == ',') {
            ++i;
            continue;
        }
        if (s[i] != '"') break;
        std::string key = read_string();
        skip_ws();
        if (i < s.size() && s[i] == ':') ++i;
        skip_ws();
        if (i < s.size() && s[i] == '"') {
            out[key] = read_string();
        } else {
            std::size_t start = i;
            int depth = 0;
            while (i < s.size() && (depth > 0 || (s[i] != ',' && s[i] != '}'))) {
                if (s[i] == '{' || s[i] == '[') ++depth;
                if (s[i] == '}' || s[i] == ']') --depth;
                ++i;
            }
            out[key] = std::string(s.substr(start, i - start));
        }
    }
    return out;
}

struct ss_frame {
    std::string id;
    std::string data;     // the whole data line
    std::string channel;  // before '@', empty if none
    bool has_channel = false;
    std::string selector;  // without the channel
    std::string body;      // after the first space
    [[nodiscard]] flat_json json() const { return parse_flat_json(body); }
};

inline ss_frame parse_ss_frame(std::string id, std::string data) {
    ss_frame f;
    f.id = std::move(id);
    f.data = std::move(data);
    std::string_view d = f.data;
    std::size_t sp = d.find(' ');
    std::string_view sel = d.substr(0, sp);
    f.body = sp == std::string_view::npos ? "" : std::string(d.substr(sp + 1));
    std::size_t at = sel.find('@');
    if (at != std::string_view::npos) {
        f.has_channel = true;
        f.channel = std::string(sel.substr(0, at));
        sel = sel.substr(at + 1);
    }
    f.selector = std::string(sel);
    return f;
}

class sse_client {
public:
    // Opens `GET <path>?<query>`; `headers` are extra raw lines.
    explicit sse_client(std::uint16_t port, std::string query = "channels=home",
                        const char* src_ip = nullptr, std::string headers = {},
                        std::string path = "/event-stream")
        : c_(port, src_ip) {
        c_.send("GET " + path + (query.empty() ? "" : "?" + query) +
                " HTTP/1.1\r\nHost: test.local:" + std::to_string(port) +
                "\r\nAccept: text/event-stream\r\n" + headers + "\r\n");
        auto end = c_.read_until("\r\n\r\n");
        if (!end) return;
        head_ = c_.buffered().substr(0, *end);
        c_.buffered().erase(0, *end);
        status_ = std::atoi(head_.substr(9, 3).c_str());
        chunked_ = head_.find("Transfer-Encoding: chunked") != std::string::npos;
        if (status_ != 200) {
            // Not a stream: keep the body for the test to look at.
            if (auto pos = head_.find("Content-Length: "); pos != std::string::npos) {
                std::size_t len = std::strtoull(head_.c_str() + pos + 16, nullptr, 10);
                c_.read_at_least(len);
                error_body_ = c_.buffered().substr(0, len);
            }
        }
    }

    [[nodiscard]] int status() const { return status_; }
    [[nodiscard]] const std::string& head() const { return head_; }
    [[nodiscard]] const std::string& error_body() const { return error_body_; }
    test_client& socket() { return c_; }

    // The next frame, or nullopt at the deadline / end of stream. Bare "\n"
    // no-op events are returned with empty data.
    std::optional<ss_frame> next(ms timeout = ms(5000)) {
        auto deadline = clock_type::now() + timeout;
        for (;;) {
            if (!pending_.empty()) {
                ss_frame f = std::move(pending_.front());
                pending_.erase(pending_.begin());
                return f;
            }
            if (!c_.buffered().empty()) {
                reader_.feed(c_.buffered(), chunked_);
                c_.buffered().clear();
                while (consumed_ < reader_.events().size()) {
                    auto& e = reader_.events()[consumed_++];
                    pending_.push_back(parse_ss_frame(e.id, e.data));
                }
                if (!pending_.empty()) continue;
            }
            if (c_.eof()) return std::nullopt;
            auto left = std::chrono::duration_cast<ms>(deadline - clock_type::now());
            if (left.count() <= 0) return std::nullopt;
            c_.read_some(left);
        }
    }

    // The next frame with this selector (ignoring the channel); frames skipped
    // on the way are kept in skipped().
    std::optional<ss_frame> wait_for(std::string_view selector, ms timeout = ms(5000)) {
        auto deadline = clock_type::now() + timeout;
        for (;;) {
            auto left = std::chrono::duration_cast<ms>(deadline - clock_type::now());
            if (left.count() <= 0) return std::nullopt;
            auto f = next(left);
            if (!f) return std::nullopt;
            if (f->selector == selector) return f;
            skipped_.push_back(std::move(*f));
        }
    }

    // Reads cmd.onConnect (must be the first frame) and remembers its fields.
    bool connect() {
        auto f = next();
        if (!f || f->selector != "cmd.onConnect") return false;
        info_ = f->json();
        return true;
    }
    [[nodiscard]] const flat_json& info() const { return info_; }
    [[nodiscard]] std::string id() const {
        auto it = info_.find("id");
        return it == info_.end() ? std::string() : it->second;
    }
    std::vector<ss_frame>& skipped() { return skipped_; }
    bool ended(ms timeout = ms(5000)) { return c_.wait_closed(timeout); }

private:
    test_client c_;
    std::string head_;
    std::string error_body_;
    int status_ = 0;
    bool chunked_ = false;
    sse_reader reader_;
    std::size_t consumed_ = 0;
    std::vector<ss_frame> pending_;
    std::vector<ss_frame> skipped_;
    flat_json info_;
};

}  // namespace ssepush::testing
