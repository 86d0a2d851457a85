/**
 * Enrich: joins each event with its entity's online features (one Redis round trip per group of records,
 * via readMany) and with features computed from the event itself. Every declared feature ends up with a
 * finite value: a missing one gets its declared default and is counted, and the record flows on.
 */
import pRetry from 'p-retry';
import type { Registry } from 'prom-client';
import type { Stage, StreamRecord } from '../../schemas/stream.js';
import { microBatchStage } from './micro-batch-stage.js';
import { missingFeatureCounter } from './enrich-metrics.js';

/** The part of connectors/redis's OnlineFeatureReader this stage needs. */
export interface OnlineFeatureSource {
  readMany(
    view: string,
    entities: readonly string[],
  ): Promise<({ readonly values: Readonly<Record<string, number>> } | null)[]>;
}

export interface FeatureSpec {
  readonly name: string;
  /** Used when the value is absent or not a finite number. */
  readonly default: number;
}

export interface EnrichOptions<T> {
  readonly reader: OnlineFeatureSource;
  /** Online feature view, e.g. 'card-features'. */
  readonly view: string;
  /** Features read from the online store. */
  readonly online: readonly FeatureSpec[];
  /** Features computed from the event (e.g. amount, hour of day); these win over online ones. */
  readonly event?: readonly FeatureSpec[];
  readonly fromEvent?: (value: T) => Readonly<Record<string, number | null | undefined>>;
  /** Entity to look up; defaults to the record key (set by keyBy). */
  readonly entity?: (record: StreamRecord<T>) => string | null;
  readonly maxBatch?: number;
  readonly maxDelayMs?: number;
  readonly metricsRegistry?: Registry;
  /** Logs a failed Redis read before it is retried. */
  readonly onRetry?: (err: Error, attempt: number) => void;
}

export interface Enriched<T> {
  readonly event: T;
  readonly entity: string;
  /** Every declared feature, with a finite value. */
  readonly features: Readonly<Record<string, number>>;
  /** Features that were filled with their default. */
  readonly defaulted: readonly string[];
}

export class EnrichConfigError extends Error {
  override readonly name = 'EnrichConfigError';
}

function checkSpecs(specs: readonly FeatureSpec[]): void {
  const seen = new Set<string>();
  for (const s of specs) {
    if (!s.name) throw new EnrichConfigError('every feature needs a name');
    if (seen.has(s.name)) throw new EnrichConfigError(`feature ${s.name} is declared twice`);
    if (!Number.isFinite(s.default)) {
      throw new EnrichConfigError(`feature ${s.name} needs a finite default (got ${s.default})`);
    }
    seen.add(s.name);
  }
}

/** The feature names an enrich configuration serves: what a model may ask for. */
export const servedFeatures = (o: Pick<EnrichOptions<unknown>, 'online' | 'event'>): string[] => [
  ...o.online.map((f) => f.name),
  ...(o.event ?? []).map((f) => f.name),
];

export function enrich<T>(options: EnrichOptions<T>): Stage<T, Enriched<T>> {
  checkSpecs([...options.online, ...(options.event ?? [])]);
  const missing = missingFeatureCounter(options.metricsRegistry);
  const entityOf = options.entity ?? ((r: StreamRecord<T>) => r.key);
  const readMany = (entities: string[]) =>
    pRetry(() => options.reader.readMany(options.view, entities), {
      // A Redis outage stalls the partition (and pauses it through backpressure) rather than scoring
      // every event with defaults, which would quietly serve wrong scores.
      retries: Number.POSITIVE_INFINITY,
      minTimeout: 100,
      maxTimeout: 5000,
      onFailedAttempt: ({ error, attemptNumber }) => options.onRetry?.(error, attemptNumber),
    });

  const eventValues = (value: T): Readonly<Record<string, number | null | undefined>> => {
    try {
      return options.fromEvent?.(value) ?? {};
    } catch {
      return {}; // a throwing extractor means missing features (defaults, counted), not a dead partition
    }
  };

  return microBatchStage<T, Enriched<T>>(
    () => async (records) => {
      const entities = records.map((r) => entityOf(r) ?? '');
      const wanted = [...new Set(entities.filter((e) => e !== ''))];
      const rows = wanted.length ? await readMany(wanted) : [];
      const byEntity = new Map(wanted.map((e, i) => [e, rows[i]?.values]));
      return records.map((record, i) => {
        const entity = entities[i]!;
        const online = byEntity.get(entity);
        const features: Record<string, number> = {};
        const defaulted: string[] = [];
        const fill = (spec: FeatureSpec, value: number | null | undefined) => {
          if (typeof value === 'number' && Number.isFinite(value)) {
            features[spec.name] = value;
          } else {
            features[spec.name] = spec.default;
            defaulted.push(spec.name);
            missing.inc({ view: options.view, feature: spec.name });
          }
        };
        for (const spec of options.online) fill(spec, online?.[spec.name]);
        if (options.event?.length) {
          const computed = eventValues(record.value);
          for (const spec of options.event) fill(spec, computed[spec.name]);
        }
        return { ...record, value: { event: record.value, entity, features, defaulted } };
      });
    },
    { maxBatch: options.maxBatch ?? 256, maxDelayMs: options.maxDelayMs ?? 2 },
  );
}
