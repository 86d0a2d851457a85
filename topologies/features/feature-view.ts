/**
 * Feature views as code. A view names an entity, its typed features, the topology and window that
 * compute them, a time to live, an owner and tags. Its version is a hash of the typed schema (entity,
 * feature names and types, window), so a type change is a new version — with its own offline table —
 * while metadata edits (owner, description, tags, ttl) keep the version.
 *
 *   export const cardTxn1m = featureView({
 *     name: 'card_txn_1m', entity: 'cardId',
 *     features: { txnCount: 'double', amountSum: 'double', amountMean: 'double' },
 *     source: { topology: 'card-features', topic: 'txn.events' },
 *     window: tumbling('1m'),
 *     aggregate: aggregate({ txnCount: count(), amountSum: sum(...), amountMean: mean(...) }),
 *     ttl: '2h', owner: 'risk-ml', description: '...', tags: ['pii'],
 *   });
 */
import { createHash } from 'node:crypto';
import {
  checkFeatureName,
  checkViewName,
  FEATURE_TYPES,
  FeatureViewError,
  type FeatureType,
  type FeatureViewSpec,
} from '../../connectors/feature-sinks/index.js';
import type { AnyAggregator } from '../../operators/aggregate/index.js';
import {
  parseDuration,
  parsePositiveDuration,
  type Duration,
  type WindowAssigner,
} from '../../operators/windows/index.js';

export { FeatureViewError, type FeatureType } from '../../connectors/feature-sinks/index.js';

/** What a feature of each type may hold (null = missing). */
type ValueOf<T extends FeatureType> = T extends 'boolean' ? number | boolean | null : number | null;
export type FeatureValues<F extends Record<string, FeatureType>> = { [K in keyof F]: ValueOf<F[K]> };

export interface FeatureViewDefinition<T, F extends Record<string, FeatureType>> {
  readonly name: string;
  /** The entity the view is keyed by, e.g. 'cardId' (the topology keys records by it). */
  readonly entity: string;
  readonly features: F;
  /** The topology that computes the view, and the topic it reads. */
  readonly source: { readonly topology: string; readonly topic: string };
  readonly window: WindowAssigner;
  /** Must produce exactly the declared features (checked when the view is defined). */
  readonly aggregate: AnyAggregator<T, FeatureValues<F>>;
  readonly grace?: Duration;
  readonly outOfOrderness?: Duration;
  readonly ttl: Duration;
  readonly owner: string;
  readonly description: string;
  readonly tags?: readonly string[];
}

/** The printable, comparable part of a view: what the registry stores. */
export interface FeatureViewDescriptor {
  readonly name: string;
  readonly version: string;
  readonly entity: string;
  readonly features: Readonly<Record<string, FeatureType>>;
  readonly source: { readonly topology: string; readonly topic: string };
  readonly window: string;
  readonly aggregate: string;
  readonly graceMs: number;
  readonly outOfOrdernessMs: number;
  readonly ttlMs: number;
  readonly owner: string;
  readonly description: string;
  readonly tags: readonly string[];
}

export interface FeatureView<T = unknown, F extends Record<string, FeatureType> = Record<string, FeatureType>>
  extends FeatureViewSpec, FeatureViewDescriptor {
  readonly features: F;
  readonly assigner: WindowAssigner;
  readonly aggregator: AnyAggregator<T, FeatureValues<F>>;
}

const TAG = /^[a-z][a-z0-9-]{0,30}$/;

/** The schema hash: entity, window and each feature's name and type (name order does not matter). */
export function schemaVersion(
  entity: string,
  window: string,
  features: Record<string, FeatureType>,
): {
  version: string;
  versionNumber: number;
} {
  const typed = Object.keys(features)
    .sort()
    .map((n) => `${n}:${features[n]}`)
    .join(',');
  const hex = createHash('sha256')
    .update(`entity=${entity};window=${window};features=${typed}`)
    .digest('hex');
  return { version: hex.slice(0, 8), versionNumber: parseInt(hex.slice(0, 8), 16) & 0x7fffffff };
}

export function featureView<T, F extends Record<string, FeatureType>>(
  def: FeatureViewDefinition<T, F>,
): FeatureView<T, F> {
  const name = checkViewName(def?.name);
  const fail = (message: string): never => {
    throw new FeatureViewError(`feature view ${name}: ${message}`);
  };
  if (typeof def.entity !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(def.entity)) {
    fail(`entity must name the key field, e.g. 'cardId'; got ${JSON.stringify(def.entity)}`);
  }
  const names = Object.keys(def.features ?? {});
  if (names.length === 0) fail("features must declare at least one feature, e.g. { txnCount: 'double' }");
  for (const n of names) {
    checkFeatureName(name, n);
    if (!FEATURE_TYPES.includes(def.features[n]!)) {
      fail(
        `feature ${n} has type ${JSON.stringify(def.features[n])}; use one of ${FEATURE_TYPES.join(', ')}`,
      );
    }
  }
  if (!def.window || typeof def.window.describe !== 'string') {
    fail('window must be tumbling(...), hopping(...), sliding(...) or session(...)');
  }
  if (!def.aggregate || typeof def.aggregate.result !== 'function') {
    fail('aggregate must be aggregate({ ... }) producing the declared features');
  }
  // The aggregate's result on an empty window has exactly its output fields: compare them to the schema.
  const produced = Object.keys(def.aggregate.result(def.aggregate.init()) as object).sort();
  const declared = [...names].sort();
  if (produced.join(',') !== declared.join(',')) {
    fail(
      `aggregate produces [${produced.join(', ')}] but features declare [${declared.join(', ')}]; make them match`,
    );
  }
  if (!def.source || !/^[a-z][a-z0-9-]{1,62}$/.test(def.source.topology ?? '') || !def.source.topic) {
    fail("source must be { topology: 'card-features', topic: 'txn.events' } (a topology name and its topic)");
  }
  const ttlMs = parsePositiveDuration(def.ttl, `feature view ${name} ttl`);
  const graceMs = parseDuration(def.grace ?? 0, `feature view ${name} grace`);
  const outOfOrdernessMs = parseDuration(def.outOfOrderness ?? 0, `feature view ${name} outOfOrderness`);
  if (typeof def.owner !== 'string' || def.owner.trim() === '') fail('owner must name a team or person');
  if (typeof def.description !== 'string' || def.description.trim() === '') {
    fail('description must say what the features mean');
  }
  const tags = [...(def.tags ?? [])];
  for (const t of tags)
    if (!TAG.test(t)) fail(`tag ${JSON.stringify(t)} must be lowercase letters, digits, dashes`);
  const { version, versionNumber } = schemaVersion(def.entity, def.window.describe, def.features);
  return Object.freeze({
    name,
    version,
    versionNumber,
    entity: def.entity,
    features: Object.freeze({ ...def.features }),
    source: Object.freeze({ ...def.source }),
    window: def.window.describe,
    aggregate: def.aggregate.describe,
    graceMs,
    outOfOrdernessMs,
    ttlMs,
    owner: def.owner,
    description: def.description,
    tags: Object.freeze(tags.sort()),
    assigner: def.window,
    aggregator: def.aggregate,
  });
}

/** The descriptor of a view (no functions): what is registered, listed and diffed. */
export function describeView(view: FeatureViewDescriptor): FeatureViewDescriptor {
  return {
    name: view.name,
    version: view.version,
    entity: view.entity,
    features: { ...view.features },
    source: { ...view.source },
    window: view.window,
    aggregate: view.aggregate,
    graceMs: view.graceMs,
    outOfOrdernessMs: view.outOfOrdernessMs,
    ttlMs: view.ttlMs,
    owner: view.owner,
    description: view.description,
    tags: [...view.tags],
  };
}
