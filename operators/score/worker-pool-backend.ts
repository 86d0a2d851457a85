/**
 * Runs batches in a pool of worker threads, one ONNX session each, so a heavy model never stalls the event
 * loop (ORT's run is synchronous on its thread). The batcher never asks for more concurrent runs than
 * there are workers, so a run always finds an idle worker.
 */
import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from '../../connectors/threads/spawn-module-worker.js';
import type { ProviderAttempt } from './execution-provider.js';
import type { ModelContract, OpenModelOptions } from './model-session.js';
import type { ModelValidationCode } from './score-errors.js';
import { ModelValidationError } from './score-errors.js';
import type { ScoringBackend } from './scoring-backend.js';
import type { FromWorker, ScoringWorkerData, ToWorker } from './scoring-worker.js';

export interface WorkerPoolOptions extends Omit<OpenModelOptions, 'sessionFactory'> {
  readonly workers: number;
  readonly intraOpNumThreads?: number;
}

interface Job {
  resolve: (scores: Float32Array) => void;
  reject: (err: Error) => void;
}

interface PoolWorker {
  readonly worker: Worker;
  readonly index: number;
  job?: { id: number } & Job;
  dead?: Error;
}

const spawn = (data: ScoringWorkerData): Worker =>
  spawnModuleWorker(import.meta.url, './scoring-worker', data);

function startWorker(data: ScoringWorkerData, index: number) {
  const worker = spawn(data);
  return new Promise<{ pw: PoolWorker; provider: string; attempts: ProviderAttempt[] }>((resolve, reject) => {
    const onExit = (code: number) =>
      reject(new Error(`scoring worker ${index} exited with code ${code} while starting`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (msg: FromWorker) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (msg.type === 'ready')
        resolve({ pw: { worker, index }, provider: msg.provider, attempts: msg.attempts });
      else if (msg.type === 'init-error') {
        void worker.terminate();
        reject(
          msg.error.name === 'ModelValidationError'
            ? new ModelValidationError(msg.error.code as ModelValidationCode, msg.error.message)
            : new Error(msg.error.message),
        );
      } else reject(new Error(`scoring worker ${index} sent ${msg.type} before ready`));
    });
  });
}

export async function createWorkerPoolBackend(
  modelBytes: Uint8Array,
  contract: ModelContract,
  options: WorkerPoolOptions,
): Promise<ScoringBackend> {
  if (!Number.isInteger(options.workers) || options.workers < 1) {
    throw new Error(`workers must be a positive integer, got ${options.workers}`);
  }
  const base: ScoringWorkerData = {
    modelBytes,
    contract: { ...contract, features: [...contract.features] },
    preferredProviders: [...options.preferredProviders],
    availableFeatures: options.availableFeatures ? [...options.availableFeatures] : undefined,
    intraOpNumThreads: options.intraOpNumThreads ?? 1,
  };
  // The first worker does provider selection; the rest open the provider it settled on.
  const first = await startWorker(base, 0);
  const rest = await Promise.allSettled(
    Array.from({ length: options.workers - 1 }, (_, i) =>
      startWorker({ ...base, preferredProviders: [first.provider] }, i + 1),
    ),
  );
  const pool: PoolWorker[] = [first.pw];
  for (const r of rest) {
    if (r.status === 'fulfilled') pool.push(r.value.pw);
    else {
      await Promise.all(pool.map((p) => p.worker.terminate()));
      throw r.reason;
    }
  }

  let nextId = 0;
  for (const pw of pool) {
    pw.worker.on('message', (msg: FromWorker) => {
      const job = pw.job;
      if (!job || (msg.type !== 'result' && msg.type !== 'run-error') || msg.id !== job.id) return;
      pw.job = undefined;
      if (msg.type === 'result') job.resolve(msg.output);
      else job.reject(new Error(`scoring worker ${pw.index}: ${msg.message}`));
    });
    const die = (err: Error) => {
      pw.dead ??= err;
      pw.job?.reject(err);
      pw.job = undefined;
    };
    pw.worker.on('error', (err) => die(new Error(`scoring worker ${pw.index} crashed: ${err.message}`)));
    pw.worker.on('exit', (code) => die(new Error(`scoring worker ${pw.index} exited with code ${code}`)));
  }

  return {
    contract,
    provider: first.provider,
    attempts: first.attempts,
    concurrency: pool.length,
    run(input, rows) {
      const pw = pool.find((p) => !p.job && !p.dead);
      if (!pw) {
        const dead = pool.filter((p) => p.dead).length;
        return Promise.reject(new Error(`no idle scoring worker (${dead} of ${pool.length} dead)`));
      }
      return new Promise<Float32Array>((resolve, reject) => {
        const id = nextId++;
        pw.job = { id, resolve, reject };
        const msg: ToWorker = { type: 'run', id, input, rows };
        pw.worker.postMessage(msg, [input.buffer as ArrayBuffer]);
      });
    },
    async close() {
      await Promise.all(
        pool.map(async (pw) => {
          if (pw.dead) return;
          const closed = new Promise<void>((resolve) => pw.worker.once('exit', () => resolve()));
          pw.worker.postMessage({ type: 'close' } satisfies ToWorker);
          // A worker that does not exit promptly after releasing its session is terminated.
          const timer = setTimeout(() => void pw.worker.terminate(), 2000);
          await closed;
          clearTimeout(timer);
        }),
      );
    },
  };
}
