// A small quantize-and-multiply job that worker-threads.test.ts runs on the
// main thread and in worker threads at once.
import { Hessian, quantizeLayer } from '../lib/index.js';

export interface WorkloadResult {
  losses: number[];
  outputs: number[];
}

export async function quantizeWorkload(calls: number): Promise<WorkloadResult> {
  const rows = 256;
  const cols = 192;
  const tokens = 512;
  const weight = new Float32Array(rows * cols).map((_, i) => Math.sin(i * 1.3));
  const activations = new Float32Array(tokens * cols).map((_, i) => Math.cos(i * 0.7));
  const hessian = new Hessian(cols).add(activations, tokens);
  const result: WorkloadResult = { losses: [], outputs: [] };
  for (let k = 0; k < calls; k++) {
    const layer = await quantizeLayer({ data: weight, rows, cols }, hessian, { targetBits: 2.1, outliers: true, threads: 2 });
    result.losses.push(layer.stats.loss);
    result.outputs.push(...layer.pack().matmul(new Float32Array(cols).fill(0.5), 1).subarray(0, 8));
  }
  return result;
}
