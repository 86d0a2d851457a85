/** The benchmark events as Avro through the schema registry, exactly as producers would send them. */
import type { SchemaDescriptor } from '../../schemas/index.js';
import { createAvroSerde, createRegistryClient } from '../../connectors/schema-registry/index.js';
import type { BenchEvent, BenchWindow, Codec } from './bench-topology.js';

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

/** One window result of the bench topology: the card's count and amount sum over [start, end). */
const BenchWindowSchema: SchemaDescriptor<BenchWindow> = {
  name: 'dev.sluice.bench.BenchWindow',
  avsc: {
    type: 'record',
    name: 'BenchWindow',
    namespace: 'dev.sluice.bench',
    fields: [
      { name: 'key', type: 'string' },
      { name: 'start', type: 'long' },
      { name: 'end', type: 'long' },
      {
        name: 'value',
        type: {
          type: 'record',
          name: 'BenchTotals',
          fields: [
            { name: 'n', type: 'long' },
            { name: 'amount', type: 'double' },
          ],
        },
      },
    ],
  },
};

/** Events in and window results out as Avro through the registry, as the reference topologies write. */
export function avroCodec(registryUrl: string, topic: string): Codec {
  const registry = createRegistryClient(registryUrl);
  const events = createAvroSerde(BenchEventSchema, registry, { topic });
  const windows = createAvroSerde(BenchWindowSchema, registry, { topic: `${topic}.windows` });
  return {
    name: 'Avro (Confluent wire format)',
    encode: (e) => events.serialize(e),
    decoder: events,
    serializeWindow: (w) => windows.serialize(w),
  };
}
