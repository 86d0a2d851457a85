/**
 * Runs a topology in this process until SIGTERM/SIGINT (graceful: checkpoint, commit, leave the group)
 * or a fatal error (exit 1, so the orchestrator restarts it and it resumes from its last checkpoint).
 */
import os from 'node:os';
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import { createKafka, rootLogger } from '../../connectors/kafka/client.js';
import { registerCompressionCodecs } from '../../connectors/kafka/compression/index.js';
import type { Topology } from '../builder.js';
import { metricsPortFromEnv, startMetricsEndpoint } from './metrics-endpoint.js';
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

export async function runTopology(topology: Topology, options: RunOptions = {}): Promise<TopologyWorker> {
  const endpoints = loadEndpoints();
  if (options.maxDecompressedBatchBytes !== undefined) {
    registerCompressionCodecs(options.maxDecompressedBatchBytes);
  }
  const instanceId =
    options.instanceId ?? process.env.SLUICE_INSTANCE_ID ?? `${os.hostname()}-${process.pid}`;
  // A client the caller built (its own settings, or instrumented) is used as it is.
  const kafka = options.kafka ?? createKafka(endpoints.kafkaBrokers, `sluice-${topology.name}-${instanceId}`);
  const worker = new TopologyWorker(topology, { ...options, instanceId, kafka, endpoints });
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(code || 1), 45_000);
    force.unref();
    worker.stop().then(
      () => process.exit(code),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop(0));
  process.once('SIGINT', () => stop(0));
  worker.onFatal(() => stop(1));
  const metricsPort = options.metricsPort ?? metricsPortFromEnv(process.env.SLUICE_METRICS_PORT);
  if (metricsPort !== undefined) {
    const endpoint = await startMetricsEndpoint(
      { alive: () => worker.isAlive, ready: () => worker.isMember },
      metricsPort,
    );
    rootLogger.info({ port: endpoint.port }, 'serving /metrics, /healthz, /readyz');
  }
  await worker.start();
  rootLogger.info({ topology: topology.name, instanceId }, 'running; SIGTERM to stop gracefully');
  return worker;
}
