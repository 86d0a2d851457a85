/**
 * Scoring (issue 5): what the micro-batch scorer adds to a bare ONNX Runtime run, and the scoring
 * topology's throughput and event -> prediction latency at a fixed offered load, each beside a baseline
 * measured in the same run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoadableModel } from '../../operators/score/micro-batch-scorer.js';
import { buildReferenceModel } from '../../services/trainer/build-reference-model.js';
import { INPUT_NAME, OUTPUT_NAME } from '../../services/trainer/onnx/feature-metadata.js';
import { buildMlpOnnx, randomMlp } from '../../services/trainer/onnx/mlp-onnx.js';
import { shippedTopology } from '../../topologies/catalog.js';
import { DEFAULT_SINK_MAX_BATCH } from '../../topologies/runtime/worker.js';
import { deleteTopics, testKafka } from '../support/kafka.js';
import { rawConsumeRate } from './raw-consume-rate.js';
import type { Figure, Section } from './report.js';
import { measureScorerOverhead, WARM_UP_ITERATIONS, type OverheadFigures } from './scorer-overhead.js';
import { scoringUnderLoad, type ScoringLoadFigures, type WorkerTuning } from './scoring-load.js';

export interface ScoringBenchOptions {
  readonly batch?: number;
  readonly iterations?: number;
  /** Offered load, events/s, and its duration. */
  readonly rate?: number;
  readonly seconds?: number;
}

const MLP_HIDDEN = 256;
const OVERHEAD_TARGET = 1.1;
const P99_TARGET_MS = 50;

/** The generic worker defaults, and what the scoring topology ships with (topologies/catalog.ts). */
function tunings(): WorkerTuning[] {
  const shipped = shippedTopology('scoring').defaults ?? {};
  const checkpoint = shipped.checkpointMs ?? 500;
  const sinkBatch = shipped.sinkMaxBatch ?? DEFAULT_SINK_MAX_BATCH;
  return [
    {
      label: `worker defaults (checkpoint 500 ms, sink batch ${DEFAULT_SINK_MAX_BATCH})`,
      barrierIntervalMs: 500,
      sinkMaxBatch: DEFAULT_SINK_MAX_BATCH,
    },
    {
      label: `scoring topology defaults (checkpoint ${checkpoint} ms, sink batch ${sinkBatch})`,
      barrierIntervalMs: checkpoint,
      sinkMaxBatch: sinkBatch,
    },
  ];
}

async function benchModels(dir: string): Promise<LoadableModel[]> {
  const built = await buildReferenceModel({ outDir: dir, rows: 3000, name: 'txn-risk', version: '1' });
  const lr: LoadableModel = { metadata: built.candidate, bytes: readFileSync(built.modelPath) };
  const features = built.candidate.features;
  const mlp: LoadableModel = {
    metadata: {
      name: `mlp-${features.length}-${MLP_HIDDEN}-1`,
      version: '1',
      features,
      inputName: INPUT_NAME,
      outputName: OUTPUT_NAME,
    },
    bytes: buildMlpOnnx(randomMlp(17, features, MLP_HIDDEN)),
  };
  return [lr, mlp];
}

const us = (ms: number) => `${Math.round(ms * 1000)} µs`;

function overheadFigure(f: OverheadFigures): Figure {
  const ratio = f.scorerP50 / f.bareP50;
  const met = ratio <= OVERHEAD_TARGET;
  return {
    metric:
      `${f.backend} scorer, ${f.model}, per ${f.batch}-row batch p50` +
      (f.api === 'stage' ? '' : f.api === 'flat' ? ', values scanned by the scorer' : ', per-row API'),
    value: f.scorerP50,
    unit: 'ms',
    baseline: { name: 'bare session.run on the same tensor', value: f.bareP50 },
    target: f.backend === 'inline' && f.api === 'stage' ? `ratio <= ${OVERHEAD_TARGET}` : undefined,
    note:
      `${f.backend === 'inline' && f.api === 'stage' ? (met ? 'met' : 'not met') + '; ' : ''}` +
      `overhead ${us(f.scorerP50 - f.bareP50)} per batch; p99 ${us(f.scorerP99)} vs ${us(f.bareP99)}`,
  };
}

/** Runs per tuning; the one with the median p99 is reported. */
const LOAD_RUNS = 3;

type RepeatedLoad = ScoringLoadFigures & { readonly allAppendP99: readonly number[] };

function loadFigures(r: RepeatedLoad, rawRate: number, rate: number): Figure[] {
  const tag = r.tuning.label;
  const p99Met = r.appendP99 <= P99_TARGET_MS;
  return [
    {
      metric: `topology events/s at ${rate.toLocaleString('en-US')} ev/s offered, ${tag}`,
      value: r.eventsPerSecond,
      unit: 'ev/s',
      baseline: { name: 'raw kafkajs consume of the same topic (ceiling)', value: rawRate },
      note: `${r.served.toLocaleString('en-US')} of ${r.sent.toLocaleString('en-US')} events scored; the offered load, not the ceiling, bounds this`,
    },
    {
      metric: `event -> prediction appended, p50, ${tag}`,
      value: r.appendP50,
      unit: 'ms',
      baseline: { name: 'event produce -> appended (Kafka floor)', value: r.floorP50 },
      note: 'Kafka timestamps are whole ms, so a floor of 0 means under 1 ms',
    },
    {
      metric: `event -> prediction appended, p99, ${tag}`,
      value: r.appendP99,
      unit: 'ms',
      baseline: { name: 'event produce -> appended (Kafka floor)', value: r.floorP99 },
      target: `<= ${P99_TARGET_MS} ms`,
      note:
        `${p99Met ? 'met' : 'not met'}; median of ${r.allAppendP99.length} runs, whose p99s were ` +
        `${r.allAppendP99.map((v) => `${v} ms`).join(', ')}`,
    },
    {
      metric: `event -> prediction visible to a read_committed consumer, p99, ${tag}`,
      value: r.visibleP99,
      unit: 'ms',
      baseline: { name: 'event produce -> appended (Kafka floor)', value: r.floorP99 },
      note: `p50 ${Math.round(r.visibleP50)} ms`,
    },
  ];
}

export async function benchScoring(options: ScoringBenchOptions = {}): Promise<Section> {
  const batch = options.batch ?? 256;
  const iterations = options.iterations ?? 3000;
  const rate = options.rate ?? 5000;
  const seconds = options.seconds ?? 10;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-scoring-'));
  const kafka = testKafka();
  const sourceTopics: string[] = [];
  try {
    const overhead: OverheadFigures[] = [];
    for (const model of await benchModels(dir)) {
      for (const backend of ['inline', 'worker-pool'] as const) {
        overhead.push(await measureScorerOverhead(model, backend, batch, iterations));
      }
      // The same inline call from a caller that did not check its values: the scorer scans them all.
      overhead.push(await measureScorerOverhead(model, 'inline', batch, iterations, 'flat'));
    }
    const loads: RepeatedLoad[] = [];
    for (const tuning of tunings()) {
      // p99 of one 10 s run moves with whatever else the 2 cores do (the broker, chdb's background merges
      // left by the feature-store section): three runs, the median one reported, all three listed.
      const runs: ScoringLoadFigures[] = [];
      for (let i = 0; i < LOAD_RUNS; i++) {
        const r = await scoringUnderLoad(kafka, { rate, seconds, partitions: 2, cards: 20_000, tuning });
        sourceTopics.push(r.sourceTopic);
        runs.push(r);
      }
      const sorted = [...runs].sort((a, b) => a.appendP99 - b.appendP99);
      loads.push({ ...sorted[Math.floor(sorted.length / 2)]!, allAppendP99: runs.map((r) => r.appendP99) });
    }
    const rawRate = await rawConsumeRate(kafka, loads[0]!.sourceTopic, loads[0]!.sent);
    const [lrInline] = overhead;
    return {
      title: 'Scoring (issue 5)',
      setup:
        `Scorer overhead: MicroBatchScorer (maxBatch ${batch}, cpu, 1 intra-op thread) scoring one call of ` +
        `${batch} rows vs a bare InferenceSession.run (same model bytes and session options) on a prebuilt ` +
        `[${batch}, 7] tensor of the same rows, in the same process, ${iterations.toLocaleString('en-US')} ` +
        `interleaved iterations after ${WARM_UP_ITERATIONS.toLocaleString('en-US')} unmeasured ones of each ` +
        '(until both paths are optimized); the reference logistic regression and a random-weight ' +
        `MLP 7-${MLP_HIDDEN}-1; worker-pool = 2 worker threads. Topology: decode (JSON) -> keyBy -> enrich ` +
        '(readMany from Redis, 20,000 cards) -> route (one variant, no shadow) -> score (inline LR) -> ' +
        'predictions topic, in a TopologyWorker of the bench process, 2 partitions, checkpoints as Kafka ' +
        `transactions. A child process offers ${rate.toLocaleString('en-US')} ev/s for ${seconds} s (every 5 ms ` +
        'it sends what is due) and stamps each event with its produce time `ts` (Date.now() at the send ' +
        'call), which the topology uses as event time and copies into the prediction. Latency "appended" = ' +
        "the prediction's Kafka timestamp, which is the broker's LogAppendTime (topic config), minus `ts`; " +
        'latency "visible" = the time a read_committed consumer in the child received it minus `ts`. Both ' +
        'exclude the first second (warm-up). The floor is the same measure for the event itself (source ' +
        'topic in LogAppendTime): what any Kafka-to-Kafka hop pays. events/s = served predictions / (last ' +
        'prediction append - first event send). Each tuning runs three times; the run with the median p99 is reported and the three p99s are listed. The raw consume ceiling reads the first run\u2019s source topic.',
      analysis:
        `The scorer is measured on the path the score stage uses (scoreFlat: one Float32Array per call; a ` +
        'full batch at an idle scorer runs at once, without queue or timer, and the inline backend reads ' +
        "the caller's array without a copy). The stage checks each value (finite, within float32) as it " +
        'writes it into that array, so the scorer checks only size and shape; a caller that did not check ' +
        'pays the scorer\u2019s own scan of every value (the "values scanned" rows, about 1 µs more). What ' +
        'remains is a fixed cost per call (building the tensor, two promise hops, clock reads for the ' +
        `latency metric): about ${us(lrInline!.scorerP50 - lrInline!.bareP50)} per ${batch}-row batch ` +
        `inline. The reference logistic regression runs in ${us(lrInline!.bareP50)}, so that fixed cost is ` +
        'still a visible ratio; against a heavier model it is a small share. The worker pool adds a thread hop (postMessage and ' +
        'back) per batch, which only pays for models whose run would otherwise stall the event loop. In the ' +
        'topology, the sink writes what has accumulated as soon as its input goes idle (a linger policy, as ' +
        "Kafka's linger.ms), one write at a time per partition, instead of waiting for a full sink batch or " +
        'the next checkpoint barrier; so neither the checkpoint interval nor the sink batch size sets the ' +
        'latency any more, and the two configurations should land close together. What remains is the ' +
        'fetch, one Redis read and one scorer run per fetched batch (0-1 ms micro-batch waits in the scoring ' +
        'topology), and one produce round trip. On this 2-core box the broker, Redis, the load child and the ' +
        'topology share the cores with whatever else runs, so p99 moves by tens of ms between runs: compare ' +
        'it with the floor of the same run, which grows with the same contention.',
      figures: [...overhead.map(overheadFigure), ...loads.flatMap((r) => loadFigures(r, rawRate, rate))],
    };
  } finally {
    await deleteTopics(kafka, sourceTopics);
    rmSync(dir, { recursive: true, force: true });
  }
}
