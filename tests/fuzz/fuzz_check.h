#pragma once
// FUZZ_CHECK: an invariant the fuzz target asserts about the code under test.
// A failure aborts, which libFuzzer reports as a crash with the input saved.
#include <cstdio>
#include <cstdlib>

#define SSEPUSH_FUZZ_CHECK(cond)                                                          \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                 \
        }                                                                                 \
    } while (0)
