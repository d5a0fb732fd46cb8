// quantizeLayer / quantizeLayerSync: the binding of claq::quantize_layer.
// lib/quantize-options.ts validates and normalises the options into one plain
// object. This file copies it into a QuantizeOptions struct at once and checks
// it again. The worker thread touches only that struct, its own copy of the
// weights and the Hessian, which it reads in place under a shared lock.
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <new>
#include <shared_mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "binding/args.h"
#include "binding/errors.h"
#include "binding/hessian_binding.h"
#include "binding/modules.h"
#include "binding/thread_pools.h"
#include "core/finite.h"
#include "core/quantize.h"
#include "core/work_buffer.h"
#include "core/work_memory.h"

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
// types/native.ts) into the engine's struct.
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
  ThreadPool* pool = nullptr;  // the shared pool of options.threads threads
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
  args.pool = shared_thread_pool(args.options.threads);
  return args;
}

// Runs the engine. The Hessian's Gram matrix is read in place with the scale
// 2 / n, under a shared lock held until the engine returns: several
// quantizations read one Hessian at once, and an add waits for them. With
// `weight_finite` (copy_weights checked them) and a Hessian that
// make_symmetric found finite, the engine skips its scan of both (10 ms of
// CPU time at 4096 x 4096).
Status run_quantize(const float* weight, bool weight_finite, const LayerArguments& args, QuantizeControl control,
                    QuantizedLayerData* out) {
  control.pool = args.pool;
  try {
    if (args.hessian == nullptr) {
      control.inputs_finite = weight_finite;
      return quantize_layer(weight, args.rows, args.cols, nullptr, args.options, control, out);
    }
    const std::shared_lock<std::shared_mutex> lock = lock_symmetric(*args.hessian);
    const HessianAccumulator& accumulator = args.hessian->accumulator;
    if (accumulator.samples() == 0) {
      return Status::InvalidArgument("quantizeLayer: the Hessian has no samples; add calibration activations first");
    }
    // The same scale as HessianAccumulator::hessian, so results match bit for bit.
    const double scale = 2.0 / static_cast<double>(accumulator.samples());
    control.inputs_finite = weight_finite && accumulator.finite_when_scaled(scale);
    return quantize_layer(weight, args.rows, args.cols, accumulator.gram().data(), scale, args.options, control,
                          out);
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("quantizeLayer: out of memory for a " + std::to_string(args.rows) + " x " +
                               std::to_string(args.cols) + " layer");
  }
}

// Hands the result's vectors to JavaScript without copying them.
Napi::Object to_js(Napi::Env env, QuantizedLayerData&& data) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("rows", Napi::Number::New(env, static_cast<double>(data.rows)));
  result.Set("cols", Napi::Number::New(env, static_cast<double>(data.cols)));
  result.Set("bitsPerColumn", adopt_typed_array(env, std::move(data.bits_per_column)));
  result.Set("permutation", adopt_typed_array(env, std::move(data.permutation)));
  result.Set("codes", adopt_typed_array(env, std::move(data.codes)));
  result.Set("codebookOffsets", adopt_typed_array(env, std::move(data.codebook_offsets)));
  result.Set("codebooks", adopt_typed_array(env, std::move(data.codebooks)));
  result.Set("outlierRows", adopt_typed_array(env, std::move(data.outlier_rows)));
  result.Set("outlierCols", adopt_typed_array(env, std::move(data.outlier_cols)));
  result.Set("outlierValues", adopt_typed_array(env, std::move(data.outlier_values)));
  if (!data.row_scales.empty()) {
    result.Set("rowScales", adopt_typed_array(env, std::move(data.row_scales)));
    result.Set("rowZeros", adopt_typed_array(env, std::move(data.row_zeros)));
  }

  Napi::Object stats = Napi::Object::New(env);
  stats.Set("loss", data.stats.loss);
  stats.Set("damping", data.stats.damping);
  stats.Set("deadColumns", static_cast<double>(data.stats.dead_columns));
  stats.Set("outlierCount", static_cast<double>(data.stats.outlier_count));
  stats.Set("seconds", data.stats.seconds);
  stats.Set("factorizationSeconds", data.stats.factorization_seconds);
  stats.Set("kmeansSeconds", data.stats.kmeans_seconds);
  stats.Set("reservationSeconds", data.stats.reservation_seconds);
  stats.Set("assignmentSeconds", data.stats.assignment_seconds);
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
  throw_if_error(env, run_quantize(args.weight.Data(), false, args, QuantizeControl{}, &data));
  return to_js(env, std::move(data));
}

// One progress report from the worker thread.
struct ProgressEvent {
  bool start = false;   // the worker began (before the factorization)
  int64_t done = 0;     // columns quantized so far
  int64_t total = 0;
};

// Runs one quantization on a libuv worker thread, on a copy of the weights
// made before the call returns (copy_weights), because the caller may reuse,
// mutate or transfer its buffer while the promise is pending.
class QuantizeWorker : public Napi::AsyncProgressQueueWorker<ProgressEvent> {
 public:
  QuantizeWorker(Napi::Env env, LayerArguments args, WorkBuffer<float> weight, Napi::Value on_progress,
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
    status_ = run_quantize(weight_.get(), true, args_, std::move(control), &data_);
    // Freed here rather than with the worker, which the JavaScript thread deletes.
    weight_ = WorkBuffer<float>();
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
      deferred_.Resolve(to_js(env, std::move(data_)));
    }
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  LayerArguments args_;
  WorkBuffer<float> weight_;
  std::shared_ptr<std::atomic<bool>> abort_;
  Napi::FunctionReference on_progress_;
  Napi::ObjectReference callback_error_;
  Status status_;
  QuantizedLayerData data_;
};

// Copies `count` floats and returns the index of the first non-finite one, or
// -1. The copy blocks the JavaScript thread, and one thread copied 64 MiB in
// 13 to 16 ms. So a large copy runs in two halves, the first on a thread of
// its own. When no thread can start, the calling thread copies both.
int64_t copy_checked(const float* from, float* to, int64_t count) {
  constexpr int64_t kSplitFloats = int64_t{1} << 20;
  if (count < kSplitFloats) return copy_first_non_finite_f32(from, to, count);

  const int64_t half = count / 2;
  int64_t first_bad = -1;
  std::thread helper;
  try {
    helper = std::thread([&] { first_bad = copy_first_non_finite_f32(from, to, half); });
  } catch (const std::system_error&) {
    first_bad = copy_first_non_finite_f32(from, to, half);
  }
  const int64_t second_bad = copy_first_non_finite_f32(from + half, to + half, count - half);
  if (helper.joinable()) helper.join();
  if (first_bad >= 0) return first_bad;
  return second_bad >= 0 ? half + second_bad : -1;
}

// Copies the weights and checks them for NaN and infinities in the same pass;
// throws a RangeError that names the first bad element. The copy lives in
// huge pages where the system offers them: the 4 KiB page faults of a plain
// 64 MiB copy cost about 25 ms, against 6 ms with 2 MiB pages.
WorkBuffer<float> copy_weights(Napi::Env env, const LayerArguments& args) {
  const int64_t count = args.rows * args.cols;
  WorkBuffer<float> copy;
  try {
    copy = WorkBuffer<float>(count);
  } catch (const std::bad_alloc&) {
    throw make_error(env, Status::OutOfMemory("quantizeLayer: cannot copy " + std::to_string(count) + " weights"));
  }
  const int64_t bad = copy_checked(args.weight.Data(), copy.get(), count);
  if (bad >= 0) {
    const float value = args.weight.Data()[bad];
    const char* kind = "-Infinity";
    if (std::isnan(value)) {
      kind = "NaN";
    } else if (value > 0) {
      kind = "Infinity";
    }
    throw Napi::RangeError::New(env, "quantizeLayer: weight.data must be finite, but element [row " +
                                         std::to_string(bad / args.cols) + ", column " +
                                         std::to_string(bad % args.cols) + "] (index " + std::to_string(bad) +
                                         ") is " + kind);
  }
  return copy;
}

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

  WorkBuffer<float> weight = copy_weights(env, args);
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

// trimWorkMemory(): frees the cached work buffers; returns the bytes freed.
Napi::Value trim_work_memory_js(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(trim_work_memory()));
}

// cachedWorkMemory(): the bytes the work-buffer cache contains now.
Napi::Value cached_work_memory_js(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(cached_work_memory()));
}

void register_quantize(Napi::Env env, Napi::Object exports) {
  exports.Set("quantizeLayer", Napi::Function::New(env, quantize_layer_async, "quantizeLayer"));
  exports.Set("quantizeLayerSync", Napi::Function::New(env, quantize_layer_sync, "quantizeLayerSync"));
  exports.Set("trimWorkMemory", Napi::Function::New(env, trim_work_memory_js, "trimWorkMemory"));
  exports.Set("cachedWorkMemory", Napi::Function::New(env, cached_work_memory_js, "cachedWorkMemory"));
}

}  // namespace claq::binding
