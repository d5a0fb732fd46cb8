// The messages and shared memory between guided.ts and guided-worker.ts.

/** The data guided.ts passes to the worker. */
export interface WorkerInput {
  target: string;
  seconds: number;
  seed: number;
  seeds: Uint8Array[];
  /** [state (1 while an input runs), input length] as Int32, then the start time as Float64, then the input bytes. */
  shared: SharedArrayBuffer;
  /** Largest growth of ArrayBuffer memory over the starting level that one input may cause. */
  maxArrayBufferGrowth: number;
}

/** Messages from the worker. */
export type WorkerMessage =
  /** An input that added features; `newBlocks` of them are blocks run for the first time. */
  | { type: 'new'; input: Uint8Array; newBlocks: number }
  | { type: 'failure'; kind: 'crash' | 'memory'; input: Uint8Array; error: string }
  | {
    type: 'done'; runs: number; corpus: number; blocks: number; covered: number; features: number;
    outcomes: Record<string, number>;
  };

export const SHARED_HEADER_BYTES = 16;
