/**
 * The throughput section of BENCHMARKS.md from the measured runs: medians, each figure beside its
 * baseline from the same run, every round's ratio, and an analysis computed from this run's figures.
 */
import os from 'node:os';
import { median } from './latency-stats.js';
import type { Measured } from './machine-cpu.js';
import type { Figure } from './report.js';

/**
 * Key cardinality decides how much a window topology writes back: with ~1 event per key and window every
 * event ends up in its own window result (and changelog record); with many it is folded into a few.
 */
export interface Workload {
  readonly name: string;
  readonly keys: number;
  /** Event-time distance between consecutive events, ms. */
  readonly spacingMs: number;
}

/** Each measurement's runs, one per round. */
export interface WorkloadRates {
  readonly raw: Measured[];
  readonly passThrough: Measured[];
  /** One worker process, one stream thread. */
  readonly oneProcess: Measured[];
  /** One worker process on `streamThreads` stream threads. */
  readonly threads: Measured[];
  readonly twoProcesses: Measured[];
  readonly inMemory: number[];
}

const TARGET = 0.7;
const CORES = os.cpus().length;
const pct = (x: number) => x.toFixed(2);
const evs = (x: number) => Math.round(x).toLocaleString('en-US');
const shortName = (w: Workload) => w.name.split(' (')[0] as string;

const runsNote = (runs: readonly number[]) =>
  `median of ${runs.length} runs: ${runs.map(evs).join(', ')} ev/s`;

/** Each round's rate over the raw run of the same round: how far the ratio moves between rounds. */
const roundRatiosNote = (runs: readonly number[], raw: readonly number[]) =>
  `ratio in each round (over that round's raw run): ${runs.map((r, i) => pct(r / (raw[i] as number))).join(', ')}`;

interface Cpu {
  /** Machine CPU per event, µs (every process, the broker included). */
  readonly perEvent: number;
  readonly cores: number;
}

type Measurement = 'raw' | 'passThrough' | 'oneProcess' | 'threads' | 'twoProcesses';

/** One workload's medians. */
interface Summary {
  readonly workload: Workload;
  readonly rate: Readonly<Record<Measurement | 'inMemory', number>>;
  readonly cpu: Readonly<Record<Measurement, Cpu>>;
  readonly runs: Readonly<Record<Measurement | 'inMemory', readonly number[]>>;
}

function summarize(workload: Workload, measured: WorkloadRates): Summary {
  const kinds: Measurement[] = ['raw', 'passThrough', 'oneProcess', 'threads', 'twoProcesses'];
  const runs = Object.fromEntries([
    ...kinds.map((k) => [k, measured[k].map((m) => m.rate)]),
    ['inMemory', measured.inMemory],
  ]) as Summary['runs'];
  const rate = Object.fromEntries(Object.entries(runs).map(([k, r]) => [k, median(r)])) as Summary['rate'];
  const cpu = Object.fromEntries(
    kinds.map((k) => [
      k,
      {
        perEvent: median(measured[k].map((m) => m.cpuPerEvent)),
        cores: median(measured[k].map((m) => m.coresBusy)),
      },
    ]),
  ) as Summary['cpu'];
  return { workload, rate, cpu, runs };
}

/** The figures of one workload. */
function figuresOf(s: Summary, streamThreads: number): Figure[] {
  const name = s.workload.name;
  const rawBaseline = { name: `raw kafkajs consume, ${runsNote(s.runs.raw)}`, value: s.rate.raw };
  const rawCpu = {
    name: `raw kafkajs consume, ${s.cpu.raw.cores.toFixed(2)} of ${CORES} cores busy`,
    value: s.cpu.raw.perEvent,
  };
  const targetFigure = (
    kind: 'oneProcess' | 'threads' | 'twoProcesses',
    label: string,
    extra: string,
  ): Figure => ({
    metric: `${name}: topology events/s, ${label}`,
    value: s.rate[kind],
    unit: 'ev/s',
    baseline: rawBaseline,
    target: `ratio >= ${TARGET}`,
    note:
      `${s.rate[kind] / s.rate.raw >= TARGET ? 'met' : 'not met'}; ${runsNote(s.runs[kind])}; ` +
      `${roundRatiosNote(s.runs[kind], s.runs.raw)}${extra}`,
  });
  const cpuFigure = (kind: Exclude<Measurement, 'raw'>, label: string): Figure => ({
    metric: `${name}: machine CPU per event, ${label}`,
    value: s.cpu[kind].perEvent,
    unit: 'µs',
    baseline: rawCpu,
    note: `${s.cpu[kind].cores.toFixed(2)} of ${CORES} cores busy; every process, the broker included`,
  });
  return [
    targetFigure('oneProcess', '1 worker process, 1 stream thread', ''),
    {
      metric: `${name}: topology events/s, 1 worker process, 1 stream thread`,
      value: s.rate.oneProcess,
      unit: 'ev/s',
      baseline: {
        name: `kafkajs consume -> produce pass-through, ${runsNote(s.runs.passThrough)}`,
        value: s.rate.passThrough,
      },
    },
    targetFigure(
      'threads',
      `1 worker process, ${streamThreads} stream threads`,
      '; timed once the threads, warmed up on the same topic, share one stable group (see the analysis)',
    ),
    targetFigure(
      'twoProcesses',
      '2 worker processes',
      '; timed once both workers share one stable group (see the analysis); both share the 2 cores with the broker',
    ),
    {
      metric: `${name}: the same pipeline without Kafka (in memory, 1 partition)`,
      value: s.rate.inMemory,
      unit: 'ev/s',
      baseline: rawBaseline,
      note:
        `${runsNote(s.runs.inMemory)}; decode, key, window, checkpoint capture and the Kafka sink's ` +
        "message building (to a producer that only counts bytes): Sluice's own cost, with no fetch, produce or commit",
    },
    cpuFigure('oneProcess', '1 worker process, 1 stream thread'),
    cpuFigure('threads', `1 worker process, ${streamThreads} stream threads`),
    cpuFigure('twoProcesses', '2 worker processes'),
    cpuFigure('passThrough', 'kafkajs consume -> produce pass-through'),
  ];
}

/** Machine CPU per event that 0.7 of the raw rate allows with every core busy, µs. */
const budgetOf = (s: Summary) => (CORES * 1e6) / (TARGET * s.rate.raw);

/** What the machine's CPU allows a workload, however its work is split into threads or processes. */
function cpuBound(s: Summary, streamThreads: number): string {
  const { raw, threads, twoProcesses, passThrough } = s.cpu;
  const cap = (CORES * 1e6) / threads.perEvent;
  return (
    `${shortName(s.workload)}: raw ${raw.perEvent.toFixed(2)} µs per event with ${raw.cores.toFixed(2)} ` +
    `cores busy; ${streamThreads} stream threads ${threads.perEvent.toFixed(2)} µs ` +
    `(${pct(threads.perEvent / raw.perEvent)} times raw) with ${threads.cores.toFixed(2)} busy, two ` +
    `processes ${twoProcesses.perEvent.toFixed(2)} µs with ${twoProcesses.cores.toFixed(2)} busy; at the ` +
    `threads' CPU per event, ${CORES} fully busy cores cap the rate at ${evs(cap)} ev/s ` +
    `(${pct(cap / s.rate.raw)} of raw), and ${TARGET} of raw needs at most ${budgetOf(s).toFixed(2)} µs ` +
    `per event; the bare pass-through (consume, produce every record, no processing) takes ` +
    `${passThrough.perEvent.toFixed(2)} µs`
  );
}

function analysis(summaries: readonly Summary[], streamThreads: number): string {
  const [perCard, perMerchant] = summaries as [Summary, Summary];
  const verdicts = summaries.flatMap((s) => [
    { name: `${shortName(s.workload)}, 1 process, 1 thread`, ratio: s.rate.oneProcess / s.rate.raw },
    {
      name: `${shortName(s.workload)}, 1 process, ${streamThreads} threads`,
      ratio: s.rate.threads / s.rate.raw,
    },
    { name: `${shortName(s.workload)}, 2 processes`, ratio: s.rate.twoProcesses / s.rate.raw },
  ]);
  const listed = (vs: typeof verdicts) => vs.map((v) => `${v.name} (${pct(v.ratio)})`).join(', ');
  const met = verdicts.filter((v) => v.ratio >= TARGET);
  const notMet = verdicts.filter((v) => v.ratio < TARGET);
  const oneThread = 1 / (1 / perMerchant.rate.raw + 1 / perMerchant.rate.inMemory);
  const cardFloor = perCard.cpu.passThrough.perEvent > budgetOf(perCard);
  return (
    'Analysis: the raw baseline only lets kafkajs decode record batches ' +
    `(${summaries.map((s) => (1e6 / s.rate.raw).toFixed(2)).join(' and ')} µs per event in this run). ` +
    'On one stream thread a worker decodes every fetch (kafkajs) on the event loop that runs its pipeline, ' +
    `so the costs add: per merchant the pipeline alone runs at ${pct(perMerchant.rate.inMemory / perMerchant.rate.raw)} ` +
    `of the raw rate (in memory), and 1 / (1 / raw + 1 / in memory) predicts ${evs(oneThread)} ev/s ` +
    `(${pct(oneThread / perMerchant.rate.raw)} of raw) before any produce, commit or extra garbage ` +
    `collection; measured ${pct(perMerchant.rate.oneProcess / perMerchant.rate.raw)}. ` +
    `With ${streamThreads} stream threads the process runs ${streamThreads} group members, each decoding ` +
    'and processing its own partitions, so it uses both cores as two worker processes do ' +
    `(${summaries.map((s) => pct(s.rate.threads / s.rate.twoProcesses)).join(' and ')} of the pair's rate). ` +
    'The threads are new V8 isolates, so they first process the same workload with earlier event times on ' +
    'the same topic; the timed events are held in an open transaction until they have and the group is ' +
    'stable. The two worker processes are timed the same way (each first runs the topology over the filled ' +
    'topic under a throwaway group). ' +
    `Per card (${perCard.workload.keys.toLocaleString('en-US')} keys) nearly every event makes its own window ` +
    'result, so the topology also produces about one record per event through kafkajs, whose produce path ' +
    'is far slower than its consume path: the consume -> produce pass-through, which does no processing, ' +
    `reaches ${pct(perCard.rate.passThrough / perCard.rate.raw)} of the raw rate, and one thread of the ` +
    `topology ${pct(perCard.rate.oneProcess / perCard.rate.passThrough)} of that peer. ` +
    'Machine CPU per event (every process on the machine, the broker included, over the timed run): ' +
    `${summaries.map((s) => cpuBound(s, streamThreads)).join('; ')}. ` +
    (cardFloor
      ? 'Per card, the bare pass-through alone needs more machine CPU per event than 0.7 of raw allows on ' +
        `these ${CORES} cores, so no topology that writes about one result per event can reach the target ` +
        'here, however its work is split; a machine with more cores (or the broker on its own host) lifts ' +
        'that bound. '
      : '') +
    (notMet.length === 0
      ? `The issue's ${TARGET}-of-raw-consume target is met in this run's medians: ${listed(met)}.`
      : met.length > 0
        ? `The issue's ${TARGET}-of-raw-consume target is met in this run's medians by ${listed(met)}, and not ` +
          `met by ${listed(notMet)}; the ratio in each round (in the notes) shows how far it moves between ` +
          'rounds.'
        : `The issue's ${TARGET}-of-raw-consume target is not met: ${listed(notMet)}.`)
  );
}

export function throughputReport(
  measured: readonly { workload: Workload; rates: WorkloadRates }[],
  streamThreads: number,
): { figures: Figure[]; analysis: string } {
  const summaries = measured.map((m) => summarize(m.workload, m.rates));
  return {
    figures: summaries.flatMap((s) => figuresOf(s, streamThreads)),
    analysis: analysis(summaries, streamThreads),
  };
}
