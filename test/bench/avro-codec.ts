/** The benchmark events as Avro through the schema registry, exactly as producers would send them. */
import type { SchemaDescriptor } from '../../schemas/index.js';
import { createAvroSerde, createRegistryClient } from '../../connectors/schema-registry/index.js';
import type { BenchEvent, Codec } from './bench-topology.js';

const BenchEventSchema: SchemaDescriptor<BenchEvent> = {
  name: 'dev.sluice.bench.BenchEvent',
  avsc: {
    type: 'record',
    name: 'BenchEvent',
    namespace: 'dev.sluice.bench',
    fields: [
      { name: 'id', type: 'int' },
      { name: 'cardId', type: 'string' },
      { name: 'amount', type: 'double' },
      { name: 'ts', type: 'long' },
    ],
  },
};

export function avroCodec(registryUrl: string, topic: string): Codec {
  const serde = createAvroSerde(BenchEventSchema, createRegistryClient(registryUrl), { topic });
  return {
    name: 'Avro (Confluent wire format)',
    encode: (e) => serde.serialize(e),
    decoder: serde,
  };
}
