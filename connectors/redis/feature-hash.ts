/**
 * Layout of one online feature row in Redis: a hash per (view, entity) at `<prefix>:<view>:{<entity>}`.
 * The entity is the Redis Cluster hash tag, so every view of one entity lives in one slot and a
 * multi-view read of an entity stays on one node. Fields are the feature values plus two reserved ones:
 * `__v` (the event-time version that guards writes) and `__ts` (wall-clock ms when that version was first
 * stored). Pure functions only; the Lua script and the readers use them.
 */

export const VERSION_FIELD = '__v';
export const WRITTEN_AT_FIELD = '__ts';
export const DEFAULT_KEY_PREFIX = 'sluice:fv';

/** One row to store: feature values for an entity of a view, as of event time `version` (epoch ms). */
export interface OnlineFeatureRow {
  readonly view: string;
  readonly entity: string;
  readonly version: number;
  /** null = missing value; the field is then absent from the hash and reads back as absent. */
  readonly values: Readonly<Record<string, number | null>>;
}

export interface StoredFeatures {
  readonly values: Record<string, number>;
  readonly version: number;
  readonly writtenAt: number;
}

export class FeatureRowError extends Error {
  override readonly name = 'FeatureRowError';
}

function checkKeyPart(what: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new FeatureRowError(`${what} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  // A brace before the entity's hash tag would become the tag and scatter one entity's views over slots.
  if (/[{}]/.test(value)) throw new FeatureRowError(`${what} "${value}" must not contain { or }`);
}

export function checkKeyPrefix(prefix: string): void {
  checkKeyPart('key prefix', prefix);
}

export function featureKey(prefix: string, view: string, entity: string): string {
  checkKeyPart('view', view);
  if (typeof entity !== 'string' || entity.length === 0) {
    throw new FeatureRowError(
      `entity of view "${view}" must be a non-empty string, got ${JSON.stringify(entity)}`,
    );
  }
  return `${prefix}:${view}:{${entity}}`;
}

/** Validates a row and flattens its values to field/value pairs for the Lua script. */
export function encodeFeatureValues(row: OnlineFeatureRow): string[] {
  const where = `view "${row.view}" entity "${row.entity}"`;
  if (!Number.isSafeInteger(row.version) || row.version < 0) {
    throw new FeatureRowError(`${where}: version must be an event time in epoch ms, got ${row.version}`);
  }
  if (row.values === null || typeof row.values !== 'object') {
    throw new FeatureRowError(`${where}: values must be an object of feature name -> number`);
  }
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(row.values)) {
    if (name.length === 0 || name.startsWith('__')) {
      throw new FeatureRowError(`${where}: feature name "${name}" is empty or uses the reserved "__" prefix`);
    }
    if (value === null) continue;
    if (typeof value !== 'number') {
      throw new FeatureRowError(`${where}: feature "${name}" must be a number or null, got ${typeof value}`);
    }
    // String(number) is the shortest text that parses back to the same double (NaN/Infinity included),
    // except for -0, which it prints as "0".
    pairs.push(name, Object.is(value, -0) ? '-0' : String(value));
  }
  return pairs;
}

/** Decodes an HGETALL reply; an empty reply (no such key) is null. */
export function decodeFeatureHash(hash: Readonly<Record<string, string>>): StoredFeatures | null {
  const version = hash[VERSION_FIELD];
  if (version === undefined) return null;
  const values: Record<string, number> = {};
  for (const [field, text] of Object.entries(hash)) {
    if (field === VERSION_FIELD || field === WRITTEN_AT_FIELD) continue;
    values[field] = Number(text);
  }
  return { values, version: Number(version), writtenAt: Number(hash[WRITTEN_AT_FIELD] ?? version) };
}
