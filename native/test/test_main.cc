#include <cstring>

#include "kernels/simd_level.h"
#include "test/test_framework.h"

namespace claq::test {
namespace {

int g_failures = 0;
const char* g_current = "";

}  // namespace

std::vector<TestCase>& registry() {
  static std::vector<TestCase> tests;
  return tests;
}

void record_failure(const char* file, int line, const std::string& message) {
  ++g_failures;
  std::fprintf(stderr, "FAIL %s at %s:%d: %s\n", g_current, file, line, message.c_str());
}

}  // namespace claq::test

// Usage: claq_native_tests [PATTERN...]
// Runs the tests whose name contains any PATTERN (all tests when none is
// given), except those whose name contains a PATTERN written as -SUBSTRING.
// tools/test-sanitizers.sh uses the exclusions to keep valgrind runs short.
static bool selected(const char* name, int argc, char** argv) {
  bool any_include = false;
  bool included = false;
  for (int k = 1; k < argc; ++k) {
    if (argv[k][0] == '-') {
      if (std::strstr(name, argv[k] + 1) != nullptr) return false;
    } else {
      any_include = true;
      included = included || std::strstr(name, argv[k]) != nullptr;
    }
  }
  return included || !any_include;
}

int main(int argc, char** argv) {
  using namespace claq::test;
  // The detected level first: under valgrind (whose CPUID hides AVX-512)
  // this line shows which kernels the run covers.
  std::printf("native tests: SIMD level %s\n", claq::simd_level_name(claq::active_simd_level()));
  int passed = 0, failed = 0;
  for (const TestCase& test : registry()) {
    if (!selected(test.name, argc, argv)) continue;
    g_current = test.name;
    const int before = g_failures;
    test.run();
    if (g_failures == before) {
      ++passed;
    } else {
      ++failed;
    }
  }
  std::printf("native tests: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
