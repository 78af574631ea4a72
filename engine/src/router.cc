#include "router.h"

#include <algorithm>

namespace ssepush::engine::detail {

void router::add_exact(method_set ms, std::string path, handler h) {
    exact_[std::move(path)].push_back(entry{ms, std::move(h)});
}

void router::add_prefix(method_set ms, std::string prefix, handler h) {
    auto it = std::find_if(prefixes_.begin(), prefixes_.end(),
                           [&](const auto& p) { return p.first == prefix; });
    if (it == prefixes_.end()) {
        prefixes_.emplace_back(std::move(prefix), std::vector<entry>{});
        it = prefixes_.end() - 1;
    }
    it->second.push_back(entry{ms, std::move(h)});
    std::stable_sort(prefixes_.begin(), prefixes_.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

router::match router::find(proto::method m, std::string_view path) const {
    match out;
    auto pick = [&](const std::vector<entry>& es) {
        for (const entry& e : es) {
            if (e.methods.has(m)) {
                out.h = &e.h;
                out.method_not_allowed = false;
                return true;
            }
            out.allowed.bits |= e.methods.bits;
        }
        // HEAD is answered by a GET route (the engine omits the body).
        if (m == proto::method::head) {
            for (const entry& e : es) {
                if (e.methods.has(proto::method::get)) {
                    out.h = &e.h;
                    out.method_not_allowed = false;
                    return true;
                }
            }
        }
        out.method_not_allowed = true;
        return false;
    };
    if (auto it = exact_.find(path); it != exact_.end() && pick(it->second)) return out;
    for (const auto& [prefix, es] : prefixes_) {
        if (path.starts_with(prefix) && pick(es)) return out;
    }
    return out;
}

}  // namespace ssepush::engine::detail
