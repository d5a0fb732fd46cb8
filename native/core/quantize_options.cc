// Validation of quantize_layer's options, shapes and inputs. Messages name
// the option, the value received and the rule it broke.
#include <cmath>
#include <cstring>
#include <sstream>
#include <string>

#include "core/quantize.h"
#include "core/quantize_checks.h"

namespace claq {
namespace {

// Bigger layers would overflow the int32 row indices of reserved outliers or
// the uint32 codebook offsets (16 centroids per column).
constexpr int64_t kMaxRows = (int64_t{1} << 31) - 1;
constexpr int64_t kMaxCols = int64_t{1} << 27;

Status invalid(const std::string& message) {
  return Status::InvalidArgument("quantize_layer: " + message);
}

std::string show(double value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

bool is_supported_bits(int bits) { return bits >= 2 && bits <= 4; }

Status validate_bits(const QuantizeOptions& o) {
  if (!is_supported_bits(o.low_bits)) {
    return invalid("lowBits must be 2, 3 or 4, got " + std::to_string(o.low_bits));
  }
  if (!is_supported_bits(o.high_bits)) {
    return invalid("highBits must be 2, 3 or 4, got " + std::to_string(o.high_bits));
  }
  if (o.low_bits > o.high_bits) {
    return invalid("lowBits (" + std::to_string(o.low_bits) + ") must not exceed highBits (" +
                   std::to_string(o.high_bits) + ")");
  }
  if (!std::isfinite(o.target_bits) || o.target_bits < o.low_bits || o.target_bits > o.high_bits) {
    return invalid("targetBits must lie in [lowBits, highBits] = [" + std::to_string(o.low_bits) +
                   ", " + std::to_string(o.high_bits) + "], got " + show(o.target_bits));
  }
  return Status::Ok();
}

Status validate_fraction(const char* name, double value, double upper, bool upper_included) {
  const bool above = upper_included ? value > upper : value >= upper;
  if (!std::isfinite(value) || value < 0 || above) {
    return invalid(std::string(name) + " must lie in [0, " + show(upper) +
                   (upper_included ? "]" : ")") + ", got " + show(value));
  }
  return Status::Ok();
}

Status validate_reservation(const QuantizeOptions& o) {
  Status status = validate_fraction("outlierColumnFraction", o.outlier_column_fraction, 1, true);
  if (!status.ok()) return status;
  status = validate_fraction("outlierHighFraction", o.outlier_high_fraction, 0.5, false);
  if (!status.ok()) return status;
  return validate_fraction("outlierLowFraction", o.outlier_low_fraction, 0.5, false);
}

Status validate_loop_options(const QuantizeOptions& o) {
  if (!std::isfinite(o.outlier_threshold) || o.outlier_threshold <= 0) {
    return invalid("outlierThreshold must be a finite number > 0, got " + show(o.outlier_threshold));
  }
  if (!std::isfinite(o.damping) || o.damping < 0) {
    return invalid("damping must be a finite number >= 0, got " + show(o.damping));
  }
  if (o.block_size < 1) {
    return invalid("blockSize must be >= 1, got " + std::to_string(o.block_size));
  }
  if (o.threads < 0) {
    return invalid("threads must be >= 0 (0 uses every core), got " + std::to_string(o.threads));
  }
  return Status::Ok();
}

// The row grid stores one scale and zero per row for every column, so all
// columns need the same width, and it has no place for reserved outliers.
Status validate_grid(const QuantizeOptions& o) {
  if (o.grid != Grid::kColumn && o.grid != Grid::kRow) return invalid("grid must be row or column");
  if (o.grid == Grid::kColumn) return Status::Ok();
  if (o.method == Method::kClaq) {
    return invalid("grid 'row' applies to the gptq and rtn methods; claq fits its codebooks per column");
  }
  if (o.low_bits != o.high_bits || o.target_bits != o.low_bits) {
    return invalid("grid 'row' needs one bit width for every column (targetBits " + show(o.target_bits) +
                   " asks for adaptive precision); use grid 'column'");
  }
  if (o.outlier_high_fraction != 0 || o.outlier_low_fraction != 0) {
    return invalid("grid 'row' does not combine with outlier reservation (outlierHighFraction " +
                   show(o.outlier_high_fraction) + ", outlierLowFraction " +
                   show(o.outlier_low_fraction) + "); use grid 'column'");
  }
  return Status::Ok();
}

}  // namespace

Status validate_quantize_options(const QuantizeOptions& options, int64_t rows, int64_t cols,
                                 bool has_hessian) {
  if (rows < 1 || rows > kMaxRows) {
    return invalid("rows must lie in [1, " + std::to_string(kMaxRows) + "], got " +
                   std::to_string(rows));
  }
  if (cols < 1 || cols > kMaxCols) {
    return invalid("cols must lie in [1, " + std::to_string(kMaxCols) + "], got " +
                   std::to_string(cols));
  }
  if (options.method != Method::kClaq && options.method != Method::kGptq &&
      options.method != Method::kRtn) {
    return invalid("method must be claq, gptq or rtn");
  }
  if (options.ranking != Ranking::kOutlierOrder && options.ranking != Ranking::kHessian) {
    return invalid("ranking must be outlier-order or hessian");
  }
  if (options.kmeans != KMeansAlgorithm::kExact && options.kmeans != KMeansAlgorithm::kLloyd) {
    return invalid("kmeans must be exact or lloyd");
  }
  if (!has_hessian && options.method != Method::kRtn) {
    return invalid("a Hessian is required for the claq and gptq methods");
  }
  if (!has_hessian && options.ranking == Ranking::kHessian) {
    return invalid("ranking 'hessian' requires a Hessian");
  }

  Status status = validate_bits(options);
  if (!status.ok()) return status;
  status = validate_reservation(options);
  if (!status.ok()) return status;
  status = validate_grid(options);
  if (!status.ok()) return status;
  return validate_loop_options(options);
}

namespace {

// True when every value is finite: a value is Inf or NaN exactly when its
// exponent bits are all ones. The integer test vectorises.
bool all_finite(const float* values, int64_t count) {
  uint32_t non_finite = 0;
  for (int64_t t = 0; t < count; ++t) {
    uint32_t bits;
    std::memcpy(&bits, values + t, sizeof bits);
    non_finite |= (bits & 0x7f800000u) == 0x7f800000u;
  }
  return non_finite == 0;
}

// The same for scale * values: a finite value times a scale above 1 may overflow.
bool all_finite(const double* values, int64_t count, double scale) {
  uint64_t non_finite = 0;
  for (int64_t t = 0; t < count; ++t) {
    const double value = scale * values[t];
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    non_finite |= (bits & 0x7ff0000000000000ull) == 0x7ff0000000000000ull;
  }
  return non_finite == 0;
}

// Names the first non-finite entry of a row-major matrix, which must have one.
template <typename T>
Status first_non_finite(const char* name, const T* values, int64_t rows, int64_t cols, T scale = 1) {
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      const T value = scale * values[i * cols + j];
      if (!std::isfinite(value)) {
        return invalid(std::string(name) + " must be finite, found " + show(value) + " at row " +
                       std::to_string(i) + ", column " + std::to_string(j));
      }
    }
  }
  return Status::Internal("quantize_layer: non-finite " + std::string(name) + " entry not found");
}

}  // namespace

Status check_finite_inputs(const float* weight, int64_t rows, int64_t cols, const double* hessian,
                           double hessian_scale) {
  if (!all_finite(weight, rows * cols)) return first_non_finite("weight", weight, rows, cols);
  if (hessian != nullptr && !all_finite(hessian, cols * cols, hessian_scale)) {
    return first_non_finite("hessian", hessian, cols, cols, hessian_scale);
  }
  return Status::Ok();
}

}  // namespace claq
