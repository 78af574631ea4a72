#pragma once
// Which shards hold subscribers for a key (a channel, user id, user name or
// session): what makes a publish reach only the shards that have recipients.
//
// A shard sets its bit when its local member list for the key goes from empty
// to non-empty and clears it when the list empties, so the map changes only on
// those edges; a publish reads one entry. Striped mutexes keep shards that
// register at the same time apart.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ssepush/engine/types.h"
#include "ssepush/events/provider.h"

namespace ssepush::events::detail {

class routing {
public:
    void set(target kind, std::string_view key, unsigned shard) {
        stripe& s = stripe_of(kind, key);
        std::lock_guard lock(s.mu);
        auto [it, inserted] = s.masks.try_emplace(make_key(kind, key), 0);
        it->second |= engine::shard_mask(1) << shard;
        if (inserted && kind == target::channel) channels_.fetch_add(1, std::memory_order_relaxed);
    }
    void clear(target kind, std::string_view key, unsigned shard) {
        stripe& s = stripe_of(kind, key);
        std::lock_guard lock(s.mu);
        auto it = s.masks.find(make_key(kind, key));
        if (it == s.masks.end()) return;
        it->second &= ~(engine::shard_mask(1) << shard);
        if (it->second == 0) {
            s.masks.erase(it);
            if (kind == target::channel) channels_.fetch_sub(1, std::memory_order_relaxed);
        }
    }
    // Channels that have a subscriber on some shard.
    [[nodiscard]] std::uint64_t channel_count() const noexcept {
        return channels_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] engine::shard_mask shards(target kind, std::string_view key) const {
        const stripe& s = stripe_of(kind, key);
        thread_local std::string k;
        k.clear();
        k.push_back(char(kind));
        k.append(key);
        std::lock_guard lock(s.mu);
        auto it = s.masks.find(k);
        return it == s.masks.end() ? 0 : it->second;
    }
    void clear_all() {
        for (auto& s : stripes_) {
            std::lock_guard lock(s.mu);
            s.masks.clear();
        }
        channels_.store(0);
    }

private:
    static constexpr std::size_t k_stripes = 64;
    struct alignas(64) stripe {
        mutable std::mutex mu;
        std::unordered_map<std::string, engine::shard_mask> masks;
    };
    static std::string make_key(target kind, std::string_view key) {
        std::string k;
        k.reserve(key.size() + 1);
        k.push_back(char(kind));
        k.append(key);
        return k;
    }
    stripe& stripe_of(target kind, std::string_view key) {
        return stripes_[(std::hash<std::string_view>{}(key) + std::size_t(kind)) % k_stripes];
    }
    const stripe& stripe_of(target kind, std::string_view key) const {
        return stripes_[(std::hash<std::string_view>{}(key) + std::size_t(kind)) % k_stripes];
    }
    std::array<stripe, k_stripes> stripes_;
    std::atomic<std::uint64_t> channels_{0};
};

}  // namespace ssepush::events::detail
