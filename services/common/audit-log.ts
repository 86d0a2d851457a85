/**
 * An append-only audit log of deploys, promotions and rollbacks: one JSON object per line, chained by
 * hashes so an edited, inserted or deleted line is detectable.
 *
 * Each line is `{"seq":..,"ts":..,"actor":..,"action":..,"target":..,"details":..,"prev":..,"hash":..}`:
 * `hash` is sha256 of the line's own text up to (not including) `,"hash":...`, and `prev` is the `hash` of
 * the line before (64 zeros for the first). Hashing the exact text, not a re-serialisation, means the
 * check does not depend on JSON key order or number formatting. One process writes a given file.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';

export const GENESIS_HASH = '0'.repeat(64);
export const DEFAULT_AUDIT_LOG = path.join('.state', 'audit.log');

export interface AuditInput {
  /** The token name of whoever acted (never the token). */
  readonly actor: string;
  /** Dotted verb, e.g. `model.promote`, `topology.deploy`. */
  readonly action: string;
  /** What was acted on, e.g. `model:fraud@3`. */
  readonly target: string;
  readonly details?: Record<string, unknown>;
}

export interface AuditRecord extends AuditInput {
  readonly seq: number;
  readonly ts: string;
  readonly prev: string;
  readonly hash: string;
}

export type AuditVerification =
  | { readonly ok: true; readonly records: number; readonly lastHash: string }
  | { readonly ok: false; readonly records: number; readonly line: number; readonly reason: string };

const HASH_SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/;
const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export const auditLogPath = (env: NodeJS.ProcessEnv = process.env) =>
  path.resolve(env.SLUICE_AUDIT_LOG || DEFAULT_AUDIT_LOG);

/** Checks one line against the chain; returns the parsed record or the reason it is broken. */
function checkLine(line: string, expectedPrev: string, expectedSeq: number): AuditRecord | string {
  const suffix = HASH_SUFFIX.exec(line);
  if (!suffix) return 'line does not end with a "hash" field';
  const body = line.slice(0, suffix.index) + '}';
  if (sha256Hex(body) !== suffix[1]) return 'hash does not match the line content (line was edited)';
  let record: AuditRecord;
  try {
    record = JSON.parse(line) as AuditRecord;
  } catch {
    return 'line is not JSON';
  }
  if (record.prev !== expectedPrev)
    return 'prev does not match the previous line (a line was changed, added or removed)';
  if (record.seq !== expectedSeq) return `seq is ${record.seq}, expected ${expectedSeq}`;
  return record;
}

export async function verifyAuditLog(file: string): Promise<AuditVerification> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { ok: true, records: 0, lastHash: GENESIS_HASH };
    throw err;
  }
  if (text !== '' && !text.endsWith('\n')) {
    const records = text.split('\n').length - 1;
    return { ok: false, records, line: records + 1, reason: 'last line is incomplete (truncated write?)' };
  }
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  let prev = GENESIS_HASH;
  for (const [i, line] of lines.entries()) {
    const result = checkLine(line, prev, i + 1);
    if (typeof result === 'string') return { ok: false, records: i, line: i + 1, reason: result };
    prev = result.hash;
  }
  return { ok: true, records: lines.length, lastHash: prev };
}

export class AuditLogCorruptError extends Error {}

export class AuditLog {
  /** Appends are chained one after another: each needs the hash of the one before. */
  private tail: Promise<unknown>;
  private prev = GENESIS_HASH;
  private seq = 0;

  private constructor(
    readonly file: string,
    private readonly now: () => Date,
  ) {
    this.tail = Promise.resolve();
  }

  /** Opens (creating if needed) and verifies the existing chain, refusing to extend a tampered log. */
  static async open(file: string, options: { now?: () => Date } = {}): Promise<AuditLog> {
    await mkdir(path.dirname(file), { recursive: true });
    const check = await verifyAuditLog(file);
    if (!check.ok) {
      throw new AuditLogCorruptError(
        `audit log ${file} fails verification at line ${check.line}: ${check.reason}. Preserve it for ` +
          'investigation, move it aside, and start a new one (set SLUICE_AUDIT_LOG or remove the file)',
      );
    }
    const log = new AuditLog(file, options.now ?? (() => new Date()));
    log.prev = check.lastHash;
    log.seq = check.records;
    return log;
  }

  /** Appends one record and resolves once it is on disk (fdatasync). */
  record(input: AuditInput): Promise<AuditRecord> {
    const next = this.tail.then(() => this.append(input));
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async append(input: AuditInput): Promise<AuditRecord> {
    const seq = this.seq + 1;
    const fields = {
      seq,
      ts: this.now().toISOString(),
      actor: input.actor,
      action: input.action,
      target: input.target,
      details: input.details ?? {},
      prev: this.prev,
    };
    const body = JSON.stringify(fields);
    const hash = sha256Hex(body);
    const line = `${body.slice(0, -1)},"hash":"${hash}"}\n`;
    const handle = await open(this.file, 'a', 0o600);
    try {
      await handle.write(line);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    this.seq = seq;
    this.prev = hash;
    return { ...fields, hash };
  }
}
