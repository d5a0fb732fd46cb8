// Reads the linear layers of a checkpoint together with their calibration
// Hessians, from a folder in this layout:
//
//   hf/model.safetensors          weights, `<linear>.weight` [out, in]
//   activations.safetensors       float32 inputs `<input>` [tokens, in], with
//   activations.json              `linear_inputs`: linear name -> input name
//   hessians.safetensors          or: float64 `<input>.xtx` [in, in] (sum x x^T),
//                                 metadata `num_tokens` and `linear_inputs`
//
// Activations are preferred when both are present. Layers that share an input
// (q, k and v projections) share one Hessian.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Hessian } from '../hessian.js';
import type { WeightMatrix } from '../quantize-layer.js';
import { SafetensorsFile } from '../safetensors/index.js';

export interface CalibratedLayer {
  name: string;
  weight: WeightMatrix;
  hessian: Hessian;
}

/** The output head is left in floating point, as GPTQ-style pipelines do. */
const SKIPPED_LAYERS = new Set(['lm_head']);

export class CalibratedCheckpoint {
  /** Linear layers in file order, without the output head. */
  readonly layerNames: string[];
  readonly calibration: 'activations' | 'hessians';
  readonly #model: SafetensorsFile;
  readonly #inputs: Record<string, string>;
  readonly #calibrationFile: SafetensorsFile;
  readonly #hessians = new Map<string, Promise<Hessian>>();

  private constructor(model: SafetensorsFile, calibrationFile: SafetensorsFile,
    calibration: 'activations' | 'hessians', inputs: Record<string, string>) {
    this.#model = model;
    this.#calibrationFile = calibrationFile;
    this.calibration = calibration;
    this.#inputs = inputs;
    this.layerNames = Object.keys(inputs).filter(
      (name) => !SKIPPED_LAYERS.has(name) && model.has(`${name}.weight`));
  }

  /**
   * Opens `dir`. Throws an Error that names the missing file and the expected
   * layout when the folder does not match.
   */
  static async open(dir: string): Promise<CalibratedCheckpoint> {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new Error(`model folder not found: ${dir}`);
    }
    const modelPath = join(dir, 'hf', 'model.safetensors');
    if (!existsSync(modelPath)) {
      throw new Error(`${modelPath} not found; the folder needs hf/model.safetensors plus ` +
        'activations.safetensors with activations.json, or hessians.safetensors');
    }
    const activationsPath = join(dir, 'activations.safetensors');
    const activationsJson = join(dir, 'activations.json');
    const hessiansPath = join(dir, 'hessians.safetensors');

    const model = await SafetensorsFile.open(modelPath);
    if (existsSync(activationsPath) && existsSync(activationsJson)) {
      const map = JSON.parse(await readFile(activationsJson, 'utf8')) as { linear_inputs?: Record<string, string> };
      if (map.linear_inputs === undefined) throw new Error(`${activationsJson} has no linear_inputs map`);
      return new CalibratedCheckpoint(model, await SafetensorsFile.open(activationsPath), 'activations',
        map.linear_inputs);
    }
    if (existsSync(hessiansPath)) {
      const file = await SafetensorsFile.open(hessiansPath);
      const inputs = file.metadata.linear_inputs;
      if (inputs === undefined) throw new Error(`${hessiansPath} has no linear_inputs in its metadata`);
      return new CalibratedCheckpoint(model, file, 'hessians', JSON.parse(inputs) as Record<string, string>);
    }
    await model.close();
    throw new Error(`no calibration data in ${dir}: expected activations.safetensors with activations.json, ` +
      'or hessians.safetensors');
  }

  /** Reads one layer's weights and its (cached) Hessian. */
  async layer(name: string): Promise<CalibratedLayer> {
    const info = this.#model.info(`${name}.weight`);
    if (info.shape.length !== 2) {
      throw new Error(`${name}.weight has shape [${info.shape.join(', ')}]; a linear weight is [out, in]`);
    }
    const [rows, cols] = info.shape;
    const data = await this.#model.readFloat32(`${name}.weight`);
    const input = this.#inputs[name];
    let hessian = this.#hessians.get(input);
    if (hessian === undefined) {
      hessian = this.#readHessian(input, cols);
      this.#hessians.set(input, hessian);
    }
    return { name, weight: { data, rows, cols }, hessian: await hessian };
  }

  async close(): Promise<void> {
    await this.#model.close();
    await this.#calibrationFile.close();
  }

  async #readHessian(input: string, cols: number): Promise<Hessian> {
    if (this.calibration === 'activations') {
      const info = this.#calibrationFile.info(input);
      if (info.shape.length !== 2 || info.shape[1] !== cols) {
        throw new Error(`activation ${input} has shape [${info.shape.join(', ')}], expected [tokens, ${cols}]`);
      }
      const activations = await this.#calibrationFile.readFloat32(input);
      const hessian = new Hessian(cols);
      await hessian.addAsync(activations, info.shape[0]);
      return hessian;
    }
    const tokens = Number(this.#calibrationFile.metadata.num_tokens);
    if (!Number.isSafeInteger(tokens) || tokens < 1) {
      throw new Error(`${this.#calibrationFile.path} metadata num_tokens must be a positive integer, ` +
        `received ${this.#calibrationFile.metadata.num_tokens}`);
    }
    const gram = await this.#calibrationFile.readFloat64(`${input}.xtx`);
    return Hessian.fromGram(gram, cols, tokens);
  }
}
