#pragma once
// A small ordered string -> string map: the Meta, ConnectArgs and ServerArgs
// of a subscription. Insertion order is kept (it is the key order of the JSON
// objects built from it); lookups are linear, which beats hashing for the
// handful of keys these maps hold.
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ssepush::events {

class string_map {
public:
    using value_type = std::pair<std::string, std::string>;

    // Sets `key` (replacing its value if present, appending otherwise).
    void set(std::string_view key, std::string_view value) {
        if (auto* v = find(key)) {
            v->assign(value);
        } else {
            items_.emplace_back(std::string(key), std::string(value));
        }
    }
    [[nodiscard]] const std::string* get(std::string_view key) const noexcept {
        for (const auto& kv : items_)
            if (kv.first == key) return &kv.second;
        return nullptr;
    }
    bool erase(std::string_view key) {
        auto it = std::find_if(items_.begin(), items_.end(),
                               [&](const value_type& kv) { return kv.first == key; });
        if (it == items_.end()) return false;
        items_.erase(it);
        return true;
    }
    [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
    [[nodiscard]] bool empty() const noexcept { return items_.empty(); }
    [[nodiscard]] auto begin() const noexcept { return items_.begin(); }
    [[nodiscard]] auto end() const noexcept { return items_.end(); }
    void clear() noexcept { items_.clear(); }

private:
    std::string* find(std::string_view key) noexcept {
        for (auto& kv : items_)
            if (kv.first == key) return &kv.second;
        return nullptr;
    }
    std::vector<value_type> items_;
};

}  // namespace ssepush::events
