/**
 * The trainer service: a Kafka consumer group on the retrain-requests topic. Per message: parse, retrain,
 * and only then commit the offset (at-least-once; retrainModel is idempotent by request id, so a
 * redelivered request is harmless).
 *
 * Failures, by kind:
 * - a request that can never succeed (bad JSON, invalid record, unknown model, too few rows, one class) goes
 *   to the dead-letter topic with the reason in headers, and the partition moves on;
 * - a transient failure (ClickHouse or Kafka unreachable, lifecycle event not published) is retried with
 *   backoff, without limit, until it succeeds or the service stops (the offset then stays uncommitted);
 * - anything else (a bug, a corrupt registry entry) is retried a few times, then dead-lettered, so one
 *   request can never block the requests queued behind it.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Consumer, EachMessagePayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { isTransientClickHouseError } from '../../../connectors/clickhouse/index.js';
import { rootLogger } from '../../../connectors/kafka/client.js';
import { watchConsumerHealth } from '../../../connectors/kafka/consumer-health.js';
import { writeDeadLetter } from '../../../connectors/kafka/dead-letter.js';
import { ensureTopics, partitionCount } from '../../../connectors/kafka/topics.js';
import { sharedMetric } from '../../../connectors/metrics.js';
import { MODEL_FILE } from '../../../connectors/model-registry/file-model-registry.js';
import type {
  LifecycleEventHandler,
  ModelLifecycleEvent,
} from '../../../connectors/model-registry/lifecycle-event.js';
import type { ModelMetadata } from '../../../connectors/model-registry/model-metadata.js';
import { InvalidModelMetadataError } from '../../../connectors/model-registry/model-metadata.js';
import { ModelRegistryError } from '../../../connectors/model-registry/registry-errors.js';
import type { AlertRecord, RetrainRequestRecord } from '../../../schemas/index.js';
import type { DeadLetterReason, RawRecord } from '../../../schemas/stream.js';
import { RETRAIN_REQUESTS_TOPIC } from '../../../topologies/drift/drift-topology.js';
import { alertsTopicFromEnv, alertsTopicSpec, publishAlert } from '../../../topologies/scoring/alerts.js';
import type { RetrainDeps, RetrainOptions, RetrainResult } from './retrain-model.js';
import { RetrainRefusedError, retrainModel } from './retrain-model.js';
import { parseRetrainRequest, RetrainRequestError } from './retrain-request.js';
import { refusedAlert, trainedAlert } from './retrain-alert.js';

export const TRAINER_GROUP = 'sluice-trainer';
export const TRAINER_NAME = 'sluice-trainer';
export const retrainDeadLetterTopic = (topic: string) => `${topic}.dlq`;

const outcomes = sharedMetric(
  'sluice_retrain_requests_total',
  () =>
    new Counter({
      name: 'sluice_retrain_requests_total',
      help: 'Retrain requests handled by the trainer, by outcome (trained, duplicate, dead_letter) and reason',
      labelNames: ['outcome', 'reason'],
    }),
);

export interface RetrainServiceOptions {
  readonly kafka: Kafka;
  readonly registry: RetrainDeps['registry'] & { readonly root: string };
  readonly clickhouse: RetrainDeps['clickhouse'];
  readonly topic?: string;
  readonly groupId?: string;
  readonly deadLetterTopic?: string;
  readonly retrain?: RetrainOptions;
  /**
   * Re-announces the version a redelivered request already produced. Harmless to listeners (they re-read
   * the registry), and it repairs a registration whose lifecycle event failed to publish before a crash.
   */
  readonly announce?: LifecycleEventHandler;
  readonly logger?: Logger;
  /** Backoff of transient retries (default 500 ms doubling to 30 s). */
  readonly retry?: { readonly minTimeoutMs?: number; readonly maxTimeoutMs?: number };
  /** Attempts before an unexpected (neither transient nor refused) failure is dead-lettered (default 3). */
  readonly maxUnexpectedAttempts?: number;
  /** Called after each handled message (tests, metrics). */
  readonly onHandled?: (handled: HandledRequest) => void;
  /** Where trained versions and refused requests raise RETRAIN alerts; default sluice.alerts; false: none. */
  readonly alertsTopic?: string | false;
}

export type HandledRequest =
  | { readonly kind: 'retrained'; readonly offset: string; readonly result: RetrainResult }
  | { readonly kind: 'dead_letter'; readonly offset: string; readonly reason: DeadLetterReason };

export interface RetrainService {
  /** Resolves after the consumer has left the group; an in-flight retrain finishes or is abandoned uncommitted. */
  stop(): Promise<void>;
  /** Liveness: neither stopped nor crashed past kafkajs' own restarts. */
  readonly isAlive: boolean;
  /** Readiness: alive and a member of its consumer group. */
  readonly isMember: boolean;
}

type Classified = 'refused' | 'transient' | 'unexpected';

export function classifyRetrainError(err: unknown): Classified {
  if (err instanceof RetrainRequestError || err instanceof RetrainRefusedError) return 'refused';
  if (err instanceof InvalidModelMetadataError) return 'refused';
  if (err instanceof ModelRegistryError) {
    // VERSION_EXISTS: another writer took the number first; a retry picks the next one.
    return err.code === 'LIFECYCLE_EVENT_FAILED' || err.code === 'VERSION_EXISTS' ? 'transient' : 'refused';
  }
  if (isTransientClickHouseError(err)) return 'transient';
  if (err instanceof Error && err.name.startsWith('KafkaJS')) return 'transient';
  return 'unexpected';
}

function reasonOf(err: unknown): DeadLetterReason {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' && /^[A-Z_]+$/.test(e.code) ? e.code : 'RETRAIN_FAILED';
  return { code, message: err instanceof Error ? err.message : String(err) };
}

function rawRecord(topic: string, partition: number, message: KafkaMessage): RawRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) {
    if (v !== undefined) headers[k] = Array.isArray(v) ? String(v[0] ?? '') : String(v);
  }
  return {
    key: message.key ?? null,
    value: message.value ?? null,
    headers,
    source: { topic, partition, offset: message.offset, timestamp: Number(message.timestamp) },
  };
}

/** The 'registered' event FileModelRegistry emits, rebuilt from stored metadata for re-announcing. */
export function registeredEvent(root: string, m: ModelMetadata): ModelLifecycleEvent {
  return {
    eventId: randomUUID(),
    type: 'registered',
    name: m.name,
    version: m.version,
    from: null,
    to: m.stage,
    reason: `re-announced: ${m.stageHistory.at(-1)?.reason ?? 'registered'}`,
    at: new Date().toISOString(),
    sha256: m.sha256,
    artifactUri: path.join(path.resolve(root), m.name, m.version, MODEL_FILE),
    features: m.features,
    trainingMetrics: m.trainingMetrics,
  };
}

export async function startRetrainService(options: RetrainServiceOptions): Promise<RetrainService> {
  const topic = options.topic ?? RETRAIN_REQUESTS_TOPIC;
  const dlqTopic = options.deadLetterTopic ?? retrainDeadLetterTopic(topic);
  const groupId = options.groupId ?? TRAINER_GROUP;
  const log = (options.logger ?? rootLogger).child({ component: 'trainer', topic, groupId });
  const maxUnexpected = options.maxUnexpectedAttempts ?? 3;
  const abort = new AbortController();

  const alertsTopic =
    options.alertsTopic === false ? undefined : (options.alertsTopic ?? alertsTopicFromEnv());
  await ensureRetrainTopics(options.kafka, topic, dlqTopic, alertsTopic);
  const producer: Producer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer: Consumer = options.kafka.consumer({
    groupId,
    // Training runs on a worker thread and `handle` heartbeats meanwhile (kafkajs heartbeats only between
    // messages unless asked); the long session is a margin for a stalled ClickHouse read.
    sessionTimeout: 60_000,
    rebalanceTimeout: 120_000,
    heartbeatInterval: 3000,
    maxWaitTimeInMs: 500,
  });

  /** Retries `work` per the failure kinds above; throws AbortError once the service stops. */
  const withRetry = <T>(what: string, work: () => Promise<T>, heartbeat: () => Promise<void>) =>
    pRetry(work, {
      retries: Number.POSITIVE_INFINITY,
      minTimeout: options.retry?.minTimeoutMs ?? 500,
      maxTimeout: options.retry?.maxTimeoutMs ?? 30_000,
      factor: 2,
      signal: abort.signal,
      shouldRetry: ({ error, attemptNumber }) => {
        const kind = classifyRetrainError(error);
        return kind === 'transient' || (kind === 'unexpected' && attemptNumber < maxUnexpected);
      },
      onFailedAttempt: async ({ error, attemptNumber }) => {
        log.warn({ err: error, attempt: attemptNumber, kind: classifyRetrainError(error) }, `${what} failed`);
        await heartbeat().catch(() => undefined);
      },
    });

  const deadLetter = async (raw: RawRecord, reason: DeadLetterReason, heartbeat: () => Promise<void>) => {
    await withRetry(
      'dead-letter write',
      () => writeDeadLetter(producer, dlqTopic, TRAINER_NAME, raw, reason, { partition: 'by-key' }),
      heartbeat,
    );
    outcomes.inc({ outcome: 'dead_letter', reason: reason.code });
    log.warn(
      { offset: raw.source.offset, partition: raw.source.partition, reason },
      'retrain request dead-lettered',
    );
  };

  // Before the offset commit, like the dead letter: a crash in between resends the same alert id.
  const raiseAlert = async (alert: AlertRecord, heartbeat: () => Promise<void>) => {
    if (alertsTopic === undefined) return;
    await withRetry(`alert ${alert.alertId}`, () => publishAlert(producer, alert, alertsTopic), heartbeat);
  };

  const handle = async ({ partition, message, heartbeat, pause }: EachMessagePayload) => {
    if (abort.signal.aborted) {
      pause(); // not handled: stays uncommitted and is redelivered to the next member
      return;
    }
    const raw = rawRecord(topic, partition, message);
    const at = { partition, offset: message.offset };
    let handled: HandledRequest;
    // Known once parsed: a refused request's alert names it.
    let parsed: RetrainRequestRecord | undefined;
    let alert: AlertRecord;
    try {
      const request = parseRetrainRequest(message.value); // a RetrainRequestError is dead-lettered below
      parsed = request;
      const rlog = log.child({ ...at, requestId: request.requestId, model: request.model });
      rlog.info({ trigger: request.trigger, basedOn: request.modelVersion }, 'retrain request received');
      const result = await withRetry(
        `retrain ${request.requestId}`,
        async () => {
          const r = await whileHeartbeating(heartbeat, () => retrainModel(options, request, options.retrain));
          if (r.outcome === 'duplicate' && options.announce) {
            await options.announce(registeredEvent(options.registry.root, r.metadata));
          }
          return r;
        },
        heartbeat,
      );
      outcomes.inc({ outcome: result.outcome, reason: '' });
      if (result.outcome === 'trained') {
        rlog.info(
          { version: result.version, basedOn: result.basedOn, metrics: result.metadata.trainingMetrics },
          'retrained model registered as shadow',
        );
      } else {
        rlog.info({ version: result.version }, 'request already answered; no new version');
      }
      const basedOn =
        result.outcome === 'trained' ? result.basedOn : (result.metadata.trainedFor?.basedOn ?? '?');
      alert = trainedAlert(request.requestId, result.metadata, basedOn);
      handled = { kind: 'retrained', offset: message.offset, result };
    } catch (err) {
      if (abort.signal.aborted) {
        pause();
        log.info(at, 'stopping: request left uncommitted for redelivery');
        return;
      }
      const reason = reasonOf(err);
      await deadLetter(raw, reason, heartbeat);
      alert = refusedAlert(parsed?.requestId ?? null, parsed?.model ?? null, reason, raw.source, dlqTopic);
      handled = { kind: 'dead_letter', offset: message.offset, reason };
    }
    // Outside the try: an alert that cannot be sent must not turn a trained request into a dead letter.
    // If it throws, the request stays uncommitted and its redelivery raises the same alert id again.
    await raiseAlert(alert, heartbeat);
    // Only now is the request done (a version registered, or its dead letter acknowledged).
    await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
    options.onHandled?.(handled);
  };

  const health = watchConsumerHealth(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ autoCommit: false, partitionsConsumedConcurrently: 1, eachMessage: handle });
  log.info({ deadLetterTopic: dlqTopic }, 'trainer consuming retrain requests');

  let stopped: Promise<void> | undefined;
  return {
    get isAlive() {
      return !health.crashedForGood && !abort.signal.aborted;
    },
    get isMember() {
      return health.joined && !health.crashedForGood && !abort.signal.aborted;
    },
    stop() {
      stopped ??= (async () => {
        abort.abort();
        await consumer.disconnect().catch((err: unknown) => log.warn({ err }, 'consumer disconnect failed'));
        await producer.disconnect().catch((err: unknown) => log.warn({ err }, 'producer disconnect failed'));
        log.info('trainer stopped');
      })();
      return stopped;
    },
  };
}

/**
 * Dead letters are partitioned by key, not pinned to their source partition, so requests added to a grown
 * topic can always be dead-lettered; the DLQ starts with as many partitions only to spread them alike.
 */
async function ensureRetrainTopics(
  kafka: Kafka,
  topic: string,
  dlqTopic: string,
  alertsTopic: string | undefined,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
    const partitions = (await partitionCount(admin, topic)) ?? 1;
    await ensureTopics(admin, [{ topic: dlqTopic, numPartitions: partitions }]);
    if (alertsTopic) await ensureTopics(admin, [alertsTopicSpec(alertsTopic)]);
  } finally {
    await admin.disconnect();
  }
}

/** Keeps the group membership alive while `work` runs: kafkajs heartbeats between messages only. */
async function whileHeartbeating<T>(heartbeat: () => Promise<void>, work: () => Promise<T>): Promise<T> {
  // A failed heartbeat (e.g. a rebalance started) is not this request's failure: the commit that follows
  // tells, and an uncommitted request is redelivered and recognised as already answered.
  const timer = setInterval(() => void heartbeat().catch(() => undefined), 1000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
