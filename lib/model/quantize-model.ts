// Block-by-block quantization of a whole Llama model: calibration sequences
// run through the model, and each block's linears are quantized on the
// outputs of the already quantized blocks before it.
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { saveClaqCheckpoint } from '../checkpoint/claq-checkpoint.js';
import { AbortError } from '../errors.js';
import { Hessian } from '../hessian.js';
import { native } from '../native.js';
import { quantizeLayer } from '../quantize-layer.js';
import { normalizeQuantizeOptions, type QuantizeOptions } from '../quantize-options.js';
import type { QuantizedLayer } from '../quantized-layer.js';
import { openCheckpoint, type Dtype, type TensorToWrite } from '../safetensors/index.js';
import type { NativeLinearInput } from '../../types/native.js';
import { blockLinears, loadModel, toTokenArray, type LlamaModel } from './llama-model.js';
import { runNativeJob } from './native-job.js';
import { checkOutputFolder, pathExists } from './output-folder.js';

/** Files copied unchanged from the source folder when present. */
const COPIED_FILES = [
  'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json',
  'tokenizer.model',
];

/**
 * The stages of one block, in the order their inputs become available: q/k/v
 * read the attention norm, o_proj reads the attention output (which depends on
 * the quantized q/k/v), gate/up read the MLP norm (after the quantized o_proj),
 * and down_proj reads silu(gate) * up.
 */
const STAGES: readonly { input: NativeLinearInput; layers: readonly string[] }[] = [
  { input: 'attention', layers: ['q_proj', 'k_proj', 'v_proj'] },
  { input: 'output', layers: ['o_proj'] },
  { input: 'mlp', layers: ['gate_proj', 'up_proj'] },
  { input: 'down', layers: ['down_proj'] },
];

export interface QuantizeModelProgress {
  type: 'layer';
  /** Layers quantized so far, of `total`. */
  done: number;
  total: number;
  /** The layer just finished. */
  layer: LayerReport;
}

export interface QuantizeModelOptions extends Omit<QuantizeOptions, 'signal' | 'onProgress' | 'threads'> {
  /** Calibration token stream; cut into `calibSamples` consecutive sequences of `seqLen` tokens. */
  calibration: ArrayLike<number>;
  /** Calibration sequences; default 128 (fewer when the stream is shorter). */
  calibSamples?: number;
  /** Tokens per calibration sequence; default min(2048, maxPositions). */
  seqLen?: number;
  /** Threads for the forward pass and the quantizer; 0 (default) uses every core. */
  threads?: number;
  /** Replace an existing output folder (default false). */
  overwrite?: boolean;
  signal?: AbortSignal;
  onProgress?: (event: QuantizeModelProgress) => void;
}

export interface LayerReport {
  /** HF module name, e.g. `model.layers.0.self_attn.q_proj`. */
  name: string;
  rows: number;
  cols: number;
  codeBits: number;
  storageBits: number;
  /** The quantizer's loss: Σ (w − q)² / (2 U[j][j]²) over columns. */
  loss: number;
  damping: number;
  seconds: number;
}

export interface QuantizeModelResult {
  outDir: string;
  layers: LayerReport[];
  /** Calibration tokens per Hessian (samples × seqLen). */
  calibrationTokens: number;
  seconds: number;
}

function checkOptions(model: LlamaModel, options: QuantizeModelOptions): { tokens: Int32Array; seqLen: number } {
  const { maxPositions, vocabSize } = model.config;
  const seqLen = options.seqLen ?? Math.min(2048, maxPositions);
  if (!Number.isInteger(seqLen) || seqLen < 1 || seqLen > maxPositions) {
    throw new RangeError(`quantizeModel: options.seqLen must be an integer in [1, ${maxPositions}], got ${String(seqLen)}`);
  }
  const stream = toTokenArray(options.calibration, 'quantizeModel: options.calibration', vocabSize);
  const available = Math.floor(stream.length / seqLen);
  const samples = options.calibSamples ?? Math.min(128, available);
  if (!Number.isInteger(samples) || samples < 1) {
    throw new RangeError(`quantizeModel: options.calibSamples must be a positive integer, got ${String(samples)}`);
  }
  if (samples > available) {
    throw new RangeError(`quantizeModel: ${samples} calibration sequences of ${seqLen} tokens need ` +
      `${samples * seqLen} tokens, but options.calibration has ${stream.length}`);
  }
  return { tokens: stream.subarray(0, samples * seqLen), seqLen };
}


function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
}

function report(name: string, layer: QuantizedLayer): LayerReport {
  const s = layer.stats;
  return {
    name, rows: layer.rows, cols: layer.cols, codeBits: s.codeBits, storageBits: s.storageBits, loss: s.loss,
    damping: s.damping, seconds: s.seconds,
  };
}

/**
 * Quantizes every linear layer of a Llama-family model block by block and
 * writes a claq checkpoint folder (model.safetensors in the claq format plus
 * config and tokenizer files), which {@link loadModel} runs on the packed
 * kernels.
 *
 * For block i, the calibration states (the outputs of blocks 0 .. i-1, which
 * are already quantized) run through the block four times, once per stage:
 * q/k/v on the attention input, o_proj on the attention output of the
 * quantized q/k/v, gate/up on the MLP input, down_proj on silu(gate) * up. Each
 * stage accumulates the Hessian of its input, quantizes its layers with
 * {@link quantizeLayer} and puts them into the model before the next stage.
 * The embedding, the norms and lm_head stay as they are.
 *
 * The output is built in a temporary folder beside `outDir` and renamed at
 * the end, so an interrupted or failed run leaves nothing under `outDir`.
 *
 * NOTE: the calibration states and one stage's activations are held in
 * memory as float32 (samples × seqLen × width each).
 *
 * @example
 * const calibration = await readTokenFile('calib_tokens.u16', 16);
 * const { layers } = await quantizeModel('models/llama', 'models/llama-claq', { calibration, targetBits: 2.1 });
 * @throws {RangeError} / {TypeError} for invalid options (before any work).
 * @throws {ClaqError} `ERR_CLAQ_OUTPUT_EXISTS` when `outDir` exists and `overwrite` is not set, and
 *   `ERR_CLAQ_OUTPUT_PARENT_MISSING` when the folder that would contain `outDir` does not exist (both before any work).
 * @throws {AbortError} when `signal` aborts; the temporary folder is removed.
 */
export async function quantizeModel(dir: string, outDir: string,
  options: QuantizeModelOptions): Promise<QuantizeModelResult> {
  const started = performance.now();
  if (typeof outDir !== 'string' || outDir.length === 0) {
    throw new TypeError(`quantizeModel: outDir must be a non-empty string, got ${JSON.stringify(outDir)}`);
  }
  if (options === null || typeof options !== 'object') throw new TypeError('quantizeModel: options must be an object');
  const { signal, onProgress, overwrite = false, threads = 0 } = options;
  const {
    calibration: _calibration, calibSamples: _samples, seqLen: _seqLen, overwrite: _overwrite,
    onProgress: _onProgress, threads: _threads, signal: _signal, ...quantizeOptions
  } = options;
  const layerOptions: QuantizeOptions = { ...quantizeOptions, signal, threads: threads === 0 ? undefined : threads };
  // Every layer gets these options: a bad one fails here, not after the
  // first block's calibration pass.
  normalizeQuantizeOptions('quantizeModel', layerOptions, true);
  await checkOutputFolder('quantizeModel', outDir, overwrite);
  const model = await loadModel(dir, { threads });
  const { tokens, seqLen } = checkOptions(model, options);

  const temporary = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}-${Date.now()}`);
  try {
    const { quantized, layers } = await quantizeBlocks(model, tokens, seqLen, layerOptions, signal, onProgress);
    throwIfAborted(signal);
    await mkdir(temporary);
    await writeCheckpoint(dir, temporary, model, quantized);
    throwIfAborted(signal);
    if (overwrite) await rm(outDir, { recursive: true, force: true });
    await rename(temporary, outDir);
    return { outDir, layers, calibrationTokens: tokens.length, seconds: (performance.now() - started) / 1000 };
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
}

async function quantizeBlocks(model: LlamaModel, tokens: Int32Array, seqLen: number, layerOptions: QuantizeOptions,
  signal: AbortSignal | undefined, onProgress: QuantizeModelOptions['onProgress']):
  Promise<{ quantized: Map<string, QuantizedLayer>; layers: LayerReport[] }> {
  const config = model.config;
  const reader = await openCheckpoint(model.dir);
  const quantized = new Map<string, QuantizedLayer>();
  const layers: LayerReport[] = [];
  const total = config.numLayers * 7;
  try {
    let states = native.llamaEmbed(model.handle, tokens);
    for (let block = 0; block < config.numLayers; block++) {
      const linears = new Map(blockLinears(config, block).map((l) => [l.short, l]));
      for (const stage of STAGES) {
        const context = new Error();
        const activations = await runNativeJob(
          () => native.llamaBlock(model.handle, block, states, seqLen, stage.input), signal, context);
        const cols = activations.length / tokens.length;
        const hessian = new Hessian(cols);
        await hessian.addAsync(activations, tokens.length);

        for (const short of stage.layers) {
          const linear = linears.get(short) as { name: string; shape: [number, number] };
          const [rows, columns] = linear.shape;
          const weight = await reader.readFloat32(`${linear.name}.weight`);
          const layer = await quantizeLayer({ data: weight, rows, cols: columns }, hessian, layerOptions);
          native.llamaSetLinear(model.handle, block, short, layer);
          quantized.set(linear.name, layer);
          layers.push(report(linear.name, layer));
          onProgress?.({ type: 'layer', done: layers.length, total, layer: layers[layers.length - 1] });
        }
      }
      states = await runNativeJob(() => native.llamaBlock(model.handle, block, states, seqLen, null), signal,
        new Error());
    }
  } finally {
    await reader.close();
  }
  return { quantized, layers };
}

async function writeCheckpoint(dir: string, outDir: string, model: LlamaModel,
  quantized: Map<string, QuantizedLayer>): Promise<void> {
  const reader = await openCheckpoint(dir);
  try {
    const untouched: TensorToWrite[] = [];
    for (const info of reader.tensors()) {
      if (info.name.endsWith('.weight') && quantized.has(info.name.slice(0, -'.weight'.length))) continue;
      // A tied lm_head copy is dropped: loadModel ties the head to the embedding.
      if (info.name === 'lm_head.weight' && model.config.tieWordEmbeddings) continue;
      const dtype: Dtype = info.dtype === 'F16' || info.dtype === 'BF16' ? info.dtype : 'F32';
      untouched.push({ name: info.name, dtype, shape: info.shape, data: () => reader.readFloat32(info.name) });
    }
    await saveClaqCheckpoint(join(outDir, 'model.safetensors'), { layers: quantized, tensors: untouched });
  } finally {
    await reader.close();
  }
  for (const file of COPIED_FILES) {
    if (await pathExists(join(dir, file))) await copyFile(join(dir, file), join(outDir, file));
  }
}
