#pragma once
// How much slower the current build runs stress tests: sizes divide by this so
// suites stay inside their ctest timeouts under the sanitizers.
#include <cstdint>

namespace ssepush::testing {

#if defined(__SANITIZE_THREAD__)
inline constexpr std::uint64_t k_slowdown = 4;
#elif defined(__SANITIZE_ADDRESS__)
inline constexpr std::uint64_t k_slowdown = 2;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr std::uint64_t k_slowdown = 4;
#elif __has_feature(address_sanitizer)
inline constexpr std::uint64_t k_slowdown = 2;
#else
inline constexpr std::uint64_t k_slowdown = 1;
#endif
#else
inline constexpr std::uint64_t k_slowdown = 1;
#endif

}  // namespace ssepush::testing
