/**
 * Trains on a worker thread. Training is synchronous number crunching that can run for seconds on a large
 * window; on the trainer's own thread it would stall the Kafka consumer (no heartbeats: the group would
 * hand the request to another trainer, which would train it again), the metrics endpoint and SIGTERM.
 */
import type { LogisticParams } from '../onnx/logistic-regression-onnx.js';
import type { TrainOptions } from '../logistic-regression.js';
import type { Dataset } from '../synthetic-data.js';
import { spawnModuleWorker } from '../../../connectors/threads/spawn-module-worker.js';

export interface TrainJob {
  readonly data: Dataset;
  readonly options: TrainOptions;
}

export type TrainReply = { ok: true; params: LogisticParams } | { ok: false; message: string };

export function trainOffThread(data: Dataset, options: TrainOptions = {}): Promise<LogisticParams> {
  const job: TrainJob = { data, options };
  // workerData is copied (structured clone), so the caller keeps its arrays.
  const worker = spawnModuleWorker(import.meta.url, './train-worker', job);
  return new Promise<LogisticParams>((resolve, reject) => {
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      finish();
      void worker.terminate();
    };
    worker.once('message', (reply: TrainReply) =>
      settle(() => (reply.ok ? resolve(reply.params) : reject(new Error(reply.message)))),
    );
    worker.once('error', (err) => settle(() => reject(err)));
    worker.once('exit', (code) =>
      settle(() => reject(new Error(`training worker exited with code ${code} before replying`))),
    );
  });
}
