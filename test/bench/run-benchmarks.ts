/**
 * `npm run bench`: runs every benchmark against the local stack and writes BENCHMARKS.md. Figures are
 * measured, never asserted: each sits beside a baseline from the same run so the result is a ratio.
 */
import { writeFileSync } from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import { endpoints, testKafka } from '../support/kafka.js';
import { avroCodec } from './avro-codec.js';
import { renderMarkdown, type Section } from './report.js';
import { benchFeatureStore } from './feature-store.js';
import { benchScoring } from './scoring.js';
import { benchTopologyThroughput } from './topology-throughput.js';

interface Bench {
  readonly name: string;
  run(): Promise<Section>;
}

const kafka = testKafka();
// A million events: long enough for steady state (garbage collection, backpressure, checkpoints) rather
// than one burst of fetches.
const events = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const benches: Bench[] = [
  {
    name: 'topology throughput',
    run: () =>
      benchTopologyThroughput(kafka, (topic) => avroCodec(endpoints.schemaRegistryUrl, topic), events),
  },
  { name: 'feature store', run: () => benchFeatureStore() },
  { name: 'scoring', run: () => benchScoring() },
];

const startedAt = new Date();
const sections: Section[] = [];
const bar = new SingleBar(
  { format: 'bench [{bar}] {value}/{total} {name}', hideCursor: true },
  Presets.shades_classic,
);
bar.start(benches.length, 0, { name: '' });
for (const bench of benches) {
  bar.update({ name: bench.name });
  sections.push(await bench.run());
  bar.increment();
}
bar.stop();
const markdown = renderMarkdown('npm run bench', sections, startedAt);
writeFileSync('BENCHMARKS.md', markdown);
console.log(markdown);
process.exit(0);
