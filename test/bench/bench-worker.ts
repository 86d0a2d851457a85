/**
 * A worker process of the throughput benchmark's scale-out figure (the same topology as in-process). It
 * first runs the topology over an already filled topic under a throwaway group, as the in-process worker
 * has run it in earlier rounds of the same benchmark: both are measured with kafkajs' fetch decoding and
 * the pipeline compiled, not while V8 warms up (a cold process spends the first second or so compiling).
 */
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import { createKafka } from '../../connectors/kafka/client.js';
import { runTopology } from '../../topologies/runtime/run.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import { deleteTopics, topologyTopics, waitForCommittedEnd } from '../support/kafka.js';
import { avroCodec } from './avro-codec.js';
import { benchTopology } from './topology-throughput.js';

const [name, topic, instance, warmUpTopic] = process.argv.slice(2);
if (!name || !topic || !instance || !warmUpTopic) {
  throw new Error('usage: bench-worker.ts <topology> <topic> <instance> <warm-up topic>');
}
const endpoints = loadEndpoints();
const kafka = createKafka(endpoints.kafkaBrokers, `sluice-bench-warm-up-${instance}`);
const warmUpName = `${name}-warm-up-${instance}`;
const warmUp = new TopologyWorker(
  benchTopology(warmUpName, warmUpTopic, avroCodec(endpoints.schemaRegistryUrl, warmUpTopic)),
  {
    instanceId: instance,
    kafka,
    endpoints,
  },
);
await warmUp.start();
await waitForCommittedEnd(kafka, warmUpName, warmUpTopic, 120_000);
await warmUp.stop();
await deleteTopics(kafka, [`${warmUpName}.out`, ...topologyTopics(warmUpName)]);
await runTopology(benchTopology(name, topic, avroCodec(endpoints.schemaRegistryUrl, topic)), {
  instanceId: instance,
});
