/** Worker-thread entry of trainOffThread: trains one logistic regression and posts its parameters back. */
import { parentPort, workerData } from 'node:worker_threads';
import { trainLogisticRegression } from '../logistic-regression.js';
import type { TrainJob, TrainReply } from './train-off-thread.js';

const job = workerData as TrainJob;
let reply: TrainReply;
try {
  // Typed arrays survive postMessage's structured clone as they are.
  reply = { ok: true, params: trainLogisticRegression(job.data, job.options) };
} catch (err) {
  reply = { ok: false, message: err instanceof Error ? err.message : String(err) };
}
parentPort?.postMessage(reply);
