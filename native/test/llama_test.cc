// The Llama forward pass against a float64 brute-force decoder written here
// (its own RMSNorm, rotate-half RoPE, grouped-query softmax attention, SwiGLU),
// on small random models at every supported SIMD level; plus the KV cache
// (a batched window equals one token at a time), perplexity windows,
// generation and the rope_scaling frequencies.
//
// Tolerance: logits of these models are O(1) and the float32 pass rounds
// every GEMM and the float32 exp (relative error ~2e-7); the largest
// difference measured on these cases is 1.1e-5, so 2e-4 absolute leaves a
// margin of about 20x, while a wrong RoPE pairing, head mapping or mask
// moves logits by 1e-2 or more.
#include <cmath>
#include <memory>
#include <vector>

#include "core/llama_generate.h"
#include "core/llama_model.h"
#include "core/llama_perplexity.h"
#include "core/llama_rope.h"
#include "core/thread_pool.h"
#include "kernels/simd_level.h"
#include "kernels/vector_math.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

constexpr double kLogitTolerance = 2e-4;

struct RawBlock {
  std::vector<float> input_norm, q, k, v, o, post_norm, gate, up, down;
};

struct RawModel {
  LlamaConfig config;
  std::vector<float> embed, norm, head;  // head empty when tied
  std::vector<RawBlock> blocks;
};

std::vector<float> random_vector(test::Rng& rng, int64_t n, double scale, double offset = 0) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(offset + scale * rng.normal());
  return v;
}

RawModel random_model(uint64_t seed, bool tied, int64_t heads, int64_t kv_heads) {
  test::Rng rng(seed);
  RawModel m;
  LlamaConfig& c = m.config;
  c.hidden_size = 24;
  c.intermediate_size = 40;
  c.num_layers = 2;
  c.num_heads = heads;
  c.num_kv_heads = kv_heads;
  c.head_dim = 8;
  c.vocab_size = 37;
  c.max_positions = 96;
  c.norm_eps = 1e-5;
  c.rope_theta = 500.0;  // small theta: the rotation angles vary a lot within 96 positions
  const int64_t d = c.hidden_size;
  const double s = 1.0 / std::sqrt(static_cast<double>(d));
  m.embed = random_vector(rng, c.vocab_size * d, 1.0);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    RawBlock b;
    b.input_norm = random_vector(rng, d, 0.1, 1.0);
    b.q = random_vector(rng, c.q_size() * d, 2 * s);
    b.k = random_vector(rng, c.kv_size() * d, 2 * s);
    b.v = random_vector(rng, c.kv_size() * d, s);
    b.o = random_vector(rng, d * c.q_size(), s);
    b.post_norm = random_vector(rng, d, 0.1, 1.0);
    b.gate = random_vector(rng, c.intermediate_size * d, s);
    b.up = random_vector(rng, c.intermediate_size * d, s);
    b.down = random_vector(rng, d * c.intermediate_size, 1.0 / std::sqrt(40.0));
    m.blocks.push_back(b);
  }
  m.norm = random_vector(rng, d, 0.1, 1.0);
  if (!tied) m.head = random_vector(rng, c.vocab_size * d, s);
  return m;
}

std::unique_ptr<LlamaLinear> dense(const std::vector<float>& w, int64_t out, int64_t in) {
  return std::make_unique<DenseLinear>(std::make_shared<std::vector<float>>(w), out, in);
}

std::unique_ptr<LlamaModel> build(const RawModel& m) {
  const LlamaConfig& c = m.config;
  LlamaWeights w;
  w.embed_tokens = std::make_shared<std::vector<float>>(m.embed);
  for (const RawBlock& r : m.blocks) {
    LlamaBlockWeights b;
    b.input_norm = r.input_norm;
    b.q_proj = dense(r.q, c.q_size(), c.hidden_size);
    b.k_proj = dense(r.k, c.kv_size(), c.hidden_size);
    b.v_proj = dense(r.v, c.kv_size(), c.hidden_size);
    b.o_proj = dense(r.o, c.hidden_size, c.q_size());
    b.post_attention_norm = r.post_norm;
    b.gate_proj = dense(r.gate, c.intermediate_size, c.hidden_size);
    b.up_proj = dense(r.up, c.intermediate_size, c.hidden_size);
    b.down_proj = dense(r.down, c.hidden_size, c.intermediate_size);
    w.blocks.push_back(std::move(b));
  }
  w.norm = m.norm;
  w.lm_head = m.head.empty() ? std::make_unique<DenseLinear>(w.embed_tokens, c.vocab_size, c.hidden_size)
                             : dense(m.head, c.vocab_size, c.hidden_size);
  std::unique_ptr<LlamaModel> model;
  Status s = LlamaModel::create(c, std::move(w), &model);
  CHECK(s.ok());
  return model;
}

// y[out] = W[out, in] x[in] in float64.
std::vector<double> matvec(const std::vector<float>& w, const std::vector<double>& x, int64_t out) {
  const int64_t in = static_cast<int64_t>(x.size());
  std::vector<double> y(out, 0.0);
  for (int64_t i = 0; i < out; ++i) {
    for (int64_t j = 0; j < in; ++j) y[i] += w[i * in + j] * x[j];
  }
  return y;
}

std::vector<double> rms_norm(const std::vector<double>& x, const std::vector<float>& w, double eps) {
  double sum = 0;
  for (double v : x) sum += v * v;
  const double scale = 1.0 / std::sqrt(sum / static_cast<double>(x.size()) + eps);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * w[i];
  return y;
}

// Rotate-half RoPE of every head in v, written from the definition.
void rope(std::vector<double>& v, int64_t heads, int64_t hd, int64_t pos, double theta) {
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < hd / 2; ++i) {
      const double angle = pos * std::pow(theta, -2.0 * i / hd);
      const double a = v[h * hd + i], b = v[h * hd + i + hd / 2];
      v[h * hd + i] = a * std::cos(angle) - b * std::sin(angle);
      v[h * hd + i + hd / 2] = b * std::cos(angle) + a * std::sin(angle);
    }
  }
}

// Logits [n, vocab] of tokens at positions 0..n-1, one token at a time.
std::vector<double> reference_logits(const RawModel& m, const std::vector<int32_t>& tokens) {
  const LlamaConfig& c = m.config;
  const int64_t n = static_cast<int64_t>(tokens.size()), d = c.hidden_size, hd = c.head_dim;
  std::vector<std::vector<double>> x(n, std::vector<double>(d));
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t j = 0; j < d; ++j) x[t][j] = m.embed[tokens[t] * d + j];
  }
  for (const RawBlock& b : m.blocks) {
    std::vector<std::vector<double>> q(n), k(n), v(n);
    for (int64_t t = 0; t < n; ++t) {
      const std::vector<double> a = rms_norm(x[t], b.input_norm, c.norm_eps);
      q[t] = matvec(b.q, a, c.q_size());
      k[t] = matvec(b.k, a, c.kv_size());
      v[t] = matvec(b.v, a, c.kv_size());
      rope(q[t], c.num_heads, hd, t, c.rope_theta);
      rope(k[t], c.num_kv_heads, hd, t, c.rope_theta);
    }
    for (int64_t t = 0; t < n; ++t) {
      std::vector<double> attended(c.q_size(), 0.0);
      for (int64_t h = 0; h < c.num_heads; ++h) {
        const int64_t g = h / (c.num_heads / c.num_kv_heads);
        std::vector<double> score(t + 1);
        double max_score = -1e300, total = 0;
        for (int64_t p = 0; p <= t; ++p) {
          double dot = 0;
          for (int64_t i = 0; i < hd; ++i) dot += q[t][h * hd + i] * k[p][g * hd + i];
          score[p] = dot / std::sqrt(static_cast<double>(hd));
          max_score = std::max(max_score, score[p]);
        }
        for (int64_t p = 0; p <= t; ++p) total += std::exp(score[p] - max_score);
        for (int64_t p = 0; p <= t; ++p) {
          const double weight = std::exp(score[p] - max_score) / total;
          for (int64_t i = 0; i < hd; ++i) attended[h * hd + i] += weight * v[p][g * hd + i];
        }
      }
      const std::vector<double> o = matvec(b.o, attended, d);
      for (int64_t j = 0; j < d; ++j) x[t][j] += o[j];

      const std::vector<double> a = rms_norm(x[t], b.post_norm, c.norm_eps);
      const std::vector<double> gate = matvec(b.gate, a, c.intermediate_size);
      const std::vector<double> up = matvec(b.up, a, c.intermediate_size);
      std::vector<double> hidden(c.intermediate_size);
      for (int64_t i = 0; i < c.intermediate_size; ++i) {
        hidden[i] = gate[i] / (1 + std::exp(-gate[i])) * up[i];
      }
      const std::vector<double> down = matvec(b.down, hidden, d);
      for (int64_t j = 0; j < d; ++j) x[t][j] += down[j];
    }
  }
  std::vector<double> logits;
  const std::vector<float>& head = m.head.empty() ? m.embed : m.head;
  for (int64_t t = 0; t < n; ++t) {
    const std::vector<double> row = matvec(head, rms_norm(x[t], m.norm, c.norm_eps), c.vocab_size);
    logits.insert(logits.end(), row.begin(), row.end());
  }
  return logits;
}

std::vector<int32_t> random_tokens(test::Rng& rng, int64_t n, int64_t vocab) {
  std::vector<int32_t> tokens(n);
  for (int32_t& t : tokens) t = static_cast<int32_t>(rng.next() % vocab);
  return tokens;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

}  // namespace

CLAQ_TEST(llama_forward_matches_float64_reference_at_every_level) {
  ThreadPool pool(2);
  const SimdLevel original = active_simd_level();
  struct Case { bool tied; int64_t heads, kv_heads; int64_t tokens; };
  // 70 tokens straddle the 64-query attention chunk; 4 vs 2 kv heads is GQA,
  // 4 vs 4 is plain multi-head attention.
  for (const Case& k : {Case{true, 4, 2, 70}, Case{false, 4, 4, 9}, Case{false, 6, 1, 1}}) {
    const RawModel raw = random_model(11 + k.heads, k.tied, k.heads, k.kv_heads);
    std::unique_ptr<LlamaModel> model = build(raw);
    test::Rng rng(5);
    const std::vector<int32_t> tokens = random_tokens(rng, k.tokens, raw.config.vocab_size);
    const std::vector<double> expected = reference_logits(raw, tokens);
    for (SimdLevel level : supported_simd_levels()) {
      CHECK(set_simd_level(level));
      KvCache cache(raw.config, k.tokens);
      std::vector<float> logits(k.tokens * raw.config.vocab_size);
      CHECK(model->forward(tokens.data(), k.tokens, &cache, logits.data(), &pool).ok());
      CHECK_NEAR(max_abs_diff(logits, expected), 0.0, kLogitTolerance);
      CHECK_EQ(cache.length(), k.tokens);
    }
  }
  set_simd_level(original);
}

CLAQ_TEST(llama_window_after_cache_equals_one_window) {
  // 30 tokens as one window must equal 7 + 1 + 22 tokens through the cache,
  // so the positions and the mask of later windows are right.
  const RawModel raw = random_model(3, true, 4, 2);
  std::unique_ptr<LlamaModel> model = build(raw);
  test::Rng rng(9);
  const std::vector<int32_t> tokens = random_tokens(rng, 30, raw.config.vocab_size);
  const int64_t vocab = raw.config.vocab_size;

  KvCache whole(raw.config, 30);
  std::vector<float> expected(30 * vocab);
  CHECK(model->forward(tokens.data(), 30, &whole, expected.data(), nullptr).ok());

  KvCache parts(raw.config, 30);
  std::vector<float> logits(30 * vocab);
  CHECK(model->forward(tokens.data(), 7, &parts, logits.data(), nullptr).ok());
  CHECK(model->forward(tokens.data() + 7, 1, &parts, logits.data() + 7 * vocab, nullptr).ok());
  CHECK(model->forward(tokens.data() + 8, 22, &parts, logits.data() + 8 * vocab, nullptr).ok());
  double worst = 0;
  for (size_t i = 0; i < logits.size(); ++i) worst = std::max(worst, std::fabs(double(logits[i]) - expected[i]));
  CHECK_NEAR(worst, 0.0, 1e-5);
}

CLAQ_TEST(llama_forward_rejects_bad_tokens_and_full_cache) {
  const RawModel raw = random_model(4, true, 4, 2);
  std::unique_ptr<LlamaModel> model = build(raw);
  KvCache cache(raw.config, 4);
  std::vector<float> logits(8 * raw.config.vocab_size);
  const std::vector<int32_t> bad = {1, 2, static_cast<int32_t>(raw.config.vocab_size)};
  CHECK(model->forward(bad.data(), 3, &cache, logits.data(), nullptr).code() == StatusCode::kInvalidArgument);
  const std::vector<int32_t> negative = {-1};
  CHECK(model->forward(negative.data(), 1, &cache, logits.data(), nullptr).code() == StatusCode::kInvalidArgument);
  CHECK_EQ(cache.length(), 0);
  const std::vector<int32_t> five = {1, 2, 3, 4, 5};
  CHECK(model->forward(five.data(), 5, &cache, logits.data(), nullptr).code() == StatusCode::kInvalidArgument);

  std::atomic<bool> abort{true};
  CHECK(model->forward(five.data(), 4, &cache, logits.data(), nullptr, &abort).code() == StatusCode::kAborted);
  CHECK_EQ(cache.length(), 0);
}

CLAQ_TEST(llama_create_rejects_misshapen_weights) {
  RawModel raw = random_model(6, false, 4, 2);
  raw.blocks[1].k.resize(raw.blocks[1].k.size() - raw.config.hidden_size);  // one row short
  LlamaWeights w;
  const LlamaConfig& c = raw.config;
  w.embed_tokens = std::make_shared<std::vector<float>>(raw.embed);
  for (const RawBlock& r : raw.blocks) {
    LlamaBlockWeights b;
    b.input_norm = r.input_norm;
    b.q_proj = dense(r.q, c.q_size(), c.hidden_size);
    b.k_proj = dense(r.k, static_cast<int64_t>(r.k.size()) / c.hidden_size, c.hidden_size);
    b.v_proj = dense(r.v, c.kv_size(), c.hidden_size);
    b.o_proj = dense(r.o, c.hidden_size, c.q_size());
    b.post_attention_norm = r.post_norm;
    b.gate_proj = dense(r.gate, c.intermediate_size, c.hidden_size);
    b.up_proj = dense(r.up, c.intermediate_size, c.hidden_size);
    b.down_proj = dense(r.down, c.hidden_size, c.intermediate_size);
    w.blocks.push_back(std::move(b));
  }
  w.norm = raw.norm;
  w.lm_head = dense(raw.head, c.vocab_size, c.hidden_size);
  std::unique_ptr<LlamaModel> model;
  const Status s = LlamaModel::create(c, std::move(w), &model);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message().find("layers.1.k_proj") != std::string::npos);
  CHECK(!model);
}

CLAQ_TEST(perplexity_windows_match_reference_nll) {
  const RawModel raw = random_model(8, true, 4, 2);
  std::unique_ptr<LlamaModel> model = build(raw);
  test::Rng rng(21);
  const int64_t count = 50;
  const int64_t context = 16;  // windows of 16, 16, 16 and 1 targets
  const std::vector<int32_t> tokens = random_tokens(rng, count, raw.config.vocab_size);
  const int64_t vocab = raw.config.vocab_size;

  double expected = 0;
  for (int64_t begin = 0; begin < count - 1; begin += context) {
    const int64_t length = std::min(context, count - 1 - begin);
    const std::vector<int32_t> window(tokens.begin() + begin, tokens.begin() + begin + length);
    const std::vector<double> logits = reference_logits(raw, window);
    for (int64_t t = 0; t < length; ++t) {
      double total = 0;
      for (int64_t i = 0; i < vocab; ++i) total += std::exp(logits[t * vocab + i]);
      expected += std::log(total) - logits[t * vocab + tokens[begin + t + 1]];
    }
  }

  PerplexityOptions options;
  options.context = context;
  std::vector<int64_t> progress_done;
  PerplexityControl control;
  control.progress = [&](int64_t done, int64_t total, const PerplexityResult& partial) {
    progress_done.push_back(done);
    CHECK_EQ(total, 4);
    CHECK_EQ(partial.windows, done);
  };
  // Two threads run two windows at a time (the model is small); no pool runs
  // one window at a time. The sums are added in window order, so both agree
  // to the last bit.
  PerplexityResult result;
  ThreadPool pool(2);
  CHECK(evaluate_perplexity(*model, tokens.data(), count, options, &pool, control, &result).ok());
  CHECK_EQ(result.targets, count - 1);
  CHECK_EQ(result.windows, 4);
  CHECK(progress_done == std::vector<int64_t>({2, 4}));
  CHECK_NEAR(result.nll_sum, expected, 1e-3);

  progress_done.clear();
  PerplexityResult serial;
  CHECK(evaluate_perplexity(*model, tokens.data(), count, options, nullptr, control, &serial).ok());
  CHECK(progress_done == std::vector<int64_t>({1, 2, 3, 4}));
  CHECK_EQ(serial.nll_sum, result.nll_sum);

  options.context = raw.config.max_positions + 1;
  CHECK(evaluate_perplexity(*model, tokens.data(), count, options, &pool, control, &result).code() ==
        StatusCode::kInvalidArgument);
  options.context = 16;
  CHECK(evaluate_perplexity(*model, tokens.data(), 1, options, &pool, control, &result).code() ==
        StatusCode::kInvalidArgument);
}

CLAQ_TEST(generate_greedy_follows_reference_argmax) {
  const RawModel raw = random_model(10, true, 4, 2);
  std::unique_ptr<LlamaModel> model = build(raw);
  const int64_t vocab = raw.config.vocab_size;
  const std::vector<int32_t> prompt = {3, 14, 15};
  GenerateOptions options;
  options.max_tokens = 12;
  GenerateResult result;
  std::vector<int32_t> streamed;
  GenerateControl control;
  control.on_token = [&](int32_t token) { streamed.push_back(token); };
  CHECK(generate_tokens(*model, prompt, options, nullptr, control, &result).ok());
  CHECK_EQ(result.tokens.size(), size_t{12});
  CHECK(streamed == result.tokens);
  CHECK(result.finish == FinishReason::kMaxTokens);

  // Each generated token is the arg max of the float64 logits of all before it.
  std::vector<int32_t> sequence = prompt;
  for (int32_t token : result.tokens) {
    const std::vector<double> logits = reference_logits(raw, sequence);
    const double* last = logits.data() + (sequence.size() - 1) * vocab;
    int64_t best = 0;
    for (int64_t i = 1; i < vocab; ++i) if (last[i] > last[best]) best = i;
    CHECK_EQ(token, best);
    sequence.push_back(token);
  }

  // A stop token ends generation and is kept.
  options.stop_tokens = {result.tokens[4]};
  CHECK(generate_tokens(*model, prompt, options, nullptr, GenerateControl{}, &result).ok());
  CHECK(result.finish == FinishReason::kStopToken);
  CHECK_EQ(result.tokens.back(), options.stop_tokens[0]);

  // The context ends at max_positions.
  options.stop_tokens.clear();
  options.max_tokens = 1000;
  CHECK(generate_tokens(*model, prompt, options, nullptr, GenerateControl{}, &result).ok());
  CHECK(result.finish == FinishReason::kContext);
  CHECK_EQ(static_cast<int64_t>(result.tokens.size() + prompt.size()), raw.config.max_positions + 1);
}

CLAQ_TEST(sample_token_is_argmax_at_zero_and_follows_softmax) {
  const std::vector<float> logits = {0.0f, 2.0f, 2.0f, std::log(2.0f)};
  CHECK_EQ(sample_token(logits.data(), 4, 0.0, 0.5), 1);  // tie goes to the lower id
  // At temperature 1 the weights are 1, e^2, e^2, 2 (sum 17.778): u picks by cumulative share.
  const double total = 1 + 2 * std::exp(2.0) + 2;
  CHECK_EQ(sample_token(logits.data(), 4, 1.0, 0.5 / total), 0);
  CHECK_EQ(sample_token(logits.data(), 4, 1.0, (1 + 0.5) / total), 1);
  CHECK_EQ(sample_token(logits.data(), 4, 1.0, (1 + std::exp(2.0) + 0.5) / total), 2);
  CHECK_EQ(sample_token(logits.data(), 4, 1.0, (total - 0.5) / total), 3);
}

CLAQ_TEST(rope_llama3_scaling_matches_hand_computed_frequencies) {
  LlamaConfig c;
  c.head_dim = 8;
  c.rope_theta = 10000;
  c.rope_scaling = RopeScaling::kLlama3;
  c.rope_factor = 8;
  c.rope_low_freq_factor = 1;
  c.rope_high_freq_factor = 4;
  c.rope_original_max_positions = 64;
  // Base frequencies 10000^(-i/4): 1, 0.1, 0.01, 0.001; wavelengths 2 pi / f:
  // 6.28 (< 64/4 = 16: kept), 62.8 (between 16 and 64: smoothed),
  // 628 and 6283 (> 64: divided by 8).
  const std::vector<double> f = rope_inverse_frequencies(c);
  CHECK_EQ(f.size(), size_t{4});
  CHECK_NEAR(f[0], 1.0, 1e-15);
  const double smooth = (64.0 / (2 * M_PI / 0.1) - 1) / (4 - 1);
  CHECK_NEAR(f[1], (1 - smooth) * 0.1 / 8 + smooth * 0.1, 1e-15);
  CHECK_NEAR(f[2], 0.01 / 8, 1e-17);
  CHECK_NEAR(f[3], 0.001 / 8, 1e-18);

  c.rope_scaling = RopeScaling::kLinear;
  c.rope_factor = 4;
  CHECK_NEAR(rope_inverse_frequencies(c)[1], 0.1 / 4, 1e-16);
}

CLAQ_TEST(rope_rotates_pairs_half_a_head_apart) {
  LlamaConfig c;
  c.head_dim = 4;
  c.rope_theta = 10000;
  const RopeTable table = make_rope_table(rope_inverse_frequencies(c), 3, 2);
  // Position 4, head_dim 4: angles 4 * 1 and 4 * 0.01 on pairs (0, 2) and (1, 3).
  std::vector<float> x = {1, 0, 0, 1};
  apply_rope(table, 4, 1, x.data());
  CHECK_NEAR(x[0], std::cos(4.0), 1e-6);
  CHECK_NEAR(x[2], std::sin(4.0), 1e-6);
  CHECK_NEAR(x[1], -std::sin(0.04), 1e-6);
  CHECK_NEAR(x[3], std::cos(0.04), 1e-6);
}

CLAQ_TEST(exp_shifted_and_max_match_libm_at_every_level) {
  // Tolerance: the polynomial's relative error is about 2e-7 (1e-6 allowed),
  // plus the rounding of x - shift to float32, which moves exp by up to
  // |x - shift| * 2^-24 relative. The float32 partial sums add about 1e-7.
  struct Version { double (*exp)(float*, int64_t, float); float (*max)(const float*, int64_t); };
  std::vector<Version> versions = {{exp_shifted_f32_ref, max_f32_ref}};
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    const VectorMathKernels kernels = select_vector_math_kernels();
    versions.push_back({kernels.exp_shifted, kernels.max});
  }
  set_simd_level(original);
  test::Rng rng(2);
  for (const Version& v : versions) {
    for (int64_t n : {1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 200, 515}) {
      std::vector<float> x(n);
      for (float& value : x) value = static_cast<float>(rng.uniform() * 40 - 30);
      const float shift = 1.5f;
      double expected_max = x[0];
      for (float value : x) expected_max = std::max<double>(expected_max, value);
      CHECK_EQ(v.max(x.data(), n), static_cast<float>(expected_max));

      std::vector<float> y = x;
      const double total = v.exp(y.data(), n, shift);
      double expected_total = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double e = std::exp(static_cast<double>(x[i]) - shift);
        expected_total += e;
        CHECK_NEAR(y[i] / e, 1.0, 1e-6 + std::fabs(x[i] - shift) * 6e-8);
      }
      CHECK_NEAR(total / expected_total, 1.0, 3e-6);
    }
    // Clamped ends: tiny but positive below, large but finite above.
    std::vector<float> ends = {-1000.0f, 1000.0f};
    v.exp(ends.data(), 2, 0.0f);
    CHECK(ends[0] > 0);
    CHECK(ends[0] < 1e-37f);
    CHECK(std::isfinite(ends[1]));
    CHECK(ends[1] > 1e38f);
  }
}

CLAQ_TEST(llama_forward_block_chain_equals_forward_hidden) {
  const RawModel raw = random_model(12, true, 4, 2);
  std::unique_ptr<LlamaModel> model = build(raw);
  const LlamaConfig& c = raw.config;
  test::Rng rng(13);
  const int64_t count = 20;
  const std::vector<int32_t> tokens = random_tokens(rng, count, c.vocab_size);

  KvCache cache(c, count);
  std::vector<float> expected(count * c.hidden_size);
  CHECK(model->forward_hidden(tokens.data(), count, &cache, expected.data(), nullptr).ok());

  std::vector<float> x(count * c.hidden_size);
  for (int64_t t = 0; t < count; ++t) {
    std::copy_n(raw.embed.data() + tokens[t] * c.hidden_size, c.hidden_size, x.data() + t * c.hidden_size);
  }
  int64_t observed = 0;
  LinearInputObserver observer = [&](int64_t block, LinearInput input, const float* in, int64_t rows, int64_t cols) {
    CHECK_EQ(rows, count);
    if (input == LinearInput::kDown) CHECK_EQ(cols, c.intermediate_size);
    if (input == LinearInput::kAttention && block == 0) {
      // The first block's attention input is the RMSNorm of the embeddings.
      std::vector<float> normed(count * c.hidden_size);
      rms_norm_rows(x.data(), count, c.hidden_size, raw.blocks[0].input_norm.data(), c.norm_eps, normed.data());
      for (int64_t i = 0; i < count * c.hidden_size; ++i) CHECK_NEAR(in[i], normed[i], 1e-6);
    }
    ++observed;
  };
  for (int64_t block = 0; block < c.num_layers; ++block) {
    CHECK(model->forward_block(block, x.data(), count, nullptr, &observer).ok());
  }
  CHECK_EQ(observed, 4 * c.num_layers);
  rms_norm_rows(x.data(), count, c.hidden_size, raw.norm.data(), c.norm_eps, x.data());
  for (size_t i = 0; i < x.size(); ++i) CHECK_NEAR(x[i], expected[i], 1e-5);

  CHECK(model->forward_block(c.num_layers, x.data(), count, nullptr, nullptr).code() == StatusCode::kInvalidArgument);
}

CLAQ_TEST(llama_set_linear_checks_the_shape) {
  const RawModel raw = random_model(14, true, 4, 2);
  std::unique_ptr<LlamaModel> model = build(raw);
  const LlamaConfig& c = raw.config;
  // A k_proj shape in place of q_proj is rejected; the same shape is taken
  // and changes the logits.
  CHECK(model->set_linear(0, LinearName::kQ, dense(raw.blocks[0].k, c.kv_size(), c.hidden_size)).code() ==
        StatusCode::kInvalidArgument);
  std::vector<int32_t> tokens = {1, 2, 3, 4};
  KvCache before_cache(c, 4);
  std::vector<float> before(4 * c.vocab_size);
  CHECK(model->forward(tokens.data(), 4, &before_cache, before.data(), nullptr).ok());
  std::vector<float> zeros(c.hidden_size * c.intermediate_size, 0.0f);
  CHECK(model->set_linear(1, LinearName::kDown, dense(zeros, c.hidden_size, c.intermediate_size)).ok());
  KvCache after_cache(c, 4);
  std::vector<float> after(4 * c.vocab_size);
  CHECK(model->forward(tokens.data(), 4, &after_cache, after.data(), nullptr).ok());
  double change = 0;
  for (size_t i = 0; i < after.size(); ++i) change = std::max(change, std::fabs(double(after[i]) - before[i]));
  CHECK(change > 1e-3);
}
