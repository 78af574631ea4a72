#pragma once
// SSEPUSH_ASSERT: an invariant of our own code, checked in every build type.
// A failure is a bug (never bad input): print where, and abort.
#include <cstdio>
#include <cstdlib>

#define SSEPUSH_ASSERT(cond)                                                                 \
    do {                                                                                     \
        if (__builtin_expect(!(cond), 0)) {                                                  \
            std::fprintf(stderr, "ssepush: assertion failed: %s (%s:%d)\n", #cond, __FILE__, \
                         __LINE__);                                                          \
            std::abort();                                                                    \
        }                                                                                    \
    } while (0)
