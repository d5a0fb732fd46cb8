// NativeHessian: the JavaScript class over HessianAccumulator. lib/hessian.ts
// checks every argument first; the checks here repeat them for direct calls.
#include "binding/hessian_binding.h"

#include <cstring>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "binding/args.h"
#include "binding/errors.h"
#include "binding/modules.h"

namespace claq::binding {
namespace {

// 65536 columns already need a 32 GiB float64 Gram matrix.
constexpr int64_t kMaxCols = int64_t{1} << 16;
constexpr int64_t kMaxTokens = int64_t{1} << 40;
constexpr int64_t kMaxThreads = 1024;

Napi::Error busy_error(Napi::Env env, const char* operation) {
  Napi::Error error = Napi::Error::New(env, std::string(operation) +
                                                ": a quantization is reading this Hessian; await it first");
  error.Set("code", Napi::String::New(env, "ERR_CLAQ_BUSY"));
  return error;
}

// Per-load tag, so an object made by another copy of the addon (or any other
// object) is never unwrapped as a NativeHessian.
napi_type_tag hessian_tag;

class NativeHessian : public Napi::ObjectWrap<NativeHessian> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeHessian",
                       {
                           InstanceMethod<&NativeHessian::cols>("cols"),
                           InstanceMethod<&NativeHessian::samples>("samples"),
                           InstanceMethod<&NativeHessian::add>("add"),
                           InstanceMethod<&NativeHessian::add_async>("addAsync"),
                           InstanceMethod<&NativeHessian::add_gram>("addGram"),
                           InstanceMethod<&NativeHessian::hessian>("hessian"),
                           InstanceMethod<&NativeHessian::gram>("gram"),
                       });
  }

  explicit NativeHessian(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeHessian>(info) {
    Napi::Env env = info.Env();
    const int64_t cols = read_integer(info[0], "NativeHessian: cols", 1, kMaxCols);
    try {
      state_ = std::make_shared<HessianState>(cols);
    } catch (const std::bad_alloc&) {
      throw make_error(env, Status::OutOfMemory("Hessian: cannot allocate the " + std::to_string(cols) + " x " +
                                                std::to_string(cols) + " float64 Gram matrix"));
    }
    info.This().As<Napi::Object>().TypeTag(&hessian_tag);
  }

  const std::shared_ptr<HessianState>& state() const { return state_; }

 private:
  Napi::Value cols(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(state_->accumulator.cols()));
  }

  Napi::Value samples(const Napi::CallbackInfo& info) {
    std::shared_lock<std::shared_mutex> lock(state_->mutex);
    return Napi::Number::New(info.Env(), static_cast<double>(state_->accumulator.samples()));
  }

  // add(activations: Float32Array, tokens, threads)
  Napi::Value add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int64_t tokens = read_integer(info[1], "Hessian.add: tokens", 1, kMaxTokens);
    const int threads = static_cast<int>(read_integer(info[2], "Hessian.add: threads", 1, kMaxThreads));
    const int64_t length = tokens * state_->accumulator.cols();
    Napi::Float32Array activations =
        read_typed_array<float>(info[0], "Hessian.add: activations", napi_float32_array, "Float32Array", length);

    // A quantization may hold the lock for seconds: fail at once rather
    // than block the JavaScript thread.
    std::unique_lock<std::shared_mutex> lock(state_->mutex, std::try_to_lock);
    if (!lock.owns_lock()) throw busy_error(env, "Hessian.add");
    Status status;
    try {
      status = state_->accumulator.add(activations.Data(), tokens, threads);
    } catch (const std::bad_alloc&) {
      status = Status::OutOfMemory("Hessian.add: out of memory while adding a batch");
    }
    throw_if_error(env, status);
    return env.Undefined();
  }

  // addAsync(activations: Float32Array, tokens, threads): Promise<void>
  Napi::Value add_async(const Napi::CallbackInfo& info);

  // addGram(gram: Float64Array, samples)
  Napi::Value add_gram(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int64_t cols = state_->accumulator.cols();
    Napi::Float64Array gram =
        read_typed_array<double>(info[0], "Hessian.fromGram: gram", napi_float64_array, "Float64Array", cols * cols);
    const int64_t samples = read_integer(info[1], "Hessian.fromGram: samples", 1, kMaxTokens);

    std::unique_lock<std::shared_mutex> lock(state_->mutex, std::try_to_lock);
    if (!lock.owns_lock()) throw busy_error(env, "Hessian.fromGram");
    throw_if_error(env, state_->accumulator.add_gram(gram.Data(), samples));
    return env.Undefined();
  }

  // hessian(): Float64Array with H = (2 / samples) * gram, [cols, cols].
  Napi::Value hessian(const Napi::CallbackInfo& info) {
    const int64_t cols = state_->accumulator.cols();
    Napi::Float64Array out = Napi::Float64Array::New(info.Env(), static_cast<size_t>(cols * cols));
    std::shared_lock<std::shared_mutex> lock(state_->mutex);
    state_->accumulator.hessian(out.Data());
    return out;
  }

  // gram(): Float64Array with sum x x^T, [cols, cols], full and symmetric.
  // The accumulator fills only the lower triangle, so the upper one is mirrored.
  Napi::Value gram(const Napi::CallbackInfo& info) {
    const int64_t cols = state_->accumulator.cols();
    Napi::Float64Array out = Napi::Float64Array::New(info.Env(), static_cast<size_t>(cols * cols));
    double* full = out.Data();
    std::shared_lock<std::shared_mutex> lock(state_->mutex);
    const std::vector<double>& gram = state_->accumulator.gram();
    for (int64_t i = 0; i < cols; ++i) {
      for (int64_t j = 0; j <= i; ++j) {
        full[i * cols + j] = gram[i * cols + j];
        full[j * cols + i] = gram[i * cols + j];
      }
    }
    return out;
  }

  std::shared_ptr<HessianState> state_;
};

// Adds one batch on a libuv worker thread. The activations are copied first:
// the caller may reuse or transfer its buffer while the promise is pending.
class AddWorker : public Napi::AsyncWorker {
 public:
  AddWorker(Napi::Env env, std::shared_ptr<HessianState> state, std::vector<float> activations, int64_t tokens,
            int threads)
      : Napi::AsyncWorker(env, "claq.Hessian.addAsync"),
        deferred_(Napi::Promise::Deferred::New(env)),
        state_(std::move(state)),
        activations_(std::move(activations)),
        tokens_(tokens),
        threads_(threads) {}

  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    std::unique_lock<std::shared_mutex> lock(state_->mutex);
    try {
      status_ = state_->accumulator.add(activations_.data(), tokens_, threads_);
    } catch (const std::bad_alloc&) {
      status_ = Status::OutOfMemory("Hessian.addAsync: out of memory while adding a batch");
    }
  }

  void OnOK() override {
    if (status_.ok()) {
      deferred_.Resolve(Env().Undefined());
    } else {
      deferred_.Reject(make_error(Env(), status_).Value());
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<HessianState> state_;
  std::vector<float> activations_;
  int64_t tokens_;
  int threads_;
  Status status_;
};

Napi::Value NativeHessian::add_async(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t tokens = read_integer(info[1], "Hessian.addAsync: tokens", 1, kMaxTokens);
  const int threads = static_cast<int>(read_integer(info[2], "Hessian.addAsync: threads", 1, kMaxThreads));
  const int64_t length = tokens * state_->accumulator.cols();
  Napi::Float32Array activations =
      read_typed_array<float>(info[0], "Hessian.addAsync: activations", napi_float32_array, "Float32Array", length);

  std::vector<float> copy;
  try {
    copy.assign(activations.Data(), activations.Data() + length);
  } catch (const std::bad_alloc&) {
    throw make_error(env, Status::OutOfMemory("Hessian.addAsync: cannot copy " + std::to_string(length) +
                                              " activations"));
  }
  auto* worker = new AddWorker(env, state_, std::move(copy), tokens, threads);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace

std::shared_ptr<HessianState> unwrap_hessian(const Napi::Value& value, const char* what) {
  if (!value.IsObject() || !value.As<Napi::Object>().CheckTypeTag(&hessian_tag)) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a Hessian, received " + describe(value));
  }
  return NativeHessian::Unwrap(value.As<Napi::Object>())->state();
}

std::shared_lock<std::shared_mutex> lock_symmetric(HessianState& state) {
  for (;;) {
    std::shared_lock<std::shared_mutex> shared(state.mutex);
    if (state.accumulator.symmetric()) return shared;
    shared.unlock();
    std::unique_lock<std::shared_mutex> exclusive(state.mutex);
    state.accumulator.make_symmetric();
  }
}

void register_hessian(Napi::Env env, Napi::Object exports) {
  static const bool tag_ready = [] {
    std::random_device device;
    hessian_tag.lower = (uint64_t{device()} << 32) | device();
    hessian_tag.upper = (uint64_t{device()} << 32) | device();
    return true;
  }();
  (void)tag_ready;
  exports.Set("NativeHessian", NativeHessian::define(env));
}

}  // namespace claq::binding
