#include "ssepush/proto/redis_topic.h"

#include "ssepush/proto/json.h"

namespace ssepush::proto {

namespace {

struct notify_name {
    std::string_view name;
    topic_kind kind;
};
constexpr notify_name k_notify[] = {
    {"channel", topic_kind::notify_channel}, {"subscription", topic_kind::notify_subscription},
    {"userid", topic_kind::notify_user_id},  {"username", topic_kind::notify_user_name},
    {"session", topic_kind::notify_session},
};
constexpr notify_name k_commands[] = {
    {"subscribe", topic_kind::subscribe},
    {"unsubscribe", topic_kind::unsubscribe},
    {"unregister", topic_kind::unregister},
    {"pulse", topic_kind::pulse},
};

// Splits `s` once at the first `c`: head before it, tail after it (empty when absent).
std::string_view split_once(std::string_view s, char c, std::string_view& tail) noexcept {
    const std::size_t at = s.find(c);
    if (at == std::string_view::npos) {
        tail = {};
        return s;
    }
    tail = s.substr(at + 1);
    return s.substr(0, at);
}

std::string_view notify_token(topic_kind k) noexcept {
    for (const notify_name& n : k_notify)
        if (n.kind == k) return n.name;
    return {};
}

std::string_view command_token(topic_kind k) noexcept {
    for (const notify_name& n : k_commands)
        if (n.kind == k) return n.name;
    return {};
}

}  // namespace

topic_message parse_topic_message(std::string_view msg) noexcept {
    topic_message m;
    if (msg.empty() || msg.substr(0, msg.find(':')) == "CTRL") {
        m.kind = topic_kind::control;
        return m;
    }
    std::string_view rest;
    const std::string_view key = split_once(msg, ' ', rest);
    std::string_view after_first;
    const std::string_view first = split_once(key, '.', after_first);
    if (first == "notify") {
        std::string_view who;
        const std::string_view second = split_once(after_first, '.', who);
        if (second == "all" && who.empty() && after_first == "all") {
            m.kind = topic_kind::notify_all;
        } else {
            for (const notify_name& n : k_notify)
                if (second == n.name) m.kind = n.kind;
            if (m.kind == topic_kind::unknown || who.empty()) return topic_message{};
            m.who = who;
        }
        std::string_view json;
        const std::string_view selector_part = split_once(rest, ' ', json);
        std::string_view channel;
        m.selector = split_once(selector_part, '@', channel);
        m.channel = channel;
        m.json = json;
        return m;
    }
    for (const notify_name& n : k_commands)
        if (first == n.name) m.kind = n.kind;
    if (m.kind == topic_kind::unknown) return m;
    std::string_view id;
    if (split_once(after_first, '.', id) != "id" || id.empty()) return topic_message{};
    m.who = id;
    if (m.kind == topic_kind::subscribe || m.kind == topic_kind::unsubscribe) m.json = rest;
    return m;
}

void write_notify(topic_kind kind, std::string_view who, std::string_view selector,
                  std::string_view channel, std::string_view json, std::string& out) {
    out += "notify.";
    if (kind == topic_kind::notify_all) {
        out += "all";
    } else {
        out += notify_token(kind);
        out += '.';
        out += who;
    }
    out += ' ';
    out += selector;
    if (!channel.empty()) {
        out += '@';
        out += channel;
    }
    if (!json.empty()) {
        out += ' ';
        out += json;
    }
}

void write_channels_command(topic_kind kind, std::string_view id, std::string_view channels,
                            std::string& out) {
    out += command_token(kind);
    out += ".id.";
    out += id;
    out += ' ';
    json_string(channels, out);
}

namespace {

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Four hex digits at s[i..i+4), or -1.
long hex4(std::string_view s, std::size_t i) noexcept {
    if (i + 4 > s.size()) return -1;
    long v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
        const int d = hex_digit(s[i + k]);
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

void append_utf8(unsigned long cp, std::string& out) {
    if (cp < 0x80) {
        out.push_back(char(cp));
    } else if (cp < 0x800) {
        out.push_back(char(0xC0 | (cp >> 6)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(char(0xE0 | (cp >> 12)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(char(0xF0 | (cp >> 18)));
        out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    }
}

// The text of one JSON string literal (the whole of `s`), or nullopt.
std::optional<std::string> unquote(std::string_view s) {
    if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::nullopt;
    std::string out;
    const std::size_t end = s.size() - 1;
    for (std::size_t i = 1; i < end; ++i) {
        const char c = s[i];
        if (c == '"' || static_cast<unsigned char>(c) < 0x20) return std::nullopt;
        if (c != '\\') {
            out.push_back(c);
            continue;
        }
        if (++i >= end) return std::nullopt;
        switch (s[i]) {
            case '"':
                out.push_back('"');
                break;
            case '\\':
                out.push_back('\\');
                break;
            case '/':
                out.push_back('/');
                break;
            case 'b':
                out.push_back('\b');
                break;
            case 'f':
                out.push_back('\f');
                break;
            case 'n':
                out.push_back('\n');
                break;
            case 'r':
                out.push_back('\r');
                break;
            case 't':
                out.push_back('\t');
                break;
            case 'u': {
                long cp = hex4(s, i + 1);
                if (cp < 0) return std::nullopt;
                i += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < end && s[i + 1] == '\\' &&
                    s[i + 2] == 'u') {
                    const long lo = hex4(s, i + 3);
                    if (lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        i += 6;
                    }
                }
                if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // a lone surrogate
                append_utf8(static_cast<unsigned long>(cp), out);
                break;
            }
            default:
                return std::nullopt;
        }
    }
    return out;
}

}  // namespace

std::optional<std::vector<std::string>> parse_channels_payload(std::string_view json) {
    while (!json.empty() && (json.front() == ' ' || json.front() == '\t'))
        json.remove_prefix(1);
    while (!json.empty() && (json.back() == ' ' || json.back() == '\t'))
        json.remove_suffix(1);
    std::string text;
    if (!json.empty() && json.front() == '"') {
        auto t = unquote(json);
        if (!t) return std::nullopt;
        text = std::move(*t);
    } else {
        text.assign(json);
    }
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        if (comma > start) out.emplace_back(text.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

void write_id_command(topic_kind kind, std::string_view id, std::string& out) {
    out += command_token(kind);
    out += ".id.";
    out += id;
}

}  // namespace ssepush::proto
