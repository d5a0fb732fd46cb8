// A generated linear layer with LLaMA-like statistics, for the demo, the
// benchmark and tests that need a large layer. Deterministic for a seed.
//
// Weights: Student-t with 4 degrees of freedom (heavy tails), a per-column
// scale drawn log-normally, and rare planted outliers of 200 to 500 times
// mean|W|, most of them in a few columns, as in the input channels of real
// LLM layers. Activations: a shared low-rank part plus noise, per-channel
// log-normal scales, and a few hot channels 20 to 50 times larger.

/** mulberry32: a small, fast 32-bit generator; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns a standard normal generator (Box–Muller) over `random`. */
export function normalGenerator(random: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

export interface SyntheticLayer {
  rows: number;
  cols: number;
  tokens: number;
  /** `[rows, cols]` row-major. */
  weight: Float32Array;
  /** `[tokens, cols]` row-major. */
  activations: Float32Array;
  /** Planted outlier weights. */
  plantedOutliers: number;
}

export interface SyntheticLayerOptions {
  rows?: number;
  cols?: number;
  tokens?: number;
  seed?: number;
}

const RANK = 16;

/** Generates a layer; the defaults (4096 x 4096, 2048 tokens, seed 1) are the demo's. */
export function syntheticLayer(options: SyntheticLayerOptions = {}): SyntheticLayer {
  const rows = options.rows ?? 4096;
  const cols = options.cols ?? 4096;
  const tokens = options.tokens ?? 2048;
  const random = seededRandom(options.seed ?? 1);
  const normal = normalGenerator(random);

  const { weight, plantedOutliers } = syntheticWeights(rows, cols, random, normal);
  const activations = syntheticActivations(tokens, cols, random, normal);
  return { rows, cols, tokens, weight, activations, plantedOutliers };
}

function syntheticWeights(rows: number, cols: number, random: () => number,
  normal: () => number): { weight: Float32Array; plantedOutliers: number } {
  const columnScale = new Float64Array(cols);
  for (let j = 0; j < cols; j++) columnScale[j] = 0.02 * Math.exp(0.3 * normal());

  // Student-t(4): a normal over sqrt(chi2(4) / 4), with chi2(4) = -2 ln(u1 u2).
  const weight = new Float32Array(rows * cols);
  let sumAbs = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const chi2 = -2 * Math.log((1 - random()) * (1 - random()));
      const value = columnScale[j] * normal() / Math.sqrt(chi2 / 4);
      weight[i * cols + j] = value;
      sumAbs += Math.abs(value);
    }
  }
  const meanAbs = sumAbs / (rows * cols);

  // About 0.5 % of the columns carry most planted outliers, a few sit anywhere.
  const outlierColumns = Math.max(1, Math.round(cols * 0.005));
  const perColumn = Math.max(1, Math.round(rows / 512));
  const scattered = Math.max(1, Math.round((rows * cols) / 2 ** 19));
  const plant = (i: number, j: number): void => {
    const magnitude = (200 + 300 * random()) * meanAbs;
    weight[i * cols + j] = random() < 0.5 ? -magnitude : magnitude;
  };
  for (let c = 0; c < outlierColumns; c++) {
    const j = Math.floor(random() * cols);
    for (let k = 0; k < perColumn; k++) plant(Math.floor(random() * rows), j);
  }
  for (let k = 0; k < scattered; k++) plant(Math.floor(random() * rows), Math.floor(random() * cols));
  return { weight, plantedOutliers: outlierColumns * perColumn + scattered };
}

function syntheticActivations(tokens: number, cols: number, random: () => number,
  normal: () => number): Float32Array {
  const channelScale = new Float64Array(cols);
  for (let j = 0; j < cols; j++) channelScale[j] = Math.exp(0.5 * normal());
  const hotChannels = Math.max(1, Math.round(cols / 700));
  for (let k = 0; k < hotChannels; k++) channelScale[Math.floor(random() * cols)] = 20 + 30 * random();

  // Shared low-rank part: x = (z B + e) * scale, z [tokens, RANK], B [RANK, cols].
  const basis = new Float64Array(RANK * cols);
  for (let k = 0; k < basis.length; k++) basis[k] = normal() / Math.sqrt(RANK);
  const activations = new Float32Array(tokens * cols);
  const z = new Float64Array(RANK);
  for (let t = 0; t < tokens; t++) {
    for (let r = 0; r < RANK; r++) z[r] = normal();
    const row = t * cols;
    for (let j = 0; j < cols; j++) {
      let shared = 0;
      for (let r = 0; r < RANK; r++) shared += z[r] * basis[r * cols + j];
      activations[row + j] = (shared + 0.5 * normal()) * channelScale[j];
    }
  }
  return activations;
}
