#include "kernels/simd_level.h"

#include <atomic>
#include <cstdlib>
#include <mutex>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

namespace claq {
namespace {

#if defined(__x86_64__) || defined(_M_X64)

// XCR0 bits the OS must have enabled before YMM or ZMM state is usable.
constexpr unsigned kXcr0Sse = 1u << 1;
constexpr unsigned kXcr0Avx = 1u << 2;
constexpr unsigned kXcr0Opmask = 1u << 5;
constexpr unsigned kXcr0ZmmHi256 = 1u << 6;
constexpr unsigned kXcr0Hi16Zmm = 1u << 7;

unsigned long long read_xcr0() {
  unsigned eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

struct X86Features {
  bool avx2 = false;
  bool avx512 = false;
  bool avx512_vbmi = false;
  bool avx512_vnni = false;
  bool amd = false;
};

// Returns true when CPUID leaf 0 reports the vendor string "AuthenticAMD".
bool vendor_is_amd() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return false;
  return ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163;  // "Auth" "enti" "cAMD"
}

X86Features detect_x86() {
  X86Features f;
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool osxsave = ecx & bit_OSXSAVE;
  const bool fma = ecx & bit_FMA;
  const bool f16c = ecx & bit_F16C;
  const bool avx = ecx & bit_AVX;
  if (!osxsave || !avx) return f;

  const unsigned long long xcr0 = read_xcr0();
  const bool ymm_state = (xcr0 & (kXcr0Sse | kXcr0Avx)) == (kXcr0Sse | kXcr0Avx);
  const unsigned zmm_mask = kXcr0Opmask | kXcr0ZmmHi256 | kXcr0Hi16Zmm;
  const bool zmm_state = ymm_state && (xcr0 & zmm_mask) == zmm_mask;

  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const bool avx2 = ebx & bit_AVX2;
  const bool avx512f = ebx & bit_AVX512F;
  const bool avx512bw = ebx & bit_AVX512BW;
  const bool avx512dq = ebx & bit_AVX512DQ;
  const bool avx512vl = ebx & bit_AVX512VL;

  f.avx2 = ymm_state && avx2 && fma && f16c;
  f.avx512 = f.avx2 && zmm_state && avx512f && avx512bw && avx512dq && avx512vl;
  f.avx512_vbmi = f.avx512 && (ecx & bit_AVX512VBMI) && (ecx & bit_AVX512VBMI2);
  f.avx512_vnni = f.avx512 && (ecx & bit_AVX512VNNI);
  f.amd = vendor_is_amd();
  return f;
}

#endif

bool compiled_in(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar: return true;
#if defined(__x86_64__) || defined(_M_X64)
    case SimdLevel::kAvx2: return true;
    case SimdLevel::kAvx512: return true;
#endif
#if defined(__aarch64__)
    case SimdLevel::kNeon: return true;
#endif
    default: return false;
  }
}

#if defined(__x86_64__) || defined(_M_X64)
const X86Features& x86_features() {
  static const X86Features features = detect_x86();
  return features;
}
#endif

bool cpu_has(SimdLevel level) {
#if defined(__x86_64__) || defined(_M_X64)
  const X86Features& features = x86_features();
  if (level == SimdLevel::kAvx2) return features.avx2;
  if (level == SimdLevel::kAvx512) return features.avx512;
#endif
  // Advanced SIMD is mandatory on AArch64, so a NEON build always runs.
  return level == SimdLevel::kScalar || level == SimdLevel::kNeon;
}

SimdLevel best_level() {
  const SimdLevel order[] = {SimdLevel::kAvx512, SimdLevel::kNeon, SimdLevel::kAvx2};
  for (SimdLevel level : order) {
    if (simd_level_supported(level)) return level;
  }
  return SimdLevel::kScalar;
}

std::mutex g_mutex;
std::string g_warning;
std::atomic<int> g_level{-1};

SimdLevel initial_level() {
  const char* forced = std::getenv("CLAQ_SIMD");
  if (forced == nullptr || forced[0] == '\0') return best_level();

  SimdLevel level;
  if (!parse_simd_level(forced, &level)) {
    g_warning = std::string("CLAQ_SIMD=") + forced +
                " is not a SIMD level (expected scalar, avx2, avx512 or neon); using " +
                simd_level_name(best_level());
    return best_level();
  }
  if (!simd_level_supported(level)) {
    g_warning = std::string("CLAQ_SIMD=") + forced +
                " is not supported by this CPU or build; using " + simd_level_name(best_level());
    return best_level();
  }
  return level;
}

}  // namespace

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar: return "scalar";
    case SimdLevel::kAvx2: return "avx2";
    case SimdLevel::kAvx512: return "avx512";
    case SimdLevel::kNeon: return "neon";
  }
  return "scalar";
}

bool parse_simd_level(const std::string& name, SimdLevel* level) {
  const SimdLevel all[] = {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512, SimdLevel::kNeon};
  for (SimdLevel candidate : all) {
    if (name == simd_level_name(candidate)) {
      *level = candidate;
      return true;
    }
  }
  return false;
}

bool simd_level_supported(SimdLevel level) { return compiled_in(level) && cpu_has(level); }

bool cpu_has_avx512_vbmi() {
#if defined(__x86_64__) || defined(_M_X64)
  return x86_features().avx512_vbmi;
#else
  return false;
#endif
}

bool cpu_has_avx512_vbmi_vnni() {
#if defined(__x86_64__) || defined(_M_X64)
  return x86_features().avx512_vbmi && x86_features().avx512_vnni;
#else
  return false;
#endif
}

bool cpu_prefers_vbmi_windows() {
#if defined(__x86_64__) || defined(_M_X64)
  return x86_features().avx512_vbmi && x86_features().amd;
#else
  return false;
#endif
}

std::vector<SimdLevel> supported_simd_levels() {
  std::vector<SimdLevel> levels;
  const SimdLevel all[] = {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512, SimdLevel::kNeon};
  for (SimdLevel level : all) {
    if (simd_level_supported(level)) levels.push_back(level);
  }
  return levels;
}

SimdLevel active_simd_level() {
  int level = g_level.load(std::memory_order_acquire);
  if (level >= 0) return static_cast<SimdLevel>(level);

  std::lock_guard<std::mutex> lock(g_mutex);
  level = g_level.load(std::memory_order_relaxed);
  if (level < 0) {
    level = static_cast<int>(initial_level());
    g_level.store(level, std::memory_order_release);
  }
  return static_cast<SimdLevel>(level);
}

bool set_simd_level(SimdLevel level) {
  if (!simd_level_supported(level)) return false;
  std::lock_guard<std::mutex> lock(g_mutex);
  g_level.store(static_cast<int>(level), std::memory_order_release);
  return true;
}

std::string simd_level_warning() {
  active_simd_level();
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_warning;
}

}  // namespace claq
