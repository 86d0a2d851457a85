/**
 * A worker process for the crash tests: a decode -> key -> tumbling window -> Kafka sink topology,
 * run until SIGTERM (or SIGKILL from the test). Configured by environment variables.
 */
import { kafkaSink, jsonValue } from '../../connectors/kafka/kafka-sink.js';
import { count, sum, aggregate } from '../../operators/aggregate/index.js';
import { decode } from '../../operators/decode.js';
import { keyBy } from '../../operators/key-by.js';
import { tumbling, window } from '../../operators/windows/index.js';
import { kafkaSource, topology } from '../../topologies/builder.js';
import { runTopology } from '../../topologies/runtime/run.js';
import { jsonDecoder } from './json-decoder.js';

export interface CrashTestEvent {
  id: number;
  key: string;
  ts: number;
  amount: number;
}

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set`);
  return v;
};

const t = topology(env('CRASH_TOPOLOGY'))
  .from(kafkaSource(env('CRASH_SOURCE')))
  .pipe(
    decode(jsonDecoder<CrashTestEvent>(), { eventTime: (e) => e.ts, maxAgeMs: 10 * 365 * 86_400_000 }),
    keyBy((e) => e.key),
    window(tumbling('10s'), {
      grace: '1s',
      outOfOrderness: '3s',
      aggregate: aggregate({ n: count(), total: sum((e: CrashTestEvent) => e.amount) }),
    }),
  )
  .to(kafkaSink({ topic: env('CRASH_OUTPUT'), serialize: jsonValue }));

await runTopology(t, {
  instanceId: env('CRASH_INSTANCE'),
  sessionTimeoutMs: 6000,
  barrierIntervalMs: 200,
  barrierEveryRecords: 1000,
});
