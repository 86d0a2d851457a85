/**
 * The crash tests' topology: decode -> key -> tumbling window -> Kafka sink. A module of its own, so that
 * stream threads can build it too (each thread imports this and calls crashWindowTopology).
 */
import { kafkaSink, jsonValue } from '../../connectors/kafka/kafka-sink.js';
import { count, sum, aggregate } from '../../operators/aggregate/index.js';
import { decode } from '../../operators/decode.js';
import { keyBy } from '../../operators/key-by.js';
import { tumbling, window } from '../../operators/windows/index.js';
import { kafkaSource, topology, type Topology } from '../../topologies/builder.js';
import { jsonDecoder } from './json-decoder.js';

export interface CrashTestEvent {
  id: number;
  key: string;
  ts: number;
  amount: number;
}

export function crashWindowTopology(name: string, source: string, output: string): Topology {
  return topology(name)
    .from(kafkaSource(source))
    .pipe(
      decode(jsonDecoder<CrashTestEvent>(), { eventTime: (e) => e.ts, maxAgeMs: 10 * 365 * 86_400_000 }),
      keyBy((e) => e.key),
      window(tumbling('10s'), {
        grace: '1s',
        outOfOrderness: '3s',
        aggregate: aggregate({ n: count(), total: sum((e: CrashTestEvent) => e.amount) }),
      }),
    )
    .to(kafkaSink({ topic: output, serialize: jsonValue }));
}
