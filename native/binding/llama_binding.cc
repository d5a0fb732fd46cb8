// Glue for whole Llama models: building one from float32 tensors, the forward
// pass, perplexity, generation and block-by-block quantization. A model is an
// External tagged with this file's type tag. Async work keeps a shared_ptr to
// it, so a model dropped by JavaScript stays alive until its workers finish.
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "binding/errors.h"
#include "binding/modules.h"
#include "binding/parts_view.h"
#include "core/llama_generate.h"
#include "core/llama_model.h"
#include "core/llama_perplexity.h"
#include "core/pack.h"
#include "core/thread_pool.h"

namespace claq::binding {
namespace {

// Random, fixed for this file: marks Externals made by llamaCreate.
constexpr napi_type_tag kModelTag = {0x6c6c616d61206d6full, 0x9d1c35e4a8f27b03ull};

constexpr auto kProgressInterval = std::chrono::milliseconds(100);

struct ModelHandle {
  std::unique_ptr<LlamaModel> model;
  std::unique_ptr<ThreadPool> pool;
  // Async jobs running on the model; llamaSetLinear refuses to swap a layer
  // under them.
  std::atomic<int> running{0};
};
using SharedModel = std::shared_ptr<ModelHandle>;

std::string kind_of(const Napi::Value& value) {
  switch (value.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_number: return "the number " + value.ToString().Utf8Value();
    case napi_string: return "a string";
    case napi_object: return value.IsTypedArray() ? "a typed array of another type" : "an object";
    case napi_function: return "a function";
    default: return "a value of another type";
  }
}

int64_t read_int(const Napi::Value& value, const std::string& what, int64_t min, int64_t max) {
  Napi::Env env = value.Env();
  if (!value.IsNumber()) throw Napi::TypeError::New(env, what + " must be a number, received " + kind_of(value));
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::floor(number) != number || number < static_cast<double>(min) ||
      number > static_cast<double>(max)) {
    throw Napi::RangeError::New(env, what + " must be an integer in [" + std::to_string(min) + ", " +
                                         std::to_string(max) + "], received " + kind_of(value));
  }
  return static_cast<int64_t>(number);
}

double read_double(const Napi::Value& value, const std::string& what) {
  Napi::Env env = value.Env();
  if (!value.IsNumber()) throw Napi::TypeError::New(env, what + " must be a number, received " + kind_of(value));
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number)) throw Napi::RangeError::New(env, what + " must be finite, received " + kind_of(value));
  return number;
}

Napi::Object read_object(const Napi::Value& value, const std::string& what) {
  if (!value.IsObject() || value.IsArray() || value.IsTypedArray() || value.IsFunction()) {
    throw Napi::TypeError::New(value.Env(), what + " must be an object, received " + kind_of(value));
  }
  return value.As<Napi::Object>();
}

std::vector<float> read_floats(const Napi::Value& value, const std::string& what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(value.Env(), what + " must be a Float32Array, received " + kind_of(value));
  }
  Napi::Float32Array array = value.As<Napi::Float32Array>();
  return std::vector<float>(array.Data(), array.Data() + array.ElementLength());
}

std::vector<int32_t> read_tokens(const Napi::Value& value, const std::string& what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(value.Env(), what + " must be an Int32Array, received " + kind_of(value));
  }
  Napi::Int32Array array = value.As<Napi::Int32Array>();
  return std::vector<int32_t>(array.Data(), array.Data() + array.ElementLength());
}

SharedModel read_model(const Napi::Value& value, const char* function) {
  Napi::Env env = value.Env();
  if (!value.IsExternal() || !value.As<Napi::Object>().CheckTypeTag(&kModelTag)) {
    throw Napi::TypeError::New(env, std::string(function) + ": model must be a handle from llamaCreate, received " +
                                        kind_of(value));
  }
  return *value.As<Napi::External<SharedModel>>().Data();
}

Napi::Function optional_callback(const Napi::Value& value, const std::string& what) {
  if (value.IsFunction()) return value.As<Napi::Function>();
  if (value.IsUndefined() || value.IsNull()) return Napi::Function();
  throw Napi::TypeError::New(value.Env(), what + " must be a function, received " + kind_of(value));
}

LlamaConfig read_config(const Napi::Object& o) {
  LlamaConfig c;
  const int64_t big = int64_t{1} << 40;
  c.hidden_size = read_int(o.Get("hiddenSize"), "llamaCreate: config.hiddenSize", 1, big);
  c.intermediate_size = read_int(o.Get("intermediateSize"), "llamaCreate: config.intermediateSize", 1, big);
  c.num_layers = read_int(o.Get("numLayers"), "llamaCreate: config.numLayers", 1, big);
  c.num_heads = read_int(o.Get("numHeads"), "llamaCreate: config.numHeads", 1, big);
  c.num_kv_heads = read_int(o.Get("numKvHeads"), "llamaCreate: config.numKvHeads", 1, big);
  c.head_dim = read_int(o.Get("headDim"), "llamaCreate: config.headDim", 1, big);
  c.vocab_size = read_int(o.Get("vocabSize"), "llamaCreate: config.vocabSize", 1, INT32_MAX);
  c.max_positions = read_int(o.Get("maxPositions"), "llamaCreate: config.maxPositions", 1, big);
  c.norm_eps = read_double(o.Get("normEps"), "llamaCreate: config.normEps");
  c.rope_theta = read_double(o.Get("ropeTheta"), "llamaCreate: config.ropeTheta");

  Napi::Value scaling = o.Get("ropeScaling");
  if (scaling.IsNull() || scaling.IsUndefined()) return c;
  Napi::Object s = read_object(scaling, "llamaCreate: config.ropeScaling");
  Napi::Value type = s.Get("type");
  const std::string name = type.IsString() ? type.As<Napi::String>().Utf8Value() : "";
  c.rope_factor = read_double(s.Get("factor"), "llamaCreate: config.ropeScaling.factor");
  if (name == "linear") {
    c.rope_scaling = RopeScaling::kLinear;
  } else if (name == "llama3") {
    c.rope_scaling = RopeScaling::kLlama3;
    c.rope_low_freq_factor = read_double(s.Get("lowFreqFactor"), "llamaCreate: config.ropeScaling.lowFreqFactor");
    c.rope_high_freq_factor = read_double(s.Get("highFreqFactor"), "llamaCreate: config.ropeScaling.highFreqFactor");
    c.rope_original_max_positions = read_int(s.Get("originalMaxPositions"),
                                             "llamaCreate: config.ropeScaling.originalMaxPositions", 1, big);
  } else {
    throw Napi::RangeError::New(o.Env(), "llamaCreate: config.ropeScaling.type must be 'linear' or 'llama3', received '" +
                                             name + "'");
  }
  return c;
}

// A packed linear from quantized parts ({ rows, cols, bitsPerColumn, ... },
// the fields of QuantizedParts); pack_layer checks every size and index.
std::unique_ptr<LlamaLinear> read_packed(const Napi::Object& parts, const std::string& what) {
  const QuantizedPartsView view = read_parts_view(parts.Env(), parts, what);
  auto layer = std::make_shared<PackedLayer>();
  auto grid = std::make_shared<PackedRowGrid>();
  throw_if_error(parts.Env(), pack_layer(view, layer.get(), grid.get()));
  return std::make_unique<PackedLlamaLinear>(std::move(layer), std::move(grid));
}

// A linear from a [out, in] Float32Array (dense) or quantized parts (packed);
// shapes are checked by LlamaModel::create.
std::unique_ptr<LlamaLinear> read_dense(const Napi::Object& o, const char* key, int64_t in_features,
                                        const std::string& what) {
  Napi::Value value = o.Get(key);
  if (value.IsObject() && !value.IsTypedArray() && !value.IsArray()) {
    return read_packed(value.As<Napi::Object>(), what);
  }
  auto weight = std::make_shared<std::vector<float>>(read_floats(value, what));
  const int64_t size = static_cast<int64_t>(weight->size());
  if (size % in_features != 0) {
    throw Napi::RangeError::New(o.Env(), what + " has " + std::to_string(size) +
                                             " values, not a multiple of in_features = " + std::to_string(in_features));
  }
  return std::make_unique<DenseLinear>(std::move(weight), size / in_features, in_features);
}

LlamaWeights read_weights(const Napi::Object& o, const LlamaConfig& c) {
  LlamaWeights w;
  const std::string prefix = "llamaCreate: weights.";
  w.embed_tokens = std::make_shared<const std::vector<float>>(read_floats(o.Get("embedTokens"), prefix + "embedTokens"));
  w.norm = read_floats(o.Get("norm"), prefix + "norm");
  if (o.Get("lmHead").IsNull() || o.Get("lmHead").IsUndefined()) {
    w.lm_head = std::make_unique<DenseLinear>(w.embed_tokens, c.vocab_size, c.hidden_size);
  } else {
    w.lm_head = read_dense(o, "lmHead", c.hidden_size, prefix + "lmHead");
  }

  Napi::Value blocks_value = o.Get("blocks");
  if (!blocks_value.IsArray()) {
    throw Napi::TypeError::New(o.Env(), prefix + "blocks must be an array, received " + kind_of(blocks_value));
  }
  Napi::Array blocks = blocks_value.As<Napi::Array>();
  for (uint32_t i = 0; i < blocks.Length(); ++i) {
    const std::string name = prefix + "blocks[" + std::to_string(i) + "].";
    Napi::Object b = read_object(blocks.Get(i), prefix + "blocks[" + std::to_string(i) + "]");
    LlamaBlockWeights block;
    block.input_norm = read_floats(b.Get("inputNorm"), name + "inputNorm");
    block.post_attention_norm = read_floats(b.Get("postAttentionNorm"), name + "postAttentionNorm");
    block.q_proj = read_dense(b, "qProj", c.hidden_size, name + "qProj");
    block.k_proj = read_dense(b, "kProj", c.hidden_size, name + "kProj");
    block.v_proj = read_dense(b, "vProj", c.hidden_size, name + "vProj");
    block.o_proj = read_dense(b, "oProj", c.q_size(), name + "oProj");
    block.gate_proj = read_dense(b, "gateProj", c.hidden_size, name + "gateProj");
    block.up_proj = read_dense(b, "upProj", c.hidden_size, name + "upProj");
    block.down_proj = read_dense(b, "downProj", c.intermediate_size, name + "downProj");
    w.blocks.push_back(std::move(block));
  }
  return w;
}

// llamaCreate(config, weights, { threads }): model handle. Copies every tensor.
Napi::Value llama_create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const LlamaConfig config = read_config(read_object(info[0], "llamaCreate: config"));
  throw_if_error(env, validate_llama_config(config));
  LlamaWeights weights = read_weights(read_object(info[1], "llamaCreate: weights"), config);
  const Napi::Object options = read_object(info[2], "llamaCreate: options");
  const int threads = static_cast<int>(read_int(options.Get("threads"), "llamaCreate: options.threads", 0, 1024));

  auto handle = std::make_shared<ModelHandle>();
  throw_if_error(env, LlamaModel::create(config, std::move(weights), &handle->model));
  handle->pool = std::make_unique<ThreadPool>(threads);

  auto external = Napi::External<SharedModel>::New(env, new SharedModel(std::move(handle)),
                                                   [](Napi::Env, SharedModel* model) { delete model; });
  external.TypeTag(&kModelTag);
  return external;
}

// llamaForwardSync(model, tokens): Float32Array [count, vocab] of logits for
// tokens at positions 0 .. count - 1, on the calling thread.
Napi::Value llama_forward_sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedModel model = read_model(info[0], "llamaForwardSync");
  const std::vector<int32_t> tokens = read_tokens(info[1], "llamaForwardSync: tokens");
  const LlamaConfig& c = model->model->config();
  const int64_t count = static_cast<int64_t>(tokens.size());
  if (count < 1 || count > c.max_positions) {
    throw Napi::RangeError::New(env, "llamaForwardSync: tokens must have 1 to " + std::to_string(c.max_positions) +
                                         " entries (max_position_embeddings), received " + std::to_string(count));
  }
  KvCache cache(c, count);
  Napi::Float32Array logits = Napi::Float32Array::New(env, count * c.vocab_size);
  throw_if_error(env, model->model->forward(tokens.data(), count, &cache, logits.Data(), model->pool.get()));
  return logits;
}

// Shared by the async workers: a promise, an abort flag, and the error of a
// throwing callback (which stops the run and rejects the promise).
template <typename Event>
class LlamaWorker : public Napi::AsyncProgressQueueWorker<Event> {
 public:
  LlamaWorker(Napi::Env env, const char* name, SharedModel model, Napi::Function callback)
      : Napi::AsyncProgressQueueWorker<Event>(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        model_(std::move(model)),
        abort_(std::make_shared<std::atomic<bool>>(false)) {
    if (!callback.IsEmpty()) callback_ = Napi::Persistent(callback);
    model_->running.fetch_add(1);
  }

  ~LlamaWorker() override { model_->running.fetch_sub(1); }

  // { promise, abort }: abort() sets the flag polled between blocks.
  Napi::Object start(Napi::Env env) {
    Napi::Object result = Napi::Object::New(env);
    result.Set("promise", deferred_.Promise());
    auto abort = abort_;
    result.Set("abort", Napi::Function::New(env, [abort](const Napi::CallbackInfo& call) {
                  abort->store(true);
                  return call.Env().Undefined();
                }, "abort"));
    this->Queue();
    return result;
  }

 protected:
  virtual Napi::Value event_to_js(Napi::Env env, const Event& event) = 0;
  virtual Napi::Value result_to_js(Napi::Env env) = 0;

  void OnProgress(const Event* events, size_t count) override {
    if (callback_.IsEmpty() || !callback_error_.IsEmpty()) return;
    Napi::Env env = this->Env();
    Napi::HandleScope scope(env);
    for (size_t i = 0; i < count; ++i) {
      try {
        callback_.Call({event_to_js(env, events[i])});
      } catch (const Napi::Error& error) {
        callback_error_ = Napi::Persistent(error.Value());
        abort_->store(true);
        return;
      }
    }
  }

  void OnOK() override {
    Napi::Env env = this->Env();
    if (!callback_error_.IsEmpty()) {
      deferred_.Reject(callback_error_.Value());
    } else if (!status_.ok()) {
      deferred_.Reject(make_error(env, status_).Value());
    } else {
      deferred_.Resolve(result_to_js(env));
    }
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

  Napi::Promise::Deferred deferred_;
  SharedModel model_;
  std::shared_ptr<std::atomic<bool>> abort_;
  Napi::FunctionReference callback_;
  Napi::ObjectReference callback_error_;
  Status status_;
};

struct PerplexityEvent {
  int64_t windows_done = 0;
  int64_t windows_total = 0;
  PerplexityResult partial;
};

Napi::Object perplexity_to_js(Napi::Env env, const PerplexityResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("nllSum", r.nll_sum);
  o.Set("targets", static_cast<double>(r.targets));
  o.Set("windows", static_cast<double>(r.windows));
  return o;
}

class PerplexityWorker : public LlamaWorker<PerplexityEvent> {
 public:
  PerplexityWorker(Napi::Env env, SharedModel model, std::vector<int32_t> tokens,
                   PerplexityOptions options, Napi::Function on_progress)
      : LlamaWorker(env, "claq.llamaPerplexity", std::move(model), on_progress),
        tokens_(std::move(tokens)),
        options_(options) {}

 protected:
  void Execute(const ExecutionProgress& progress) override {
    auto last = std::chrono::steady_clock::now() - kProgressInterval;
    PerplexityControl control;
    control.abort = abort_.get();
    control.progress = [&](int64_t done, int64_t total, const PerplexityResult& partial) {
      const auto now = std::chrono::steady_clock::now();
      if (done < total && now - last < kProgressInterval) return;
      last = now;
      PerplexityEvent event{done, total, partial};
      progress.Send(&event, 1);
    };
    status_ = evaluate_perplexity(*model_->model, tokens_.data(), static_cast<int64_t>(tokens_.size()),
                                  options_, model_->pool.get(), control, &result_);
  }

  Napi::Value event_to_js(Napi::Env env, const PerplexityEvent& event) override {
    Napi::Object o = perplexity_to_js(env, event.partial);
    o.Set("windowsDone", static_cast<double>(event.windows_done));
    o.Set("windowsTotal", static_cast<double>(event.windows_total));
    return o;
  }

  Napi::Value result_to_js(Napi::Env env) override { return perplexity_to_js(env, result_); }

 private:
  std::vector<int32_t> tokens_;
  PerplexityOptions options_;
  PerplexityResult result_;
};

// llamaPerplexity(model, tokens, { context }, onProgress | null): { promise, abort }.
Napi::Value llama_perplexity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedModel model = read_model(info[0], "llamaPerplexity");
  std::vector<int32_t> tokens = read_tokens(info[1], "llamaPerplexity: tokens");
  const Napi::Object o = read_object(info[2], "llamaPerplexity: options");
  PerplexityOptions options;
  options.context = read_int(o.Get("context"), "llamaPerplexity: options.context", 1,
                             model->model->config().max_positions);
  Napi::Function on_progress = optional_callback(info[3], "llamaPerplexity: onProgress");
  auto* worker = new PerplexityWorker(env, std::move(model), std::move(tokens), options, on_progress);
  return worker->start(env);
}

const char* finish_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kMaxTokens: return "length";
    case FinishReason::kStopToken: return "stop";
    case FinishReason::kContext: return "context";
  }
  return "length";
}

class GenerateWorker : public LlamaWorker<int32_t> {
 public:
  GenerateWorker(Napi::Env env, SharedModel model, std::vector<int32_t> prompt,
                 GenerateOptions options, Napi::Function on_token)
      : LlamaWorker(env, "claq.llamaGenerate", std::move(model), on_token),
        prompt_(std::move(prompt)),
        options_(std::move(options)) {}

 protected:
  void Execute(const ExecutionProgress& progress) override {
    GenerateControl control;
    control.abort = abort_.get();
    control.on_token = [&progress](int32_t token) { progress.Send(&token, 1); };
    status_ = generate_tokens(*model_->model, prompt_, options_, model_->pool.get(), control, &result_);
  }

  Napi::Value event_to_js(Napi::Env env, const int32_t& token) override {
    return Napi::Number::New(env, token);
  }

  Napi::Value result_to_js(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    Napi::Int32Array tokens = Napi::Int32Array::New(env, result_.tokens.size());
    std::copy(result_.tokens.begin(), result_.tokens.end(), tokens.Data());
    o.Set("tokens", tokens);
    o.Set("finishReason", finish_name(result_.finish));
    o.Set("prefillSeconds", result_.prefill_seconds);
    o.Set("decodeSeconds", result_.decode_seconds);
    return o;
  }

 private:
  std::vector<int32_t> prompt_;
  GenerateOptions options_;
  GenerateResult result_;
};

// llamaGenerate(model, prompt, { maxTokens, temperature, seed, stopTokens }, onToken | null):
// { promise, abort }.
Napi::Value llama_generate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedModel model = read_model(info[0], "llamaGenerate");
  std::vector<int32_t> prompt = read_tokens(info[1], "llamaGenerate: prompt");
  const Napi::Object o = read_object(info[2], "llamaGenerate: options");
  GenerateOptions options;
  options.max_tokens = read_int(o.Get("maxTokens"), "llamaGenerate: options.maxTokens", 0, INT32_MAX);
  options.temperature = read_double(o.Get("temperature"), "llamaGenerate: options.temperature");
  // The seed crosses as a double; 2^53 keeps every integer seed exact.
  options.seed = static_cast<uint64_t>(read_int(o.Get("seed"), "llamaGenerate: options.seed", 0, int64_t{1} << 53));
  options.stop_tokens = read_tokens(o.Get("stopTokens"), "llamaGenerate: options.stopTokens");
  Napi::Function on_token = optional_callback(info[3], "llamaGenerate: onToken");
  auto* worker = new GenerateWorker(env, std::move(model), std::move(prompt), std::move(options), on_token);
  return worker->start(env);
}


// Work of block-by-block quantization on calibration states [sequences,
// seq_len, hidden_size]: either the block's inputs of one kind for every
// sequence ([sequences * seq_len, cols]) or the states after the block.
class BlockWorker : public LlamaWorker<int64_t> {
 public:
  BlockWorker(Napi::Env env, SharedModel model, int64_t block, std::vector<float> states, int64_t seq_len,
              bool capture, LinearInput input)
      : LlamaWorker(env, "claq.llamaBlock", std::move(model), Napi::Function()),
        block_(block),
        states_(std::move(states)),
        seq_len_(seq_len),
        capture_(capture),
        input_(input) {}

 protected:
  void Execute(const ExecutionProgress&) override {
    const LlamaModel& model = *model_->model;
    const int64_t d = model.config().hidden_size;
    const int64_t sequences = static_cast<int64_t>(states_.size()) / (seq_len_ * d);
    LinearInputObserver observer = [this](int64_t, LinearInput input, const float* x, int64_t rows, int64_t cols) {
      if (input == input_) output_.insert(output_.end(), x, x + rows * cols);
    };
    for (int64_t i = 0; i < sequences; ++i) {
      if (abort_->load()) {
        status_ = Status::Aborted("llama block: aborted");
        return;
      }
      float* x = states_.data() + i * seq_len_ * d;
      if (capture_) {
        std::vector<float> copy(x, x + seq_len_ * d);
        status_ = model.forward_block(block_, copy.data(), seq_len_, model_->pool.get(), &observer);
      } else {
        status_ = model.forward_block(block_, x, seq_len_, model_->pool.get(), nullptr);
      }
      if (!status_.ok()) return;
    }
  }

  Napi::Value event_to_js(Napi::Env env, const int64_t&) override { return env.Undefined(); }

  Napi::Value result_to_js(Napi::Env env) override {
    const std::vector<float>& result = capture_ ? output_ : states_;
    Napi::Float32Array array = Napi::Float32Array::New(env, result.size());
    std::copy(result.begin(), result.end(), array.Data());
    return array;
  }

 private:
  int64_t block_;
  std::vector<float> states_;
  int64_t seq_len_;
  bool capture_;
  LinearInput input_;
  std::vector<float> output_;
};

LinearInput read_linear_input(const Napi::Value& value, const std::string& what) {
  const std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (name == "attention") return LinearInput::kAttention;
  if (name == "output") return LinearInput::kOutput;
  if (name == "mlp") return LinearInput::kMlp;
  if (name == "down") return LinearInput::kDown;
  throw Napi::RangeError::New(value.Env(), what + " must be 'attention', 'output', 'mlp' or 'down', received " +
                                               kind_of(value));
}

// llamaBlock(model, block, states, seqLen, input | null): { promise, abort }.
// With an input kind, resolves to that linear input of every sequence;
// with null, to the states after the block.
Napi::Value llama_block(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedModel model = read_model(info[0], "llamaBlock");
  const LlamaConfig& c = model->model->config();
  const int64_t block = read_int(info[1], "llamaBlock: block", 0, c.num_layers - 1);
  std::vector<float> states = read_floats(info[2], "llamaBlock: states");
  const int64_t seq_len = read_int(info[3], "llamaBlock: seqLen", 1, c.max_positions);
  if (states.empty() || states.size() % static_cast<size_t>(seq_len * c.hidden_size) != 0) {
    throw Napi::RangeError::New(env, "llamaBlock: states has " + std::to_string(states.size()) +
                                         " values, not a positive multiple of seqLen * hiddenSize = " +
                                         std::to_string(seq_len * c.hidden_size));
  }
  const bool capture = !info[4].IsNull() && !info[4].IsUndefined();
  const LinearInput input = capture ? read_linear_input(info[4], "llamaBlock: input") : LinearInput::kAttention;
  auto* worker = new BlockWorker(env, std::move(model), block, std::move(states), seq_len, capture, input);
  return worker->start(env);
}

// llamaEmbed(model, tokens): Float32Array [count, hiddenSize], the token embeddings.
Napi::Value llama_embed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedModel model = read_model(info[0], "llamaEmbed");
  const std::vector<int32_t> tokens = read_tokens(info[1], "llamaEmbed: tokens");
  const LlamaConfig& c = model->model->config();
  const float* embed = model->model->weights().embed_tokens->data();
  Napi::Float32Array result = Napi::Float32Array::New(env, tokens.size() * c.hidden_size);
  for (size_t t = 0; t < tokens.size(); ++t) {
    if (tokens[t] < 0 || tokens[t] >= c.vocab_size) {
      throw Napi::RangeError::New(env, "llamaEmbed: token id " + std::to_string(tokens[t]) + " at index " +
                                           std::to_string(t) + " is outside [0, " + std::to_string(c.vocab_size) + ")");
    }
    std::copy_n(embed + static_cast<int64_t>(tokens[t]) * c.hidden_size, c.hidden_size,
                result.Data() + t * c.hidden_size);
  }
  return result;
}

LinearName read_linear_name(const Napi::Value& value) {
  const std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (name == "q_proj") return LinearName::kQ;
  if (name == "k_proj") return LinearName::kK;
  if (name == "v_proj") return LinearName::kV;
  if (name == "o_proj") return LinearName::kO;
  if (name == "gate_proj") return LinearName::kGate;
  if (name == "up_proj") return LinearName::kUp;
  if (name == "down_proj") return LinearName::kDown;
  throw Napi::RangeError::New(value.Env(), "llamaSetLinear: name must be one of q_proj, k_proj, v_proj, o_proj, "
                                           "gate_proj, up_proj, down_proj, received " + kind_of(value));
}

// llamaSetLinear(model, block, name, weight): replaces one linear by a dense
// Float32Array [out, in] or packed quantized parts.
Napi::Value llama_set_linear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SharedModel model = read_model(info[0], "llamaSetLinear");
  const LlamaConfig& c = model->model->config();
  const int64_t block = read_int(info[1], "llamaSetLinear: block", 0, c.num_layers - 1);
  const LinearName name = read_linear_name(info[2]);
  const int64_t in_features = name == LinearName::kO ? c.q_size()
                              : name == LinearName::kDown ? c.intermediate_size
                                                          : c.hidden_size;
  Napi::Object holder = Napi::Object::New(env);
  holder.Set("weight", info[3]);
  std::unique_ptr<LlamaLinear> linear = read_dense(holder, "weight", in_features, "llamaSetLinear: weight");
  if (model->running.load() > 0) {
    throw make_error(env, Status::InvalidArgument("llamaSetLinear: the model has a running job; wait for it first"));
  }
  throw_if_error(env, model->model->set_linear(block, name, std::move(linear)));
  return env.Undefined();
}

}  // namespace

void register_llama(Napi::Env env, Napi::Object exports) {
  exports.Set("llamaCreate", Napi::Function::New(env, llama_create, "llamaCreate"));
  exports.Set("llamaForwardSync", Napi::Function::New(env, llama_forward_sync, "llamaForwardSync"));
  exports.Set("llamaPerplexity", Napi::Function::New(env, llama_perplexity, "llamaPerplexity"));
  exports.Set("llamaGenerate", Napi::Function::New(env, llama_generate, "llamaGenerate"));
  exports.Set("llamaEmbed", Napi::Function::New(env, llama_embed, "llamaEmbed"));
  exports.Set("llamaBlock", Napi::Function::New(env, llama_block, "llamaBlock"));
  exports.Set("llamaSetLinear", Napi::Function::New(env, llama_set_linear, "llamaSetLinear"));
}

}  // namespace claq::binding
