/** Where the registry makes its changes durable. Kafka in production; tests of the rules use memory. */
import type { LogRecord } from './log-records.js';

export interface SchemaLog {
  /** Every record currently in the log, oldest first (after compaction: the latest value per key). */
  readAll(): Promise<LogRecord[]>;
  /** Resolves only once every record is durably written (acks from all in-sync replicas). */
  append(records: readonly LogRecord[]): Promise<void>;
  close(): Promise<void>;
}

export class MemorySchemaLog implements SchemaLog {
  readonly records: LogRecord[] = [];
  async readAll(): Promise<LogRecord[]> {
    return [...this.records];
  }
  async append(records: readonly LogRecord[]): Promise<void> {
    this.records.push(...records);
  }
  async close(): Promise<void> {}
}
