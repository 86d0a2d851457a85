/**
 * Ties the pure store to its durable log: reads see the in-memory store; writes are planned against it,
 * made durable in the log, and only then applied and acknowledged. Writes run one at a time, so ids and
 * version numbers are allocated without races (this process is the single writer of its topic).
 */
import type { Logger } from 'pino';
import { ErrorCode, RegistryError } from './errors.js';
import type { SchemaLog } from './schema-log.js';
import { RegistryStore, type Plan } from './store.js';

export class RegistryService {
  private current = new RegistryStore();
  private readyFlag = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly log: SchemaLog,
    private readonly logger: Logger,
  ) {}

  get store(): RegistryStore {
    return this.current;
  }

  /** True once the whole log has been read, i.e. the store reflects every acknowledged change. */
  get ready(): boolean {
    return this.readyFlag;
  }

  async start(): Promise<void> {
    await this.rebuild();
    this.readyFlag = true;
  }

  /** Plans against the current state, makes the records durable, then applies them. Serialised. */
  write<R>(plan: (store: RegistryStore) => Plan<R>): Promise<R> {
    const run = this.queue.then(() => this.writeNow(plan));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.readyFlag = false;
    await this.queue;
    await this.log.close();
  }

  private async writeNow<R>(plan: (store: RegistryStore) => Plan<R>): Promise<R> {
    if (!this.readyFlag) throw notReady();
    const { records, result } = plan(this.current);
    if (records.length === 0) return result;
    try {
      await this.log.append(records);
    } catch (err) {
      // The write may or may not have landed (e.g. a timeout after the broker stored it); re-read the log so
      // memory matches what is durable, rather than guessing.
      this.logger.error({ err }, 'schema log write failed; re-reading the log');
      this.readyFlag = false;
      void this.rebuild()
        .then(() => (this.readyFlag = true))
        .catch((rebuildErr: unknown) => this.logger.error({ err: rebuildErr }, 'schema log re-read failed'));
      throw new RegistryError(
        ErrorCode.STORE_ERROR,
        `Error while writing to the schema log: ${(err as Error).message}`,
      );
    }
    this.current.applyAll(records);
    return result;
  }

  private async rebuild(): Promise<void> {
    const fresh = new RegistryStore();
    const records = await this.log.readAll();
    for (const record of records) {
      try {
        fresh.apply(record);
      } catch (err) {
        this.logger.warn({ err, record }, 'skipping a schema log record that does not apply');
      }
    }
    this.current = fresh;
    this.logger.info(
      { records: records.length, subjects: fresh.listSubjects().length },
      'schema registry state loaded',
    );
  }
}

export const notReady = () =>
  new RegistryError(ErrorCode.NOT_READY, 'The schema registry is still loading its state; retry shortly.');
