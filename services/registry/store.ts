/**
 * The registry's state and rules, kept pure: every change is planned as log records, and state changes
 * only by applying log records (`apply`), the same way on the live path and on replay at start-up. So what
 * a restarted registry rebuilds from the topic is, by construction, what the previous one served.
 */
import type avro from 'avsc';
import { parseAvroSchema, type ParsedSchema } from './avro-schema.js';
import {
  checkCompatibility,
  DEFAULT_COMPATIBILITY,
  type CompatibilityLevel,
  type CompatibilityResult,
} from './compatibility.js';
import { ErrorCode, RegistryError, schemaNotFound, subjectNotFound, versionNotFound } from './errors.js';
import type { LogRecord } from './log-records.js';

export interface SubjectVersion {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly schema: string;
  readonly deleted: boolean;
}

/** A version selector from a URL: a number or 'latest'. */
export type VersionRef = number | 'latest';

export interface Plan<R> {
  /** Records to make durable (in order) before `result` may be returned; empty when nothing changes. */
  readonly records: LogRecord[];
  readonly result: R;
}

const MAX_VERSION = 2 ** 31 - 1;

export function parseVersionRef(raw: string): VersionRef {
  if (raw === 'latest' || raw === '-1') return 'latest';
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1 || n > MAX_VERSION) {
    throw new RegistryError(
      ErrorCode.INVALID_VERSION,
      `The specified version '${raw}' is not a valid version id. Allowed values are between [1, ${MAX_VERSION}] and the string "latest"`,
    );
  }
  return n;
}

export class RegistryStore {
  private readonly schemaById = new Map<number, { text: string; identity: string }>();
  private readonly idByIdentity = new Map<string, number>();
  private readonly typeById = new Map<number, avro.Type>();
  /** subject -> version -> {id, deleted} */
  private readonly subjects = new Map<string, Map<number, { id: number; deleted: boolean }>>();
  private readonly subjectLevels = new Map<string, CompatibilityLevel>();
  private globalLevel: CompatibilityLevel | null = null;
  private maxId = 0;

  // ---- applying the log -------------------------------------------------------------------------------

  apply(record: LogRecord): void {
    switch (record.kind) {
      case 'ID': {
        const parsed = parseAvroSchema(record.schema);
        this.schemaById.set(record.id, { text: parsed.text, identity: parsed.identity });
        this.idByIdentity.set(parsed.identity, record.id);
        this.typeById.set(record.id, parsed.type);
        this.maxId = Math.max(this.maxId, record.id);
        return;
      }
      case 'SCHEMA': {
        let versions = this.subjects.get(record.subject);
        if (record.value === null) {
          versions?.delete(record.version);
          if (versions?.size === 0) this.subjects.delete(record.subject);
          return;
        }
        if (!versions) this.subjects.set(record.subject, (versions = new Map()));
        versions.set(record.version, { ...record.value });
        return;
      }
      case 'CONFIG':
        if (record.subject === null) this.globalLevel = record.compatibilityLevel;
        else if (record.compatibilityLevel === null) this.subjectLevels.delete(record.subject);
        else this.subjectLevels.set(record.subject, record.compatibilityLevel);
        return;
    }
  }

  applyAll(records: readonly LogRecord[]): void {
    for (const r of records) this.apply(r);
  }

  // ---- queries ----------------------------------------------------------------------------------------

  listSubjects(includeDeleted = false): string[] {
    return [...this.subjects.entries()]
      .filter(([, versions]) => includeDeleted || [...versions.values()].some((v) => !v.deleted))
      .map(([subject]) => subject)
      .sort();
  }

  /** Versions of a subject, ascending; throws 40401 when it has none visible. */
  listVersions(subject: string, includeDeleted = false): number[] {
    const versions = [...(this.subjects.get(subject)?.entries() ?? [])]
      .filter(([, v]) => includeDeleted || !v.deleted)
      .map(([version]) => version)
      .sort((a, b) => a - b);
    if (versions.length === 0) throw subjectNotFound(subject);
    return versions;
  }

  getVersion(subject: string, ref: VersionRef, includeDeleted = false): SubjectVersion {
    const visible = this.listVersions(subject, includeDeleted);
    const version = ref === 'latest' ? visible[visible.length - 1]! : ref;
    if (!visible.includes(version)) throw versionNotFound(subject, version);
    return this.describe(subject, version);
  }

  /** The schema text for a global id, while any subject version (live or soft-deleted) still uses it. */
  getSchemaById(id: number): string {
    const schema = this.schemaById.get(id);
    if (!schema || this.versionsUsingId(id, true).length === 0)
      throw schemaNotFound(`Schema ${id} not found`);
    return schema.text;
  }

  versionsUsingId(id: number, includeDeleted = false): { subject: string; version: number }[] {
    const found: { subject: string; version: number }[] = [];
    for (const [subject, versions] of [...this.subjects.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      for (const [version, v] of [...versions.entries()].sort(([a], [b]) => a - b)) {
        if (v.id === id && (includeDeleted || !v.deleted)) found.push({ subject, version });
      }
    }
    return found;
  }

  /** POST /subjects/:s: the version of `subject` holding this schema (40401 no subject, 40403 not in it). */
  lookup(subject: string, parsed: ParsedSchema, includeDeleted = false): SubjectVersion {
    const versions = this.listVersions(subject, includeDeleted);
    const id = this.idByIdentity.get(parsed.identity);
    const match =
      id === undefined ? undefined : versions.find((v) => this.subjects.get(subject)!.get(v)!.id === id);
    if (match === undefined) throw schemaNotFound(`Schema not found in subject '${subject}'`);
    return this.describe(subject, match);
  }

  subjectLevel(subject: string): CompatibilityLevel | null {
    return this.subjectLevels.get(subject) ?? null;
  }

  get globalCompatibility(): CompatibilityLevel {
    return this.globalLevel ?? DEFAULT_COMPATIBILITY;
  }

  effectiveLevel(subject: string): CompatibilityLevel {
    return this.subjectLevel(subject) ?? this.globalCompatibility;
  }

  /** Compatibility of a candidate against one version, or (ref undefined) against what the level covers. */
  testCompatibility(subject: string, parsed: ParsedSchema, ref?: VersionRef): CompatibilityResult {
    const level = this.effectiveLevel(subject);
    if (ref === undefined) return checkCompatibility(parsed.type, this.liveTypes(subject), level);
    const target = this.getVersion(subject, ref);
    const oneLevel = level.replace('_TRANSITIVE', '') as CompatibilityLevel;
    return checkCompatibility(
      parsed.type,
      [{ version: target.version, type: this.typeOf(target.id) }],
      oneLevel,
    );
  }

  // ---- planning changes -------------------------------------------------------------------------------

  /** Register: the existing id if this subject already has the schema live, else a new version. */
  planRegister(subject: string, parsed: ParsedSchema): Plan<{ id: number; version: number }> {
    const versions = this.subjects.get(subject);
    const existingId = this.idByIdentity.get(parsed.identity);
    if (versions && existingId !== undefined) {
      for (const [version, v] of versions) {
        if (!v.deleted && v.id === existingId) return { records: [], result: { id: existingId, version } };
      }
    }
    const level = this.effectiveLevel(subject);
    const check = checkCompatibility(parsed.type, this.liveTypes(subject), level);
    if (!check.compatible) {
      throw new RegistryError(
        ErrorCode.INCOMPATIBLE_SCHEMA,
        `Schema being registered is incompatible with an earlier schema for subject "${subject}" ` +
          `(compatibility level ${level}), details: [${check.messages.join('; ')}]`,
      );
    }
    const records: LogRecord[] = [];
    let id = existingId;
    if (id === undefined) {
      id = this.maxId + 1;
      records.push({ kind: 'ID', id, schema: parsed.text });
    }
    const version = Math.max(0, ...(versions?.keys() ?? [])) + 1;
    records.push({ kind: 'SCHEMA', subject, version, value: { id, deleted: false } });
    return { records, result: { id, version } };
  }

  /** DELETE /subjects/:s. Soft first; permanent only after soft (as Confluent). Returns the versions. */
  planDeleteSubject(subject: string, permanent: boolean): Plan<number[]> {
    const versions = this.subjects.get(subject);
    if (!versions || versions.size === 0) throw subjectNotFound(subject);
    const all = [...versions.keys()].sort((a, b) => a - b);
    const live = all.filter((v) => !versions.get(v)!.deleted);
    if (permanent) {
      if (live.length > 0) {
        throw new RegistryError(
          ErrorCode.SUBJECT_NOT_SOFT_DELETED,
          `Subject '${subject}' was not deleted first before being permanently deleted`,
        );
      }
      return {
        records: all.map((version) => ({ kind: 'SCHEMA', subject, version, value: null })),
        result: all,
      };
    }
    if (live.length === 0) {
      throw new RegistryError(
        ErrorCode.SUBJECT_SOFT_DELETED,
        `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`,
      );
    }
    return {
      records: live.map((version) => ({
        kind: 'SCHEMA',
        subject,
        version,
        value: { id: versions.get(version)!.id, deleted: true },
      })),
      result: live,
    };
  }

  /** DELETE /subjects/:s/versions/:v, with the same soft-then-permanent rule. */
  planDeleteVersion(subject: string, ref: VersionRef, permanent: boolean): Plan<number> {
    const target = this.getVersion(subject, ref, permanent);
    if (permanent && !target.deleted) {
      throw new RegistryError(
        ErrorCode.SUBJECT_NOT_SOFT_DELETED,
        `Subject '${subject}' Version ${target.version} was not deleted first before being permanently deleted`,
      );
    }
    const value = permanent ? null : { id: target.id, deleted: true };
    return { records: [{ kind: 'SCHEMA', subject, version: target.version, value }], result: target.version };
  }

  planSetLevel(subject: string | null, level: CompatibilityLevel): Plan<CompatibilityLevel> {
    return { records: [{ kind: 'CONFIG', subject, compatibilityLevel: level }], result: level };
  }

  planDeleteSubjectLevel(subject: string): Plan<CompatibilityLevel> {
    const current = this.subjectLevel(subject);
    if (current === null) throw noSubjectLevel(subject);
    return { records: [{ kind: 'CONFIG', subject, compatibilityLevel: null }], result: current };
  }

  // ---- internals --------------------------------------------------------------------------------------

  private describe(subject: string, version: number): SubjectVersion {
    const v = this.subjects.get(subject)!.get(version)!;
    return { subject, version, id: v.id, schema: this.schemaById.get(v.id)!.text, deleted: v.deleted };
  }

  private typeOf(id: number): avro.Type {
    return this.typeById.get(id)!;
  }

  private liveTypes(subject: string): { version: number; type: avro.Type }[] {
    const versions = this.subjects.get(subject);
    if (!versions) return [];
    return [...versions.entries()]
      .filter(([, v]) => !v.deleted)
      .sort(([a], [b]) => a - b)
      .map(([version, v]) => ({ version, type: this.typeOf(v.id) }));
  }
}

export const noSubjectLevel = (subject: string) =>
  new RegistryError(
    ErrorCode.SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED,
    `Subject '${subject}' does not have subject-level compatibility configured`,
  );
