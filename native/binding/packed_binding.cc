// Binding of the packed layer: packLayer(parts) wraps a PackedLayer in a
// type-tagged External; packedMatmul / packedMatmulAsync run Y = X W_q^T;
// packedRelease frees the packed data at once (the finalizer frees the rest).
//
// Exports (argument checks are repeated here; lib/packed-linear.ts checks first):
//   packLayer(parts: QuantizedParts): PackedHandle (with the row grid, if any)
//   packedInfo(handle): { rows, cols, bytes, storageBitsPerWeight }
//   packedMatmul(handle, x: Float32Array, tokens, y: Float32Array, { threads }): void
//   packedMatmulAsync(handle, x, tokens, y, { threads }): Promise<void>
//   packedRelease(handle): void
#include <memory>
#include <new>
#include <string>
#include <utility>

#include "binding/errors.h"
#include "binding/modules.h"
#include "binding/parts_view.h"
#include "binding/thread_pools.h"
#include "core/pack.h"
#include "kernels/packed_matmul.h"

namespace claq::binding {
namespace {

// Marks Externals created by this addon as packed layers, so a foreign
// External or another claq object is rejected before the pointer is used.
constexpr napi_type_tag kPackedLayerTag = {0x6c61712d7061636bULL, 0x2d6c617965722d31ULL};

// The External owns a box, and the box shares the layer with running async
// work. So packedRelease during a matmulAsync frees the data when the work ends.
struct PackedBox {
  std::shared_ptr<const PackedLayer> layer;
  std::shared_ptr<const PackedRowGrid> row_grid;  // empty grid for a layer without one
};

Napi::Error type_error(Napi::Env env, const std::string& message) { return Napi::TypeError::New(env, message); }

PackedBox* unwrap(const Napi::CallbackInfo& info, const char* operation) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsExternal() || !info[0].As<Napi::External<PackedBox>>().CheckTypeTag(&kPackedLayerTag)) {
    throw type_error(env, std::string(operation) + ": the first argument must be a packed layer handle from packLayer");
  }
  return info[0].As<Napi::External<PackedBox>>().Data();
}

const PackedBox& live_box(const Napi::CallbackInfo& info, const char* operation) {
  PackedBox* box = unwrap(info, operation);
  if (!box->layer) {
    throw Napi::Error::New(info.Env(), std::string(operation) + ": the packed layer was released; pack it again");
  }
  return *box;
}

Napi::Value pack_layer_binding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsObject()) throw type_error(env, "packLayer: parts must be an object");
  Napi::Object parts = info[0].As<Napi::Object>();

  const QuantizedPartsView view = read_parts_view(env, parts, "packLayer: parts");

  std::shared_ptr<PackedLayer> layer;
  std::shared_ptr<PackedRowGrid> grid;
  PackedBox* box = nullptr;
  try {
    layer = std::make_shared<PackedLayer>();
    grid = std::make_shared<PackedRowGrid>();
    throw_if_error(env, pack_layer(view, layer.get(), grid.get()));
    box = new PackedBox{std::move(layer), std::move(grid)};
  } catch (const std::bad_alloc&) {
    throw make_error(env, Status::OutOfMemory("packLayer: out of memory while packing the layer"));
  }
  Napi::External<PackedBox> handle =
      Napi::External<PackedBox>::New(env, box, [](Napi::Env, PackedBox* b) { delete b; });
  handle.TypeTag(&kPackedLayerTag);
  return handle;
}

Napi::Value packed_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const PackedBox& box = live_box(info, "packedInfo");
  const PackedLayer* layer = box.layer.get();
  Napi::Object result = Napi::Object::New(env);
  result.Set("rows", Napi::Number::New(env, double(layer->rows)));
  result.Set("cols", Napi::Number::New(env, double(layer->cols)));
  result.Set("bytes", Napi::Number::New(env, double(layer->bytes() + box.row_grid->bytes())));
  result.Set("storageBitsPerWeight", Napi::Number::New(env, layer->storage_bits_per_weight));
  return result;
}

// The checked arguments of a matmul call.
struct MatmulCall {
  std::shared_ptr<const PackedLayer> layer;
  std::shared_ptr<const PackedRowGrid> row_grid;
  const float* x = nullptr;
  float* y = nullptr;
  int64_t tokens = 0;
  PackedMatmulOptions options;
};

MatmulCall read_matmul(const Napi::CallbackInfo& info, const char* operation) {
  Napi::Env env = info.Env();
  MatmulCall call;
  const PackedBox& box = live_box(info, operation);
  call.layer = box.layer;
  call.row_grid = box.row_grid;
  call.options.row_grid = call.row_grid.get();
  const std::string op(operation);
  if (info.Length() != 5) throw type_error(env, op + ": expected (handle, x, tokens, y, options)");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw type_error(env, op + ": x must be a Float32Array");
  }
  if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw type_error(env, op + ": y must be a Float32Array");
  }
  if (!info[2].IsNumber()) throw type_error(env, op + ": tokens must be a number");
  const double tokens = info[2].As<Napi::Number>().DoubleValue();
  if (!(tokens >= 1 && tokens <= 1e9) || tokens != static_cast<double>(static_cast<int64_t>(tokens))) {
    throw Napi::RangeError::New(env, op + ": tokens must be an integer >= 1, received " + info[2].ToString().Utf8Value());
  }
  call.tokens = static_cast<int64_t>(tokens);

  Napi::Float32Array x = info[1].As<Napi::Float32Array>();
  Napi::Float32Array y = info[3].As<Napi::Float32Array>();
  if (static_cast<int64_t>(x.ElementLength()) != call.tokens * call.layer->cols) {
    throw Napi::RangeError::New(env, op + ": x has length " + std::to_string(x.ElementLength()) + ", expected tokens * cols = " +
                                         std::to_string(call.tokens * call.layer->cols));
  }
  if (static_cast<int64_t>(y.ElementLength()) != call.tokens * call.layer->rows) {
    throw Napi::RangeError::New(env, op + ": y has length " + std::to_string(y.ElementLength()) + ", expected tokens * rows = " +
                                         std::to_string(call.tokens * call.layer->rows));
  }
  call.x = x.Data();
  call.y = y.Data();

  if (!info[4].IsObject()) throw type_error(env, op + ": options must be an object");
  Napi::Value threads = info[4].As<Napi::Object>().Get("threads");
  if (!threads.IsNumber()) throw type_error(env, op + ": options.threads must be a number");
  const double t = threads.As<Napi::Number>().DoubleValue();
  if (!(t >= 1 && t <= 1024) || t != static_cast<double>(static_cast<int>(t))) {
    throw Napi::RangeError::New(env, op + ": options.threads must be an integer in [1, 1024], received " +
                                         threads.ToString().Utf8Value());
  }
  call.options.pool = t > 1 ? shared_thread_pool(static_cast<int>(t)) : nullptr;
  return call;
}

Napi::Value packed_matmul_binding(const Napi::CallbackInfo& info) {
  MatmulCall call = read_matmul(info, "matmul");
  throw_if_error(info.Env(), packed_matmul(*call.layer, call.x, call.tokens, call.y, call.options));
  return info.Env().Undefined();
}

// Runs one matmul on the libuv pool. The worker holds references to x and y
// and a share of the layer, so neither can be freed while it runs.
class MatmulWorker : public Napi::AsyncWorker {
 public:
  MatmulWorker(Napi::Env env, MatmulCall call, Napi::Object x, Napi::Object y)
      : Napi::AsyncWorker(env, "claq:matmulAsync"), call_(std::move(call)), deferred_(Napi::Promise::Deferred::New(env)) {
    x_ = Napi::Persistent(x);
    y_ = Napi::Persistent(y);
  }

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override { status_ = packed_matmul(*call_.layer, call_.x, call_.tokens, call_.y, call_.options); }

  void OnOK() override {
    if (status_.ok()) {
      deferred_.Resolve(Env().Undefined());
    } else {
      deferred_.Reject(make_error(Env(), status_).Value());
    }
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  MatmulCall call_;
  Status status_;
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference x_;
  Napi::ObjectReference y_;
};

Napi::Value packed_matmul_async(const Napi::CallbackInfo& info) {
  MatmulCall call = read_matmul(info, "matmulAsync");
  auto* worker = new MatmulWorker(info.Env(), std::move(call), info[1].As<Napi::Object>(), info[3].As<Napi::Object>());
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Value packed_release(const Napi::CallbackInfo& info) {
  PackedBox* box = unwrap(info, "release");
  box->layer.reset();
  box->row_grid.reset();
  return info.Env().Undefined();
}

}  // namespace

void register_packed(Napi::Env env, Napi::Object exports) {
  exports.Set("packLayer", Napi::Function::New(env, pack_layer_binding, "packLayer"));
  exports.Set("packedInfo", Napi::Function::New(env, packed_info, "packedInfo"));
  exports.Set("packedMatmul", Napi::Function::New(env, packed_matmul_binding, "packedMatmul"));
  exports.Set("packedMatmulAsync", Napi::Function::New(env, packed_matmul_async, "packedMatmulAsync"));
  exports.Set("packedRelease", Napi::Function::New(env, packed_release, "packedRelease"));
}

}  // namespace claq::binding
