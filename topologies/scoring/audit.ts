/**
 * Where the guard rails record what they did. services/common/audit-log's hash-chained AuditLog fits this
 * interface (services sit above topologies, so the entry point passes it in); the JSON-lines appender
 * below is the fallback when nothing is passed, writing to SLUICE_AUDIT_LOG (default .state/audit.log).
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';

export interface AuditEntry {
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly details?: Record<string, unknown>;
}

export interface AuditSink {
  record(entry: AuditEntry): Promise<unknown>;
}

export const auditLogFile = (env: NodeJS.ProcessEnv = process.env) =>
  path.resolve(env.SLUICE_AUDIT_LOG || path.join('.state', 'audit.log'));

export function jsonLineAudit(file = auditLogFile()): AuditSink {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    record(entry) {
      const line =
        JSON.stringify({ ts: new Date().toISOString(), ...entry, details: entry.details ?? {} }) + '\n';
      const next = tail.then(async () => {
        await mkdir(path.dirname(file), { recursive: true });
        await appendFile(file, line);
      });
      tail = next.catch(() => undefined);
      return next;
    },
  };
}
