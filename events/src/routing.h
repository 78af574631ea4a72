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
        auto& m = s.masks[index_of(kind)];
        auto it = m.find(key);
        if (it == m.end()) {
            it = m.emplace(std::string(key), 0).first;
            if (kind == target::channel) channels_.fetch_add(1, std::memory_order_relaxed);
        }
        it->second |= engine::shard_mask(1) << shard;
    }
    void clear(target kind, std::string_view key, unsigned shard) {
        stripe& s = stripe_of(kind, key);
        std::lock_guard lock(s.mu);
        auto& m = s.masks[index_of(kind)];
        auto it = m.find(key);
        if (it == m.end()) return;
        it->second &= ~(engine::shard_mask(1) << shard);
        if (it->second == 0) {
            m.erase(it);
            if (kind == target::channel) channels_.fetch_sub(1, std::memory_order_relaxed);
        }
    }
    // Channels that have a subscriber on some shard.
    [[nodiscard]] std::uint64_t channel_count() const noexcept {
        return channels_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] engine::shard_mask shards(target kind, std::string_view key) const {
        const stripe& s = stripe_of(kind, key);
        std::lock_guard lock(s.mu);
        const auto& m = s.masks[index_of(kind)];
        auto it = m.find(key);
        return it == m.end() ? 0 : it->second;
    }
    void clear_all() {
        for (auto& s : stripes_) {
            std::lock_guard lock(s.mu);
            for (auto& m : s.masks)
                m.clear();
        }
        channels_.store(0);
    }

private:
    static constexpr std::size_t k_stripes = 64;
    // The routed kinds: channel, user_id, user_name, session.
    static constexpr std::size_t k_kinds = 4;
    static std::size_t index_of(target kind) noexcept {
        switch (kind) {
            case target::channel:
                return 0;
            case target::user_id:
                return 1;
            case target::user_name:
                return 2;
            default:
                return 3;  // session (all and subscription targets are not routed here)
        }
    }
    // Transparent (lookups by string_view build no string) and cheap enough
    // not to be cached in the nodes: an entry is its key and its mask, 48 bytes.
    struct key_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view k) const noexcept {
            return std::hash<std::string_view>{}(k);
        }
    };
    using mask_map = std::unordered_map<std::string, engine::shard_mask, key_hash, std::equal_to<>>;
    struct alignas(64) stripe {
        mutable std::mutex mu;
        std::array<mask_map, k_kinds> masks;
    };
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
