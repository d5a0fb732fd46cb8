// Run-time choice of the SIMD level. The level is detected once, from CPUID
// and the OS-enabled register state (XGETBV) on x86 or the build target on
// Arm, and can be pinned with the environment variable CLAQ_SIMD
// (scalar | avx2 | avx512 | neon) or with set_simd_level().
#pragma once

#include <string>
#include <vector>

namespace claq {

enum class SimdLevel { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kNeon = 3 };

const char* simd_level_name(SimdLevel level);

// Parses "scalar", "avx2", "avx512" or "neon"; returns false for anything else.
bool parse_simd_level(const std::string& name, SimdLevel* level);

// True when the level is compiled into this build and the CPU and OS support it.
bool simd_level_supported(SimdLevel level);

// True when the CPU and OS run AVX-512 (the kAvx512 level), AVX512-VBMI and
// AVX512-VBMI2. Ice Lake, Zen 4 and later CPUs have both. Cannon Lake has
// VBMI alone and takes the plain AVX-512 kernels.
// Kernels of the kAvx512 level check it to pick a VBMI version.
bool cpu_has_avx512_vbmi();

// True when cpu_has_avx512_vbmi() and the CPU has AVX512-VNNI: what the
// integer-table 3-bit GEMV needs (lut_3bit_int.h).
bool cpu_has_avx512_vbmi_vnni();

// True when the look-up GEMV should take its code windows from
// vpmultishiftqb (VBMI) rather than from 32-bit shifts: on AMD cores with
// VBMI. On Zen 5 the multishift issues beside vpermps, so the VBMI kernel was
// faster there. On a Xeon with VBMI the plain kernel was faster (2-bit GEMV,
// one thread: 13.2 against 12.1 GB/s), which suggests that the multishift
// and vpermps share a port on Intel cores.
// NOTE: the plain kernel's byte loads came after the Zen 5 measurement, so
// whether the VBMI kernel still wins on Zen 5 is not measured.
bool cpu_prefers_vbmi_windows();

// Every supported level, scalar first.
std::vector<SimdLevel> supported_simd_levels();

// The level that kernels dispatch on. The first call reads CLAQ_SIMD; an
// unknown or unsupported value falls back to the best supported level and
// leaves a message in simd_level_warning().
SimdLevel active_simd_level();

// Pins the level; returns false and changes nothing when it is unsupported.
bool set_simd_level(SimdLevel level);

// Empty, or why CLAQ_SIMD was not honoured.
std::string simd_level_warning();

}  // namespace claq
