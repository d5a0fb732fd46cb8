// The addon in worker threads: three workers and the main thread quantize
// and multiply at once, on the shared thread pools, and all get the results
// of a run alone.
import { Worker } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { quantizeWorkload, type WorkloadResult } from './worker-workload.js';

const CALLS = 4;

function inWorker(): Promise<WorkloadResult> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'worker-quantize.js');
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { workerData: CALLS });
    worker.once('message', (result: WorkloadResult) => resolve(result));
    worker.once('error', reject);
  });
}

test('workers match a run alone', async () => {
  const alone = await quantizeWorkload(CALLS);
  expect(alone.losses).toHaveLength(CALLS);

  const results = await Promise.all([inWorker(), inWorker(), inWorker(), quantizeWorkload(CALLS)]);
  for (const result of results) expect(result).toEqual(alone);
});
