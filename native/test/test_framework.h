// A minimal self-registering test runner for the Node-free native tests, so
// they build with any compiler and sanitizer and run under qemu-user.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace claq::test {

struct TestCase {
  const char* name;
  void (*run)();
};

std::vector<TestCase>& registry();
void record_failure(const char* file, int line, const std::string& message);

struct Registrar {
  Registrar(const char* name, void (*run)()) { registry().push_back({name, run}); }
};

// Deterministic generator for test data (splitmix64), so a failing case can be
// rerun from the seed it prints.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
  double normal() {
    const double u1 = uniform() + 1e-300, u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

}  // namespace claq::test

#define CLAQ_TEST(name)                                                   \
  static void name();                                                     \
  static ::claq::test::Registrar name##_registrar(#name, name);           \
  static void name()

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) ::claq::test::record_failure(__FILE__, __LINE__, #cond); \
  } while (0)

#define CHECK_EQ(a, b)                                                    \
  do {                                                                    \
    const auto va_ = (a);                                                 \
    const auto vb_ = (b);                                                 \
    if (!(va_ == vb_)) {                                                  \
      std::ostringstream os_;                                             \
      os_ << #a " == " #b " (" << va_ << " vs " << vb_ << ")";            \
      ::claq::test::record_failure(__FILE__, __LINE__, os_.str());        \
    }                                                                     \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                             \
  do {                                                                    \
    const double va_ = (a);                                               \
    const double vb_ = (b);                                               \
    if (!(std::fabs(va_ - vb_) <= (tol))) {                               \
      std::ostringstream os_;                                             \
      os_ << #a " ~ " #b " (" << va_ << " vs " << vb_ << ", tolerance "   \
          << (tol) << ")";                                                \
      ::claq::test::record_failure(__FILE__, __LINE__, os_.str());        \
    }                                                                     \
  } while (0)
