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
import { benchTopologyThroughput, topologyBenchSteps, type BenchProgress } from './topology-throughput.js';

interface Bench {
  readonly name: string;
  /** How many steps its progress reports (1 for a bench that reports none). */
  readonly steps: number;
  run(progress: BenchProgress): Promise<Section>;
}

const kafka = testKafka();
// A million events: long enough for steady state (garbage collection, backpressure, checkpoints) rather
// than one burst of fetches.
const events = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const benches: Bench[] = [
  {
    name: 'topology throughput',
    steps: topologyBenchSteps(),
    run: (progress) =>
      benchTopologyThroughput(
        kafka,
        (topic) => avroCodec(endpoints.schemaRegistryUrl, topic),
        events,
        progress,
      ),
  },
  { name: 'feature store', steps: 1, run: () => benchFeatureStore() },
  { name: 'scoring', steps: 1, run: () => benchScoring() },
];

const startedAt = new Date();
const sections: Section[] = [];
const bar = new SingleBar(
  // Without a terminal (CI) the bar is printed as a line every 30 s instead of redrawn.
  {
    format: 'bench [{bar}] {value}/{total} {name}',
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 30_000,
  },
  Presets.shades_classic,
);
bar.start(
  benches.reduce((n, b) => n + b.steps, 0),
  0,
  { name: '' },
);
let stepsBefore = 0;
for (const bench of benches) {
  bar.update(stepsBefore, { name: bench.name });
  sections.push(
    await bench.run((done, running) => bar.update(stepsBefore + done, { name: `${bench.name}: ${running}` })),
  );
  stepsBefore += bench.steps;
  bar.update(stepsBefore);
}
bar.stop();
const markdown = renderMarkdown('npm run bench', sections, startedAt);
writeFileSync('BENCHMARKS.md', markdown);
console.log(markdown);
process.exit(0);
