/**
 * One scoring worker: owns one ONNX session (one intra-op thread) and answers run requests. Input and output
 * buffers are transferred, not copied, across the thread boundary.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ModelContract } from './model-session.js';
import { openModelSession, runBatch } from './model-session.js';
import { ortSessionFactory } from './session-factory.js';
import type { ScoringSession } from './session-factory.js';

export interface ScoringWorkerData {
  readonly modelBytes: Uint8Array;
  readonly contract: ModelContract;
  readonly preferredProviders: readonly string[];
  readonly availableFeatures?: readonly string[];
  readonly intraOpNumThreads: number;
}

export type ToWorker = { type: 'run'; id: number; input: Float32Array; rows: number } | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; provider: string; attempts: { provider: string; ok: boolean; reason: string }[] }
  | { type: 'init-error'; error: { name: string; code?: string; message: string } }
  | { type: 'result'; id: number; output: Float32Array }
  | { type: 'run-error'; id: number; message: string }
  | { type: 'closed' };

const port = parentPort;
if (!port) throw new Error('scoring-worker.ts must run in a worker thread');
const data = workerData as ScoringWorkerData;
const post = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

let session: ScoringSession | undefined;
try {
  const selected = await openModelSession(data.modelBytes, data.contract, {
    preferredProviders: data.preferredProviders,
    sessionFactory: ortSessionFactory({ intraOpNumThreads: data.intraOpNumThreads }),
    availableFeatures: data.availableFeatures,
  });
  session = selected.session;
  post({ type: 'ready', provider: selected.provider, attempts: [...selected.attempts] });
} catch (err) {
  const e = err as Error & { code?: string };
  post({ type: 'init-error', error: { name: e.name, code: e.code, message: e.message } });
  port.close();
}

port.on('message', async (msg: ToWorker) => {
  if (!session) return;
  if (msg.type === 'close') {
    await session.release();
    session = undefined;
    post({ type: 'closed' });
    port.close();
    return;
  }
  try {
    // Copy into a buffer this thread owns, so it can be transferred whatever ORT backs its output with.
    const output = Float32Array.from(await runBatch(session, data.contract, msg.input, msg.rows));
    post({ type: 'result', id: msg.id, output }, [output.buffer as ArrayBuffer]);
  } catch (err) {
    post({ type: 'run-error', id: msg.id, message: (err as Error).message });
  }
});
