// Runs in a worker thread for worker-threads.test.ts: quantizes and packs
// the layer that the test describes, and posts the results.
import { parentPort, workerData } from 'node:worker_threads';

import { quantizeWorkload, type WorkloadResult } from './worker-workload.js';

const result: WorkloadResult = await quantizeWorkload(workerData as number);
parentPort?.postMessage(result);
