/**
 * Runs a topology in this process until SIGTERM/SIGINT (graceful: checkpoint, commit, leave the group)
 * or a fatal error (exit 1, so the orchestrator restarts it and it resumes from its last checkpoint).
 * One stream thread (runTopology) or several (runTopologyThreads, see stream-threads.ts).
 */
import os from 'node:os';
import { register } from 'prom-client';
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import { createKafka, rootLogger } from '../../connectors/kafka/client.js';
import { registerCompressionCodecs } from '../../connectors/kafka/compression/index.js';
import type { Topology } from '../builder.js';
import { metricsPortFromEnv, startMetricsEndpoint, type WorkerProbe } from './metrics-endpoint.js';
import type { ThreadWorkerOptions } from './stream-thread-protocol.js';
import { StreamThreads } from './stream-threads.js';
import type { TopologyRef } from './topology-ref.js';
import { TopologyWorker, type WorkerOptions } from './worker.js';

export type RunOptions = Partial<Omit<WorkerOptions, 'endpoints'>> & {
  /** Serve /metrics, /healthz and /readyz here (default SLUICE_METRICS_PORT; unset = no endpoint). */
  readonly metricsPort?: number;
  /**
   * The most bytes one compressed record batch may expand to (default 64 MiB); a batch over it goes to the
   * dead-letter topic whole. Process-wide, as kafkajs' codecs are.
   */
  readonly maxDecompressedBatchBytes?: number;
};

export type ThreadedRunOptions = ThreadWorkerOptions & {
  /** Stream threads in this process, each a member of the topology's consumer group. */
  readonly threads: number;
  readonly instanceId?: string;
  readonly metricsPort?: number;
  readonly maxDecompressedBatchBytes?: number;
};

/** A stoppable runner: the single-threaded worker, or the stream threads. */
interface Runner {
  stop(): Promise<void>;
  onFatal(handler: (err: Error) => void): void;
}

const defaultInstanceId = () => process.env.SLUICE_INSTANCE_ID ?? `${os.hostname()}-${process.pid}`;

export async function runTopology(topology: Topology, options: RunOptions = {}): Promise<TopologyWorker> {
  const endpoints = loadEndpoints();
  if (options.maxDecompressedBatchBytes !== undefined) {
    registerCompressionCodecs(options.maxDecompressedBatchBytes);
  }
  const instanceId = options.instanceId ?? defaultInstanceId();
  // A client the caller built (its own settings, or instrumented) is used as it is.
  const kafka = options.kafka ?? createKafka(endpoints.kafkaBrokers, `sluice-${topology.name}-${instanceId}`);
  const worker = new TopologyWorker(topology, { ...options, instanceId, kafka, endpoints });
  await supervise(worker, options.metricsPort, { alive: () => worker.isAlive, ready: () => worker.isMember });
  await worker.start();
  rootLogger.info({ topology: topology.name, instanceId }, 'running; SIGTERM to stop gracefully');
  return worker;
}

/**
 * The topology `ref` builds, on `threads` stream threads of this process. Each thread builds its own copy
 * (topologies hold functions, which cannot cross threads), so the topology comes as a module and export.
 */
export async function runTopologyThreads(
  ref: TopologyRef,
  options: ThreadedRunOptions,
): Promise<StreamThreads> {
  // Refuse bad settings here, once, rather than in every thread.
  loadEndpoints();
  const { threads: count, instanceId, metricsPort, maxDecompressedBatchBytes, ...worker } = options;
  const threads = new StreamThreads(ref, {
    threads: count,
    instanceId: instanceId ?? defaultInstanceId(),
    worker,
    logger: rootLogger,
    ...(maxDecompressedBatchBytes !== undefined ? { maxDecompressedBatchBytes } : {}),
  });
  await supervise(threads, metricsPort, {
    alive: () => threads.isAlive,
    ready: () => threads.isMember,
    metrics: () => threads.metrics(register),
  });
  await threads.start();
  rootLogger.info({ ref: ref.args, threads: count }, 'running; SIGTERM to stop gracefully');
  return threads;
}

/** SIGTERM/SIGINT stop the runner gracefully (exit 0), a fatal error stops it and exits 1; probes served. */
async function supervise(runner: Runner, port: number | undefined, probe: WorkerProbe): Promise<void> {
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(code || 1), 45_000);
    force.unref();
    runner.stop().then(
      () => process.exit(code),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop(0));
  process.once('SIGINT', () => stop(0));
  runner.onFatal(() => stop(1));
  const metricsPort = port ?? metricsPortFromEnv(process.env.SLUICE_METRICS_PORT);
  if (metricsPort !== undefined) {
    const endpoint = await startMetricsEndpoint(probe, metricsPort);
    rootLogger.info({ port: endpoint.port }, 'serving /metrics, /healthz, /readyz');
  }
}
