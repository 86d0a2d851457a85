/**
 * Commits state and source offsets together in one Kafka transaction (Kafka Streams' model): either the
 * changelog records and the offsets are both visible, or neither is. A restored worker therefore resumes
 * from exactly the offset its state reflects, so a crash never counts an event twice.
 */
import type { Kafka, Producer } from 'kafkajs';
import pRetry from 'p-retry';
import { chunksBySize } from './chunks.js';

export interface PartitionCommit {
  readonly partition: number;
  /** The next source offset to consume. */
  readonly nextOffset: string;
  readonly changelog: readonly { key: string; value: string | null }[];
}

export interface TransactionalCommitterOptions {
  readonly transactionalId: string;
  readonly groupId: string;
  readonly sourceTopic: string;
  readonly changelogTopic: string;
  /** A killed worker's open transaction blocks readers until this passes; keep it short. */
  readonly transactionTimeoutMs?: number;
}

export class TransactionalCommitter {
  private readonly producer: Producer;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    kafka: Kafka,
    private readonly options: TransactionalCommitterOptions,
  ) {
    this.producer = kafka.producer({
      transactionalId: options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: options.transactionTimeoutMs ?? 10_000,
      // The first request of a transaction that follows a commit often meets CONCURRENT_TRANSACTIONS while
      // the coordinator writes the markers; the client-wide backoff (hundreds of ms) would throttle every
      // checkpoint, so this producer retries quickly, as the Java client does.
      retry: { initialRetryTime: 5, maxRetryTime: 200, retries: 30, factor: 0.2, multiplier: 1.5 },
    });
  }

  /**
   * Connecting initializes the transactional id, which fences every other producer that used it: the
   * broker aborts its open transaction, and its later sends and commits fail as fenced.
   */
  async connect(): Promise<void> {
    await this.producer.connect();
    // kafkajs' connect() does not initialize the transactional id (its first transaction() does), so a
    // producer that has not committed yet would fence nobody. An empty transaction forces the
    // InitProducerId now; aborting it sends nothing (no partition was added).
    const tx = await this.producer.transaction();
    await tx.abort();
  }

  /** Lets the commit in flight (if any) finish, then disconnects. */
  async close(): Promise<void> {
    await this.chain;
    await this.producer.disconnect();
  }

  /** Commits are serialized: a producer has one open transaction at a time. */
  commit(commits: readonly PartitionCommit[]): Promise<void> {
    // CONCURRENT_TRANSACTIONS right after a commit is normal (the coordinator is still writing markers);
    // kafkajs marks it retriable but does not retry it inside sendOffsets.
    const run = this.chain.then(() =>
      pRetry(() => this.commitNow(commits), {
        retries: 20,
        minTimeout: 20,
        maxTimeout: 1000,
        shouldRetry: ({ error }) => (error as { retriable?: boolean }).retriable === true,
      }),
    );
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async commitNow(commits: readonly PartitionCommit[]): Promise<void> {
    if (commits.length === 0) return;
    const tx = await this.producer.transaction();
    try {
      const messages = commits.flatMap((c) =>
        c.changelog.map((e) => ({ partition: c.partition, key: e.key, value: e.value })),
      );
      // The broker refuses a record batch above message.max.bytes (1 MiB by default), and kafkajs makes one
      // batch per partition per send: large checkpoints go out in several sends of the same transaction.
      for (const chunk of chunksBySize(messages, 512 * 1024)) {
        await tx.send({ topic: this.options.changelogTopic, acks: -1, messages: chunk });
      }
      await tx.sendOffsets({
        consumerGroupId: this.options.groupId,
        topics: [
          {
            topic: this.options.sourceTopic,
            partitions: commits.map((c) => ({ partition: c.partition, offset: c.nextOffset })),
          },
        ],
      });
      await tx.commit();
    } catch (err) {
      await tx.abort().catch(() => undefined);
      throw err;
    }
  }
}
