/** A worker process of the throughput benchmark's scale-out figure (the same topology as in-process). */
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import { runTopology } from '../../topologies/runtime/run.js';
import { avroCodec } from './avro-codec.js';
import { benchTopology } from './topology-throughput.js';

const [name, topic, instance] = process.argv.slice(2);
if (!name || !topic || !instance) throw new Error('usage: bench-worker.ts <topology> <topic> <instance>');
await runTopology(benchTopology(name, topic, avroCodec(loadEndpoints().schemaRegistryUrl, topic)), {
  instanceId: instance,
});
