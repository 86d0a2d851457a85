/**
 * Runs a topology in this process until SIGTERM/SIGINT (graceful: checkpoint, commit, leave the group)
 * or a fatal error (exit 1, so the orchestrator restarts it and it resumes from its last checkpoint).
 */
import os from 'node:os';
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import { createKafka, rootLogger } from '../../connectors/kafka/client.js';
import type { Topology } from '../builder.js';
import { TopologyWorker, type WorkerOptions } from './worker.js';

export type RunOptions = Partial<Omit<WorkerOptions, 'kafka' | 'endpoints'>>;

export async function runTopology(topology: Topology, options: RunOptions = {}): Promise<TopologyWorker> {
  const endpoints = loadEndpoints();
  const instanceId =
    options.instanceId ?? process.env.SLUICE_INSTANCE_ID ?? `${os.hostname()}-${process.pid}`;
  const kafka = createKafka(endpoints.kafkaBrokers, `sluice-${topology.name}-${instanceId}`);
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
  await worker.start();
  rootLogger.info({ topology: topology.name, instanceId }, 'running; SIGTERM to stop gracefully');
  return worker;
}
