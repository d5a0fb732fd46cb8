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

// Usage: claq_native_tests [SUBSTRING]  runs the tests whose name contains SUBSTRING.
int main(int argc, char** argv) {
  using namespace claq::test;
  const char* filter = argc > 1 ? argv[1] : "";
  // The detected level first: under valgrind (whose CPUID hides AVX-512)
  // this line shows which kernels the run covers.
  std::printf("native tests: SIMD level %s\n", claq::simd_level_name(claq::active_simd_level()));
  int passed = 0, failed = 0;
  for (const TestCase& test : registry()) {
    if (std::strstr(test.name, filter) == nullptr) continue;
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
