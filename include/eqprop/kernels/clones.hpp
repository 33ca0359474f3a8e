// EQPROP_CLONES: compile a function once per x86-64 level and let the loader pick the clone
// for the CPU (glibc ifunc). The build targets baseline x86-64 (SSE2) so that one binary runs
// everywhere; the short memory-bound loops that carry this mark are 2-4x faster in their
// AVX2 or AVX-512 clones. The clone is fixed per machine, so results never depend on the
// thread count; machines with other vector units round differently, as OpenBLAS's kernels do.
//
// Not under ThreadSanitizer: the loader runs a clone's resolver before the TSan runtime is
// up, and the instrumented resolver crashes (seen with GCC 12 here). TSan builds use the
// baseline loops, which compute the same things.
#pragma once

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EQPROP_TSAN_BUILD 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define EQPROP_TSAN_BUILD 1
#endif

#if defined(__x86_64__) && defined(__ELF__) && !defined(EQPROP_NO_CLONES) && !defined(EQPROP_TSAN_BUILD)
#define EQPROP_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define EQPROP_CLONES
#endif

// For the kernels that the clones call: inlined into each clone, so that each is compiled for
// that clone's vector unit (a call would reach one baseline copy).
#define EQPROP_KERNEL inline __attribute__((always_inline))
