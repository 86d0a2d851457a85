/** What a worker process and its stream threads tell each other (worker_threads messages). */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { TopologyRef } from './topology-ref.js';
import type { WorkerOptions } from './worker.js';

/** The worker settings a thread takes over: plain numbers, so they can be copied to it. */
export type ThreadWorkerOptions = Omit<WorkerOptions, 'kafka' | 'endpoints' | 'logger' | 'instanceId'>;

export interface StreamThreadData {
  readonly ref: TopologyRef;
  /** 0-based; labels the thread's metrics (`stream_thread`) and suffixes its instance id. */
  readonly index: number;
  readonly instanceId: string;
  readonly options: ThreadWorkerOptions;
  readonly maxDecompressedBatchBytes?: number;
}

export type ToStreamThread = { readonly type: 'stop' } | { readonly type: 'metrics'; readonly id: number };

export type ThreadMetrics = MetricObjectWithValues<MetricValue<string>>[];

export type FromStreamThread =
  | { readonly type: 'started'; readonly topology: string }
  | { readonly type: 'state'; readonly alive: boolean; readonly member: boolean }
  | { readonly type: 'committed'; readonly partition: number; readonly nextOffset: string }
  | { readonly type: 'metrics'; readonly id: number; readonly metrics: ThreadMetrics }
  | { readonly type: 'fatal'; readonly message: string; readonly stack?: string }
  | { readonly type: 'stopped' };
