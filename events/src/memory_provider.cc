// The memory provider: notifications go straight to this process's shards,
// and queries are answered from the shards' own indexes (ServiceStack's
// MemoryServerEvents keeps a ConcurrentDictionary of its subscriptions; here
// each shard's indexes are that dictionary, read under the shard's lock). It
// keeps no copy of any subscription: registration costs nothing here.
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "ssepush/events/provider.h"

namespace ssepush::events {

namespace {

class memory_provider final : public provider {
public:
    void attach(local_bus& bus) override { bus_ = &bus; }

    void publish(const notification& n) override { bus_->deliver(n); }

    void registered(const subscription&) override {}
    void updated(const subscription&, const std::vector<std::string>&) override {}
    void unregistered(const subscription&) override {}
    void reset() override {}

    std::optional<subscription_info> find(std::string_view id) const override {
        return bus_->local_find(id);
    }
    std::vector<subscription_info> find_by_user_id(std::string_view user_id) const override {
        return bus_->local_find_by_user_id(user_id);
    }
    std::vector<string_map> details(const std::vector<std::string>& channels) const override {
        return bus_->local_details(channels);
    }
    std::vector<subscription_info> find_in_channels(
        const std::vector<std::string>& channels) const override {
        return bus_->local_find_in_channels(channels);
    }

    std::int64_t next_anonymous_id() override { return ++anon_; }

    std::int64_t next_sequence(std::string_view name) override {
        std::lock_guard lock(seq_mu_);
        return ++sequences_[std::string(name)];
    }

private:
    local_bus* bus_ = nullptr;
    std::atomic<std::int64_t> anon_{0};
    std::mutex seq_mu_;
    std::unordered_map<std::string, std::int64_t> sequences_;
};

}  // namespace

std::unique_ptr<provider> make_memory_provider() {
    return std::make_unique<memory_provider>();
}

}  // namespace ssepush::events
