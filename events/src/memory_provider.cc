// The memory provider: notifications go straight to this process's shards;
// subscription state for queries lives in striped hash maps (ServiceStack's
// MemoryServerEvents keeps a ConcurrentDictionary; this is the same idea with
// short per-stripe locks, readable from any thread, shards included).
#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "ssepush/events/provider.h"

namespace ssepush::events {

namespace {

constexpr std::size_t k_stripes = 64;

std::size_t stripe_index(std::string_view key) {
    return std::hash<std::string_view>{}(key) % k_stripes;
}

using info_ptr = std::shared_ptr<const subscription_info>;

class memory_provider final : public provider {
public:
    void attach(local_bus& bus) override { bus_ = &bus; }

    void publish(const notification& n) override { bus_->deliver(n); }

    void registered(const subscription_info& info) override {
        auto p = std::make_shared<const subscription_info>(info);
        {
            auto& s = infos_[stripe_index(info.id)];
            std::lock_guard lock(s.mu);
            s.map[info.id] = p;
        }
        for (const auto& c : info.channels)
            add_member(channels_, c, info.id);
        add_member(users_, info.user_id, info.id);
    }

    void updated(const subscription_info& info) override {
        info_ptr old;
        auto p = std::make_shared<const subscription_info>(info);
        {
            auto& s = infos_[stripe_index(info.id)];
            std::lock_guard lock(s.mu);
            auto it = s.map.find(info.id);
            if (it == s.map.end()) return;  // unregistered meanwhile
            old = std::exchange(it->second, p);
        }
        for (const auto& c : old->channels)
            remove_member(channels_, c, info.id);
        for (const auto& c : info.channels)
            add_member(channels_, c, info.id);
    }

    void unregistered(const subscription_info& info) override {
        {
            auto& s = infos_[stripe_index(info.id)];
            std::lock_guard lock(s.mu);
            s.map.erase(info.id);
        }
        for (const auto& c : info.channels)
            remove_member(channels_, c, info.id);
        remove_member(users_, info.user_id, info.id);
    }

    void reset() override {
        for (auto& s : infos_) {
            std::lock_guard lock(s.mu);
            s.map.clear();
        }
        for (auto* m : {&channels_, &users_})
            for (auto& s : *m) {
                std::lock_guard lock(s.mu);
                s.map.clear();
            }
    }

    std::optional<subscription_info> find(std::string_view id) const override {
        info_ptr p = get(id);
        if (!p) return std::nullopt;
        return *p;
    }

    std::vector<subscription_info> find_by_user_id(std::string_view user_id) const override {
        std::vector<subscription_info> out;
        for (const auto& id : members(users_, user_id))
            if (info_ptr p = get(id)) out.push_back(*p);
        return out;
    }

    std::vector<string_map> details(const std::vector<std::string>& channels) const override {
        std::vector<string_map> out;
        for_each_in(channels, [&](const subscription_info& i) { out.push_back(i.meta); });
        return out;
    }

    std::vector<subscription_info> find_in_channels(
        const std::vector<std::string>& channels) const override {
        std::vector<subscription_info> out;
        for_each_in(channels, [&](const subscription_info& i) { out.push_back(i); });
        return out;
    }

    std::int64_t next_anonymous_id() override { return ++anon_; }

    std::int64_t next_sequence(std::string_view name) override {
        std::lock_guard lock(seq_mu_);
        return ++sequences_[std::string(name)];
    }

private:
    // Calls fn(info) for each subscription in any of `channels` (all when
    // empty), de-duplicated, in channel order.
    template <class Fn>
    void for_each_in(const std::vector<std::string>& channels, Fn fn) const {
        if (channels.empty()) {
            for (const auto& s : infos_) {
                std::lock_guard lock(s.mu);
                for (const auto& [id, p] : s.map)
                    fn(*p);
            }
            return;
        }
        std::unordered_set<std::string> seen;
        for (const auto& c : channels) {
            for (auto& id : members(channels_, c)) {
                if (!seen.insert(id).second) continue;
                if (info_ptr p = get(id)) fn(*p);
            }
        }
    }

    struct alignas(64) info_stripe {
        mutable std::mutex mu;
        std::unordered_map<std::string, info_ptr> map;
    };
    struct alignas(64) set_stripe {
        mutable std::mutex mu;
        std::unordered_map<std::string, std::unordered_set<std::string>> map;
    };
    using set_stripes = std::array<set_stripe, k_stripes>;

    info_ptr get(std::string_view id) const {
        const auto& s = infos_[stripe_index(id)];
        std::lock_guard lock(s.mu);
        auto it = s.map.find(std::string(id));
        return it == s.map.end() ? nullptr : it->second;
    }
    static void add_member(set_stripes& m, const std::string& key, const std::string& id) {
        auto& s = m[stripe_index(key)];
        std::lock_guard lock(s.mu);
        s.map[key].insert(id);
    }
    static void remove_member(set_stripes& m, const std::string& key, const std::string& id) {
        auto& s = m[stripe_index(key)];
        std::lock_guard lock(s.mu);
        auto it = s.map.find(key);
        if (it == s.map.end()) return;
        it->second.erase(id);
        if (it->second.empty()) s.map.erase(it);
    }
    static std::vector<std::string> members(const set_stripes& m, std::string_view key) {
        const auto& s = m[stripe_index(key)];
        std::lock_guard lock(s.mu);
        auto it = s.map.find(std::string(key));
        if (it == s.map.end()) return {};
        return {it->second.begin(), it->second.end()};
    }

    local_bus* bus_ = nullptr;
    std::array<info_stripe, k_stripes> infos_;
    set_stripes channels_;
    set_stripes users_;
    std::atomic<std::int64_t> anon_{0};
    std::mutex seq_mu_;
    std::unordered_map<std::string, std::int64_t> sequences_;
};

}  // namespace

std::unique_ptr<provider> make_memory_provider() {
    return std::make_unique<memory_provider>();
}

}  // namespace ssepush::events
