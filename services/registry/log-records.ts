/**
 * The records of the `_sluice_schemas` topic. Each key names one piece of state so log compaction keeps
 * exactly the latest value per key; a null value (tombstone) removes it. Pure encoding, no I/O.
 *
 * - ID      {id}                -> {id, schema}  an id allocation; never tombstoned, so ids are never reused
 * - SCHEMA  {subject, version}  -> {id, deleted} a subject version (deleted = soft-deleted); null = permanent
 * - CONFIG  {subject|null}      -> {compatibilityLevel}; null value = subject level removed
 */
import { COMPATIBILITY_LEVELS, type CompatibilityLevel } from './compatibility.js';

export type LogRecord =
  | { readonly kind: 'ID'; readonly id: number; readonly schema: string }
  | {
      readonly kind: 'SCHEMA';
      readonly subject: string;
      readonly version: number;
      /** null: permanently deleted (tombstone). */
      readonly value: { readonly id: number; readonly deleted: boolean } | null;
    }
  | {
      readonly kind: 'CONFIG';
      /** null: the global level. */
      readonly subject: string | null;
      readonly compatibilityLevel: CompatibilityLevel | null;
    };

export interface EncodedRecord {
  readonly key: string;
  readonly value: string | null;
}

export function encodeLogRecord(record: LogRecord): EncodedRecord {
  switch (record.kind) {
    case 'ID':
      return {
        key: JSON.stringify({ kind: 'ID', id: record.id }),
        value: JSON.stringify({ id: record.id, schema: record.schema }),
      };
    case 'SCHEMA':
      return {
        key: JSON.stringify({ kind: 'SCHEMA', subject: record.subject, version: record.version }),
        value: record.value && JSON.stringify(record.value),
      };
    case 'CONFIG':
      return {
        key: JSON.stringify({ kind: 'CONFIG', subject: record.subject }),
        value: record.compatibilityLevel && JSON.stringify({ compatibilityLevel: record.compatibilityLevel }),
      };
  }
}

const isPositiveInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

/** Returns null (the caller logs and skips it) for anything this version does not understand. */
export function decodeLogRecord(key: string | null, value: string | null): LogRecord | null {
  if (key === null) return null;
  let k: Record<string, unknown>;
  let v: Record<string, unknown> | null;
  try {
    k = JSON.parse(key) as Record<string, unknown>;
    v = value === null ? null : (JSON.parse(value) as Record<string, unknown>);
  } catch {
    return null;
  }
  if (k.kind === 'ID' && isPositiveInt(k.id) && v && typeof v.schema === 'string') {
    return { kind: 'ID', id: k.id, schema: v.schema };
  }
  if (k.kind === 'SCHEMA' && typeof k.subject === 'string' && isPositiveInt(k.version)) {
    if (v === null) return { kind: 'SCHEMA', subject: k.subject, version: k.version, value: null };
    if (isPositiveInt(v.id) && typeof v.deleted === 'boolean') {
      return {
        kind: 'SCHEMA',
        subject: k.subject,
        version: k.version,
        value: { id: v.id, deleted: v.deleted },
      };
    }
    return null;
  }
  if (k.kind === 'CONFIG' && (typeof k.subject === 'string' || k.subject === null)) {
    if (v === null) return { kind: 'CONFIG', subject: k.subject, compatibilityLevel: null };
    const level = v.compatibilityLevel as CompatibilityLevel;
    if (COMPATIBILITY_LEVELS.includes(level))
      return { kind: 'CONFIG', subject: k.subject, compatibilityLevel: level };
  }
  return null;
}
