/**
 * A worker process of the throughput benchmark's scale-out figure (the same topology as in-process). It
 * first runs the topology over an already filled topic under a throwaway group, as the in-process worker
 * has run it in earlier rounds of the same benchmark: both are measured with kafkajs' fetch decoding and
 * the pipeline compiled, not while V8 warms up (a cold process spends the first second or so compiling).
 * It sends each checkpoint commit to the parent (IPC), which times the pair by them.
 */
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import { createKafka } from '../../connectors/kafka/client.js';
import { runTopology } from '../../topologies/runtime/run.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import { waitForCommittedEnd } from '../support/kafka.js';
import { benchTopologyOnRegistry, deleteTopologyTopics } from './bench-topology.js';

const [name, topic, instance, warmUpTopic] = process.argv.slice(2);
if (!name || !topic || !instance || !warmUpTopic || !process.send) {
  throw new Error(
    'usage: bench-worker.ts <topology> <topic> <instance> <warm-up topic>, spawned with an IPC channel',
  );
}
const send = process.send.bind(process);
const endpoints = loadEndpoints();
const kafka = createKafka(endpoints.kafkaBrokers, `sluice-bench-${instance}`);
const warmUpName = `${name}-warm-up-${instance}`;
const warmUp = new TopologyWorker(benchTopologyOnRegistry(warmUpName, warmUpTopic), {
  instanceId: instance,
  kafka,
  endpoints,
});
await warmUp.start();
await waitForCommittedEnd(kafka, warmUpName, warmUpTopic, 120_000);
await warmUp.stop();
await deleteTopologyTopics(kafka, warmUpName);
// The production entry point (SIGTERM, /readyz on SLUICE_METRICS_PORT for the parent). Its commits are
// heard from its return on: the parent releases the events only once both workers are ready, so none
// can commit before.
const worker = await runTopology(benchTopologyOnRegistry(name, topic), { instanceId: instance, kafka });
worker.onCommitted((committed) => send(committed));
