// F16/BF16 <-> float32 conversion at every SIMD level (scalar is the
// baseline), and reading an F16 tensor from a safetensors file as float32.
//
//   node dist/bench/convert.js [--elements N]
//
// Conversion figures count the bytes read plus the bytes written. The file
// read runs on a warm page cache, so it measures the reader and the
// conversion, not the disk.
import { rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench, type Task } from 'tinybench';

import {
  SafetensorsFile,
  float32ToFloat16Bytes,
  setSimdLevel,
  simdLevel,
  supportedSimdLevels,
  writeSafetensors,
} from '../lib/index.js';
import { native } from '../lib/native.js';

function parseElements(argv: string[]): number {
  const i = argv.indexOf('--elements');
  const elements = i >= 0 ? Number(argv[i + 1]) : 4 * 2 ** 20;
  if (!Number.isSafeInteger(elements) || elements < 1) throw new Error(`--elements must be a positive integer, got ${argv[i + 1]}`);
  return elements;
}

// Mean time of a finished task in milliseconds.
function meanMilliseconds(task: Task): number {
  const { result } = task;
  if (result.state !== 'completed') throw new Error(`benchmark case '${task.name}' did not complete: ${result.state}`);
  return result.latency.mean;
}

function gigabytesPerSecond(bytes: number, meanMilliseconds: number): string {
  return (bytes / (meanMilliseconds / 1000) / 1e9).toFixed(2);
}

async function benchConversions(elements: number): Promise<void> {
  // Outputs are allocated once, so the figures are the kernels' and not the
  // page faults of a fresh output buffer (the exported functions allocate).
  const floats = new Float32Array(elements).map((_, i) => Math.sin(i) * 1000);
  const halves = float32ToFloat16Bytes(floats);
  const floatOutput = new Float32Array(elements);
  const halfOutput = new Uint8Array(elements * 2);
  const cases: [string, () => unknown][] = [
    ['F16 -> F32', () => native.f16ToF32Sync(halves, floatOutput)],
    ['BF16 -> F32', () => native.bf16ToF32Sync(halves, floatOutput)],
    ['F32 -> F16', () => native.f32ToF16Sync(floats, halfOutput)],
    ['F32 -> BF16', () => native.f32ToBf16Sync(floats, halfOutput)],
  ];

  const bytesMoved = elements * 6;
  const original = simdLevel();
  const scalarMean = new Map<string, number>();
  console.log(`\nconversion of ${elements.toLocaleString('en-US')} elements (GB/s = (2 + 4) bytes per element / time)`);
  console.log('  level    case          mean ms    GB/s   vs scalar');
  for (const level of supportedSimdLevels()) {
    setSimdLevel(level);
    const bench = new Bench({ time: 500, warmupTime: 100 });
    for (const [name, run] of cases) bench.add(name, run);
    await bench.run();
    for (const task of bench.tasks) {
      const mean = meanMilliseconds(task);
      if (level === 'scalar') scalarMean.set(task.name, mean);
      const ratio = (scalarMean.get(task.name) ?? NaN) / mean;
      console.log(`  ${level.padEnd(8)} ${task.name.padEnd(12)} ${mean.toFixed(3).padStart(8)} ` +
        `${gigabytesPerSecond(bytesMoved, mean).padStart(7)} ${ratio.toFixed(2).padStart(8)}x`);
    }
  }
  setSimdLevel(original);
}

async function benchFileRead(elements: number): Promise<void> {
  const path = join(tmpdir(), `claq-bench-${process.pid}.safetensors`);
  const rows = 1024;
  const cols = Math.ceil(elements / rows);
  await writeSafetensors(path, [{ name: 'w', dtype: 'F16', shape: [rows, cols], data: new Float32Array(rows * cols).fill(0.5) }]);
  try {
    const file = await SafetensorsFile.open(path);
    const bench = new Bench({ time: 1000, warmupTime: 200 });
    bench.add('readFloat32 whole F16 tensor', () => file.readFloat32('w'));
    bench.add('readFloat32 in 16 row ranges', async () => {
      for (let start = 0; start < rows; start += rows / 16) await file.readFloat32('w', { start, end: start + rows / 16 });
    });
    bench.add('readBytes whole tensor', () => file.readBytes('w'));
    await bench.run();
    console.log(`\nreading an F16 [${rows}, ${cols}] tensor (${((rows * cols * 2) / 2 ** 20).toFixed(0)} MiB in the file), ` +
      `level ${simdLevel()}`);
    for (const task of bench.tasks) {
      const mean = meanMilliseconds(task);
      console.log(`  ${task.name.padEnd(30)} ${mean.toFixed(2).padStart(8)} ms  ` +
        `${gigabytesPerSecond(rows * cols * 2, mean).padStart(6)} GB/s of file data`);
    }
    await file.close();
  } finally {
    rmSync(path, { force: true });
  }
}

const elements = parseElements(process.argv.slice(2));
console.log(`${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPUs, ` +
  `Node ${process.version}, default level ${simdLevel()}`);
await benchConversions(elements);
await benchFileRead(elements);
