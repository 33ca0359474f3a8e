// Which OpenBLAS kernels a process runs. OpenBLAS (built with DYNAMIC_ARCH, as Debian's is)
// picks its kernels by CPU model when the library loads, before main(). A model it does not
// know falls back to generic x86-64 kernels even on a CPU with AVX-512: Debian 12's OpenBLAS
// 0.3.21 runs its PRESCOTT (SSE3) sgemm on Intel Xeon family 6 model 207, 3-4x below its
// AVX-512 kernels there (docs/performance.md). OpenBLAS reads OPENBLAS_CORETYPE at load time
// only, so a better choice takes a re-exec (app/runtime.hpp).
#pragma once
#include <string>

namespace eqprop {

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 and FMA3: what OpenBLAS's HASWELL kernels need
  bool avx512 = false;    // AVX-512 F, CD, BW, DQ and VL, usable by the OS: SKYLAKEX's
};

// This CPU's features (cpuid, with the OS's register-state check).
CpuFeatures cpu_features();

// OpenBLAS's kernel set in this process, e.g. "SkylakeX" or "Prescott".
std::string blas_kernel_name();

// The OPENBLAS_CORETYPE to ask for, or "" to keep OpenBLAS's choice. Only a fallback is
// replaced: `chosen` one of the generic pre-AVX2 sets (Prescott, Core2, Nehalem, ...,
// Sandybridge) on a CPU with the features of SKYLAKEX or HASWELL. A set OpenBLAS chose for a
// model it knows (Haswell, Zen, SkylakeX, ...) is kept.
std::string better_coretype(const std::string& chosen, const CpuFeatures& cpu);

}  // namespace eqprop
