#include "eqprop/kernels/blas_choice.hpp"

#include <cblas.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace eqprop {

CpuFeatures cpu_features() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  // libgcc's cpuid checks also test XCR0, so a feature the OS does not save counts as absent.
  __builtin_cpu_init();
  f.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  f.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl");
#endif
  return f;
}

std::string blas_kernel_name() {
  const char* name = openblas_get_corename();
  return name ? name : "";
}

std::string better_coretype(const std::string& chosen, const CpuFeatures& cpu) {
  // OpenBLAS's generic x86-64 sets, all older than AVX2: what an unknown model falls back to.
  static constexpr std::array<const char*, 10> kFallbacks = {
      "katmai", "coppermine", "northwood", "prescott", "banias", "core2", "penryn", "dunnington", "nehalem",
      "sandybridge"};
  std::string lower(chosen);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const bool fallback = std::find(kFallbacks.begin(), kFallbacks.end(), lower) != kFallbacks.end();
  if (!fallback) return "";
  if (cpu.avx512 && cpu.avx2_fma) return "SKYLAKEX";
  if (cpu.avx2_fma) return "HASWELL";
  return "";
}

}  // namespace eqprop
