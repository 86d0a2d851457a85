/**
 * Confluent compatibility levels, decided with avsc schema resolution (the Avro spec's rules, as Java's
 * SchemaCompatibility applies them). Pure: no I/O.
 *
 * - BACKWARD: the new schema can read data written with the previous one (consumers upgrade first).
 * - FORWARD: the previous schema can read data written with the new one (producers upgrade first).
 * - FULL: both. The *_TRANSITIVE variants check every earlier live version, not only the latest.
 */
import avro from 'avsc';
import { ErrorCode, RegistryError } from './errors.js';

export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD';

export function parseCompatibilityLevel(value: unknown): CompatibilityLevel {
  const upper = typeof value === 'string' ? value.toUpperCase() : value;
  if (COMPATIBILITY_LEVELS.includes(upper as CompatibilityLevel)) return upper as CompatibilityLevel;
  throw new RegistryError(
    ErrorCode.INVALID_COMPATIBILITY_LEVEL,
    `Invalid compatibility level ${JSON.stringify(value)}. Valid values are ${COMPATIBILITY_LEVELS.join(', ')}.`,
  );
}

export const isTransitive = (level: CompatibilityLevel): boolean => level.endsWith('_TRANSITIVE');

/**
 * Java's SchemaCompatibility compares unqualified names (plus reader aliases); so do we. A fresh object each
 * call: avsc keeps a per-call registry of resolvers on the options object.
 */
export const resolveOptions = () => ({ ignoreNamespaces: true });

/** Returns null when `reader` can read data written with `writer`, else the reason. */
export function canRead(reader: avro.Type, writer: avro.Type): string | null {
  try {
    reader.createResolver(writer, resolveOptions());
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export interface CompatibilityResult {
  readonly compatible: boolean;
  /** One line per failed check, naming the version and direction. */
  readonly messages: string[];
}

export interface ExistingVersion {
  readonly version: number;
  readonly type: avro.Type;
}

/**
 * Checks `candidate` against `existing` (live versions, oldest first) under `level`. Non-transitive
 * levels look only at the latest version; transitive ones at all of them.
 */
export function checkCompatibility(
  candidate: avro.Type,
  existing: readonly ExistingVersion[],
  level: CompatibilityLevel,
): CompatibilityResult {
  if (level === 'NONE' || existing.length === 0) return { compatible: true, messages: [] };
  const targets = isTransitive(level) ? existing : existing.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const messages: string[] = [];
  for (const target of targets) {
    if (backward) {
      const why = canRead(candidate, target.type);
      if (why) messages.push(`new schema cannot read data written with version ${target.version}: ${why}`);
    }
    if (forward) {
      const why = canRead(target.type, candidate);
      if (why)
        messages.push(`version ${target.version} cannot read data written with the new schema: ${why}`);
    }
  }
  return { compatible: messages.length === 0, messages };
}
