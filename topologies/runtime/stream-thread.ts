/**
 * One stream thread of a worker process (started by stream-threads.ts): it builds its own copy of the
 * topology and runs it as one more member of the topology's consumer group, with its own Kafka clients,
 * as a worker process would. The process's main thread supervises: it stops the threads, asks for their
 * metrics, and hears of their state, commits and failures.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'prom-client';
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import { createKafka } from '../../connectors/kafka/client.js';
import { registerCompressionCodecs } from '../../connectors/kafka/compression/index.js';
import type { FromStreamThread, StreamThreadData, ToStreamThread } from './stream-thread-protocol.js';
import { buildTopology } from './topology-ref.js';
import { TopologyWorker } from './worker.js';

/** How often the thread reports liveness and membership (what /healthz and /readyz answer from). */
const STATE_EVERY_MS = 250;

const port = parentPort;
if (!port) throw new Error('stream-thread.ts runs as a worker thread (see stream-threads.ts)');
const data = workerData as StreamThreadData;
const post = (message: FromStreamThread) => port.postMessage(message);
const fatal = (err: unknown) => {
  const error = err instanceof Error ? err : new Error(String(err));
  post({ type: 'fatal', message: error.message, stack: error.stack });
};

// Every thread has its own registry: the label keeps their series apart once the main thread merges them.
register.setDefaultLabels({ stream_thread: String(data.index) });

/**
 * The thread's worker once its topology is built (undefined if that failed). A stop waits for it: a stop
 * that came while the topology was being built must still close what the build opened (withResources).
 */
let resolveWorker: (worker: TopologyWorker | undefined) => void = () => undefined;
const built = new Promise<TopologyWorker | undefined>((resolve) => (resolveWorker = resolve));
let stopping = false;
port.on('message', (message: ToStreamThread) => {
  if (message.type === 'metrics') {
    register.getMetricsAsJSON().then(
      (metrics) => post({ type: 'metrics', id: message.id, metrics }),
      () => post({ type: 'metrics', id: message.id, metrics: [] }),
    );
  } else if (message.type === 'stop' && !stopping) {
    stopping = true;
    built
      .then((worker) => worker?.stop())
      .then(
        () => post({ type: 'stopped' }),
        (err: unknown) => (fatal(err), post({ type: 'stopped' })),
      );
  }
});

try {
  if (data.maxDecompressedBatchBytes !== undefined) registerCompressionCodecs(data.maxDecompressedBatchBytes);
  const topology = await buildTopology(data.ref);
  const endpoints = loadEndpoints();
  const kafka = createKafka(endpoints.kafkaBrokers, `sluice-${topology.name}-${data.instanceId}`);
  const running = new TopologyWorker(topology, {
    ...data.options,
    instanceId: data.instanceId,
    kafka,
    endpoints,
  });
  resolveWorker(running);
  running.onFatal(fatal);
  running.onCommitted(({ partition, nextOffset }) => post({ type: 'committed', partition, nextOffset }));
  const reportState = () => post({ type: 'state', alive: running.isAlive, member: running.isMember });
  setInterval(reportState, STATE_EVERY_MS).unref();
  // A stop asked for during the start: start() then finishes early, and the stop above closes what it opened.
  if (!stopping) {
    await running.start();
    post({ type: 'started', topology: topology.name });
    reportState();
  }
} catch (err) {
  resolveWorker(undefined); // a no-op when the worker was built and its start failed
  fatal(err);
}
