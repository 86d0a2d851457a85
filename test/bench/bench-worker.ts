/**
 * A worker process of the throughput benchmark's scale-out figure (the same topology as in-process). It
 * first runs the topology over an already filled topic under a throwaway group, as the in-process worker
 * has run it in earlier rounds of the same benchmark: both are measured with kafkajs' fetch decoding and
 * the pipeline compiled, not while V8 warms up (a cold process spends the first second or so compiling).
 * It sends each checkpoint commit's offsets to the parent (IPC), which times the pair by them.
 */
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import { createKafka } from '../../connectors/kafka/client.js';
import { metricsPortFromEnv, startMetricsEndpoint } from '../../topologies/runtime/metrics-endpoint.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import { deleteTopics, topologyTopics, waitForCommittedEnd } from '../support/kafka.js';
import { avroCodec } from './avro-codec.js';
import { reportingCommits } from './commit-watch.js';
import { benchTopology } from './topology-throughput.js';

const [name, topic, instance, warmUpTopic] = process.argv.slice(2);
const metricsPort = metricsPortFromEnv(process.env.SLUICE_METRICS_PORT);
if (!name || !topic || !instance || !warmUpTopic || metricsPort === undefined || !process.send) {
  throw new Error(
    'usage: SLUICE_METRICS_PORT=<port> bench-worker.ts <topology> <topic> <instance> <warm-up topic>, ' +
      'spawned with an IPC channel',
  );
}
const send = process.send.bind(process);
const endpoints = loadEndpoints();
const kafka = createKafka(endpoints.kafkaBrokers, `sluice-bench-${instance}`);
const warmUpName = `${name}-warm-up-${instance}`;
const warmUp = new TopologyWorker(
  benchTopology(warmUpName, warmUpTopic, avroCodec(endpoints.schemaRegistryUrl, warmUpTopic)),
  { instanceId: instance, kafka, endpoints },
);
await warmUp.start();
await waitForCommittedEnd(kafka, warmUpName, warmUpTopic, 120_000);
await warmUp.stop();
await deleteTopics(kafka, [`${warmUpName}.out`, ...topologyTopics(warmUpName)]);

const worker = new TopologyWorker(benchTopology(name, topic, avroCodec(endpoints.schemaRegistryUrl, topic)), {
  instanceId: instance,
  kafka: reportingCommits(kafka, name, topic, (offsets) => send(offsets)),
  endpoints,
});
// /readyz tells the parent when this worker holds its share of the partitions.
const probe = await startMetricsEndpoint(
  { alive: () => worker.isAlive, ready: () => worker.isMember },
  metricsPort,
  '127.0.0.1',
);
worker.onFatal((err) => {
  console.error(`bench worker ${instance} failed: ${String(err)}`);
  process.exit(1);
});
process.once('SIGTERM', () => {
  void worker
    .stop()
    .then(() => probe.close())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
});
await worker.start();
