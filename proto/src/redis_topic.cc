#include "ssepush/proto/redis_topic.h"

#include "json_text.h"
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

std::optional<std::vector<std::string>> parse_channels_payload(std::string_view json) {
    json = detail::skip_json_ws(json);
    std::string text;
    if (!json.empty() && json.front() == '"') {
        // One JSON string, unescaped by the same parser proto's other readers use.
        simdjson::dom::element doc;
        std::string_view v;
        if (detail::parse_json(json, doc) || doc.get_string().get(v)) return std::nullopt;
        text.assign(v);
    } else {
        while (!json.empty() && detail::json_ws(json.back()))
            json.remove_suffix(1);
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
