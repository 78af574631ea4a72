#pragma once
// Method + path -> handler. Built before the shards start, then read-only, so
// every shard reads it without synchronization.
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ssepush/engine/http.h"

namespace ssepush::engine::detail {

class router {
public:
    struct match {
        const handler* h = nullptr;
        bool method_not_allowed = false;  // the path exists with other methods
        method_set allowed;
    };

    void add_exact(method_set ms, std::string path, handler h);
    void add_prefix(method_set ms, std::string prefix, handler h);
    void set_fallback(handler h) { fallback_ = std::move(h); }

    [[nodiscard]] match find(proto::method m, std::string_view path) const;
    [[nodiscard]] const handler* fallback() const { return fallback_ ? &fallback_ : nullptr; }

private:
    struct entry {
        method_set methods;
        handler h;
    };
    struct string_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, std::vector<entry>, string_hash, std::equal_to<>> exact_;
    std::vector<std::pair<std::string, std::vector<entry>>> prefixes_;  // longest first
    handler fallback_;
};

}  // namespace ssepush::engine::detail
