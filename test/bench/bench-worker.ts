/**
 * A worker process of the throughput benchmark's scale-out figure (the same topology as in-process). It
 * first runs the pipeline in memory over the workload's events, as the in-process worker has run it in
 * earlier rounds of the same benchmark: both are measured with their code compiled, not while V8 warms up.
 */
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import { runTopology } from '../../topologies/runtime/run.js';
import { avroCodec } from './avro-codec.js';
import { inMemoryPipelineRate } from './pipeline-in-memory.js';
import { benchMessages, benchTopology, type Workload } from './topology-throughput.js';

const [name, topic, instance, workloadJson] = process.argv.slice(2);
if (!name || !topic || !instance || !workloadJson) {
  throw new Error('usage: bench-worker.ts <topology> <topic> <instance> <workload json>');
}
const codec = avroCodec(loadEndpoints().schemaRegistryUrl, topic);
const warmUp = await benchMessages(codec, 100_000, JSON.parse(workloadJson) as Workload);
await inMemoryPipelineRate(benchTopology(`${name}-warm-up`, topic, codec), warmUp);
await runTopology(benchTopology(name, topic, codec), { instanceId: instance });
