// quantizeLayer / quantizeLayerSync: the binding of claq::quantize_layer.
// lib/quantize-options.ts validates and normalises the options into one plain
// object. This file copies it into a QuantizeOptions struct at once and checks
// it again. The worker thread touches only that struct and its own copies.
#include <atomic>
#include <chrono>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "binding/args.h"
#include "binding/errors.h"
#include "binding/hessian_binding.h"
#include "binding/modules.h"
#include "core/quantize.h"

namespace claq::binding {
namespace {

constexpr int64_t kMaxDimension = int64_t{1} << 24;
// Typed arrays in Node 20 hold at most 2^32 - 1 elements on 64-bit hosts.
constexpr int64_t kMaxWeights = (int64_t{1} << 32) - 1;
constexpr int64_t kMaxThreads = 1024;
constexpr int64_t kMaxBlockSize = int64_t{1} << 16;
// Progress events reach JavaScript at most this often (the last one always).
constexpr std::chrono::milliseconds kProgressInterval{50};

Method parse_method(const Napi::Value& value) {
  const std::string name = read_string(value, "quantizeLayer: options.method");
  if (name == "claq") return Method::kClaq;
  if (name == "gptq") return Method::kGptq;
  if (name == "rtn") return Method::kRtn;
  throw Napi::RangeError::New(value.Env(), "quantizeLayer: options.method must be 'claq', 'gptq' or 'rtn', received '" +
                                               name + "'");
}

Ranking parse_ranking(const Napi::Value& value) {
  const std::string name = read_string(value, "quantizeLayer: options.ranking");
  if (name == "outlier-order") return Ranking::kOutlierOrder;
  if (name == "hessian") return Ranking::kHessian;
  throw Napi::RangeError::New(value.Env(), "quantizeLayer: options.ranking must be 'outlier-order' or 'hessian', "
                                           "received '" + name + "'");
}

Grid parse_grid(const Napi::Value& value) {
  const std::string name = read_string(value, "quantizeLayer: options.grid");
  if (name == "row") return Grid::kRow;
  if (name == "column") return Grid::kColumn;
  throw Napi::RangeError::New(value.Env(), "quantizeLayer: options.grid must be 'row' or 'column', received '" +
                                               name + "'");
}

// Copies the normalised options object (see NormalizedQuantizeOptions in
// types/native.d.ts) into the engine's struct.
QuantizeOptions read_options(const Napi::Value& value) {
  if (!value.IsObject()) {
    throw Napi::TypeError::New(value.Env(), "quantizeLayer: options must be an object, received " + describe(value));
  }
  Napi::Object object = value.As<Napi::Object>();
  QuantizeOptions options;
  options.method = parse_method(object.Get("method"));
  options.grid = parse_grid(object.Get("grid"));
  options.low_bits = static_cast<int>(read_integer(object.Get("lowBits"), "quantizeLayer: options.lowBits", 1, 8));
  options.high_bits = static_cast<int>(read_integer(object.Get("highBits"), "quantizeLayer: options.highBits", 1, 8));
  options.target_bits = read_number(object.Get("targetBits"), "quantizeLayer: options.targetBits", 1, 8);
  options.ranking = parse_ranking(object.Get("ranking"));
  options.outlier_column_fraction =
      read_number(object.Get("outlierColumnFraction"), "quantizeLayer: options.outlierColumnFraction", 0, 1);
  options.outlier_high_fraction =
      read_number(object.Get("outlierHighFraction"), "quantizeLayer: options.outlierHighFraction", 0, 0.5);
  options.outlier_low_fraction =
      read_number(object.Get("outlierLowFraction"), "quantizeLayer: options.outlierLowFraction", 0, 0.5);
  options.outlier_threshold =
      read_number(object.Get("outlierThreshold"), "quantizeLayer: options.outlierThreshold", 0, 1e30);
  options.act_order = read_boolean(object.Get("actOrder"), "quantizeLayer: options.actOrder");
  options.block_size =
      static_cast<int>(read_integer(object.Get("blockSize"), "quantizeLayer: options.blockSize", 1, kMaxBlockSize));
  options.damping = read_number(object.Get("damping"), "quantizeLayer: options.damping", 0, 1);
  options.threads = static_cast<int>(read_integer(object.Get("threads"), "quantizeLayer: options.threads", 1, kMaxThreads));
  return options;
}

// The arguments shared by the sync and async entry points, checked.
struct LayerArguments {
  Napi::Float32Array weight;
  int64_t rows = 0;
  int64_t cols = 0;
  std::shared_ptr<HessianState> hessian;  // null for RTN without a Hessian
  QuantizeOptions options;
};

LayerArguments read_layer_arguments(const Napi::CallbackInfo& info, const char* name) {
  Napi::Env env = info.Env();
  LayerArguments args;
  const std::string prefix = std::string(name) + ": ";
  args.rows = read_integer(info[1], (prefix + "weight.rows").c_str(), 1, kMaxDimension);
  args.cols = read_integer(info[2], (prefix + "weight.cols").c_str(), 1, kMaxDimension);
  if (args.rows * args.cols > kMaxWeights) {
    throw Napi::RangeError::New(env, prefix + "weight.rows * weight.cols must be at most " +
                                         std::to_string(kMaxWeights) + ", received " +
                                         std::to_string(args.rows * args.cols));
  }
  args.weight = read_typed_array<float>(info[0], (prefix + "weight.data").c_str(), napi_float32_array,
                                        "Float32Array", args.rows * args.cols);
  if (!info[3].IsNull() && !info[3].IsUndefined()) {
    args.hessian = unwrap_hessian(info[3], (prefix + "hessian").c_str());
  }
  args.options = read_options(info[4]);

  if (args.hessian != nullptr && args.hessian->accumulator.cols() != args.cols) {
    throw Napi::RangeError::New(env, prefix + "hessian.cols must equal weight.cols (" + std::to_string(args.cols) +
                                         "), received " + std::to_string(args.hessian->accumulator.cols()));
  }
  throw_if_error(env, validate_quantize_options(args.options, args.rows, args.cols, args.hessian != nullptr));
  return args;
}

// Reads H = (2/n) X^T X from the accumulator under its lock into a new
// buffer (left uninitialised first: H is 128 MiB at 4096 columns, and
// hessian() writes every element). Leaves *out empty when there is no Hessian.
Status snapshot_hessian(const std::shared_ptr<HessianState>& state, std::unique_ptr<double[]>* out) {
  if (state == nullptr) return Status::Ok();
  std::lock_guard<std::mutex> lock(state->mutex);
  if (state->accumulator.samples() == 0) {
    return Status::InvalidArgument("quantizeLayer: the Hessian has no samples; add calibration activations first");
  }
  const int64_t cols = state->accumulator.cols();
  out->reset(new (std::nothrow) double[static_cast<size_t>(cols * cols)]);
  if (*out == nullptr) {
    return Status::OutOfMemory("quantizeLayer: cannot allocate the " + std::to_string(cols) + " x " +
                               std::to_string(cols) + " float64 Hessian");
  }
  state->accumulator.hessian(out->get());
  return Status::Ok();
}

Status run_quantize(const float* weight, const LayerArguments& args, const std::shared_ptr<HessianState>& hessian,
                    const QuantizeControl& control, QuantizedLayerData* out) {
  try {
    std::unique_ptr<double[]> h;
    Status status = snapshot_hessian(hessian, &h);
    if (!status.ok()) return status;
    return quantize_layer(weight, args.rows, args.cols, h.get(), args.options, control, out);
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("quantizeLayer: out of memory for a " + std::to_string(args.rows) + " x " +
                               std::to_string(args.cols) + " layer");
  }
}

Napi::Object to_js(Napi::Env env, const QuantizedLayerData& data) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("rows", Napi::Number::New(env, static_cast<double>(data.rows)));
  result.Set("cols", Napi::Number::New(env, static_cast<double>(data.cols)));
  result.Set("bitsPerColumn", to_typed_array<uint8_t>(env, data.bits_per_column.data(), data.bits_per_column.size()));
  result.Set("permutation", to_typed_array<int32_t>(env, data.permutation.data(), data.permutation.size()));
  result.Set("codes", to_typed_array<uint8_t>(env, data.codes.data(), data.codes.size()));
  result.Set("codebookOffsets",
             to_typed_array<uint32_t>(env, data.codebook_offsets.data(), data.codebook_offsets.size()));
  result.Set("codebooks", to_typed_array<float>(env, data.codebooks.data(), data.codebooks.size()));
  result.Set("outlierRows", to_typed_array<int32_t>(env, data.outlier_rows.data(), data.outlier_rows.size()));
  result.Set("outlierCols", to_typed_array<int32_t>(env, data.outlier_cols.data(), data.outlier_cols.size()));
  result.Set("outlierValues", to_typed_array<float>(env, data.outlier_values.data(), data.outlier_values.size()));
  if (!data.row_scales.empty()) {
    result.Set("rowScales", to_typed_array<float>(env, data.row_scales.data(), data.row_scales.size()));
    result.Set("rowZeros", to_typed_array<float>(env, data.row_zeros.data(), data.row_zeros.size()));
  }

  Napi::Object stats = Napi::Object::New(env);
  stats.Set("loss", data.stats.loss);
  stats.Set("damping", data.stats.damping);
  stats.Set("deadColumns", static_cast<double>(data.stats.dead_columns));
  stats.Set("outlierCount", static_cast<double>(data.stats.outlier_count));
  stats.Set("seconds", data.stats.seconds);
  stats.Set("factorizationSeconds", data.stats.factorization_seconds);
  stats.Set("kmeansSeconds", data.stats.kmeans_seconds);
  stats.Set("updateSeconds", data.stats.update_seconds);
  result.Set("stats", stats);
  return result;
}

// quantizeLayerSync(weight, rows, cols, hessian | null, options): result.
// Runs on the calling thread and reads the weights in place.
Napi::Value quantize_layer_sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LayerArguments args = read_layer_arguments(info, "quantizeLayerSync");
  QuantizedLayerData data;
  throw_if_error(env, run_quantize(args.weight.Data(), args, args.hessian, QuantizeControl{}, &data));
  return to_js(env, data);
}

// One progress report from the worker thread.
struct ProgressEvent {
  bool start = false;   // the worker began (before the factorization)
  int64_t done = 0;     // columns quantized so far
  int64_t total = 0;
};

// Runs one quantization on a libuv worker thread. The weights are copied in
// the constructor, because the caller may reuse, mutate or transfer its
// buffer while the promise is pending.
class QuantizeWorker : public Napi::AsyncProgressQueueWorker<ProgressEvent> {
 public:
  QuantizeWorker(Napi::Env env, LayerArguments args, std::vector<float> weight, Napi::Value on_progress,
                 std::shared_ptr<std::atomic<bool>> abort)
      : Napi::AsyncProgressQueueWorker<ProgressEvent>(env, "claq.quantizeLayer"),
        deferred_(Napi::Promise::Deferred::New(env)),
        args_(std::move(args)),
        weight_(std::move(weight)),
        abort_(std::move(abort)) {
    // The worker must not hold a JS handle beyond the call that made it.
    args_.weight = Napi::Float32Array();
    if (on_progress.IsFunction()) on_progress_ = Napi::Persistent(on_progress.As<Napi::Function>());
  }

  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute(const ExecutionProgress& progress) override {
    ProgressEvent start;
    start.start = true;
    start.total = args_.cols;
    progress.Send(&start, 1);

    auto last = std::chrono::steady_clock::now() - kProgressInterval;
    QuantizeControl control;
    control.abort = abort_.get();
    control.progress = [&progress, &last](int64_t done, int64_t total) {
      const auto now = std::chrono::steady_clock::now();
      if (done < total && now - last < kProgressInterval) return;
      last = now;
      ProgressEvent event;
      event.done = done;
      event.total = total;
      progress.Send(&event, 1);
    };
    status_ = run_quantize(weight_.data(), args_, args_.hessian, control, &data_);
  }

  void OnProgress(const ProgressEvent* events, size_t count) override {
    if (on_progress_.IsEmpty() || !callback_error_.IsEmpty()) return;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    for (size_t i = 0; i < count; ++i) {
      Napi::Object event = Napi::Object::New(env);
      event.Set("type", events[i].start ? "start" : "columns");
      event.Set("done", static_cast<double>(events[i].done));
      event.Set("total", static_cast<double>(events[i].total));
      try {
        on_progress_.Call({event});
      } catch (const Napi::Error& error) {
        // A throwing callback stops the run; the promise rejects with its error.
        callback_error_ = Napi::Persistent(error.Value());
        abort_->store(true);
        return;
      }
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!callback_error_.IsEmpty()) {
      deferred_.Reject(callback_error_.Value());
    } else if (!status_.ok()) {
      deferred_.Reject(make_error(env, status_).Value());
    } else {
      deferred_.Resolve(to_js(env, data_));
    }
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  LayerArguments args_;
  std::vector<float> weight_;
  std::shared_ptr<std::atomic<bool>> abort_;
  Napi::FunctionReference on_progress_;
  Napi::ObjectReference callback_error_;
  Status status_;
  QuantizedLayerData data_;
};

// quantizeLayer(weight, rows, cols, hessian | null, options, onProgress | null):
// { promise, abort }. abort() sets the flag that the engine polls between
// column blocks; the promise then rejects with an AbortError.
Napi::Value quantize_layer_async(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LayerArguments args = read_layer_arguments(info, "quantizeLayer");
  if (!info[5].IsFunction() && !info[5].IsNull() && !info[5].IsUndefined()) {
    throw Napi::TypeError::New(env, "quantizeLayer: options.onProgress must be a function, received " +
                                        describe(info[5]));
  }

  std::vector<float> weight;
  const size_t count = static_cast<size_t>(args.rows * args.cols);
  try {
    weight.assign(args.weight.Data(), args.weight.Data() + count);
  } catch (const std::bad_alloc&) {
    throw make_error(env, Status::OutOfMemory("quantizeLayer: cannot copy " + std::to_string(count) + " weights"));
  }

  auto abort = std::make_shared<std::atomic<bool>>(false);
  auto* worker = new QuantizeWorker(env, std::move(args), std::move(weight), info[5], abort);
  Napi::Object result = Napi::Object::New(env);
  result.Set("promise", worker->promise());
  result.Set("abort", Napi::Function::New(env, [abort](const Napi::CallbackInfo& call) {
                abort->store(true);
                return call.Env().Undefined();
              }, "abort"));
  worker->Queue();
  return result;
}

}  // namespace

void register_quantize(Napi::Env env, Napi::Object exports) {
  exports.Set("quantizeLayer", Napi::Function::New(env, quantize_layer_async, "quantizeLayer"));
  exports.Set("quantizeLayerSync", Napi::Function::New(env, quantize_layer_sync, "quantizeLayerSync"));
}

}  // namespace claq::binding
