/** Worker-thread entry of trainOffThread: trains one logistic regression and posts its parameters back. */
import { parentPort, workerData } from 'node:worker_threads';
import { trainLogisticRegression } from '../logistic-regression.js';
import type { TrainJob, TrainReply } from './train-off-thread.js';

const job = workerData as TrainJob;
let reply: TrainReply;
try {
  const params = trainLogisticRegression(job.data, job.options);
  reply = {
    ok: true,
    params: {
      featureNames: [...params.featureNames],
      mean: Array.from(params.mean),
      std: Array.from(params.std),
      weights: Array.from(params.weights),
      bias: params.bias,
    },
  };
} catch (err) {
  reply = { ok: false, message: err instanceof Error ? err.message : String(err) };
}
parentPort?.postMessage(reply);
