/**
 * The scoring topology, as in the design's data flow:
 *
 *   decode -> key by entity -> enrich (online features) -> route + score (served + shadows)
 *          -> predictions topic + ClickHouse sluice.predictions
 *
 * plus what runs beside it in the worker: the model slots (one scorer per variant/shadow, shared by all
 * partitions), the lifecycle listener that hot-swaps them, the experiment watcher that switches to a new
 * experiment version without a restart, and the guard rails that roll back a misbehaving champion. openScoring() starts those and returns the topology for a TopologyWorker.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { ExperimentConfig } from '../../connectors/experiments/index.js';
import type { Prediction } from '../../connectors/experiments/prediction.js';
import { predictionsClickHouseSink } from '../../connectors/clickhouse-tables/predictions.js';
import { rootLogger } from '../../connectors/kafka/client.js';
import { kafkaSink } from '../../connectors/kafka/kafka-sink.js';
import { ensureTopics } from '../../connectors/kafka/topics.js';
import type { Sink } from '../../connectors/sink.js';
import type { RecordDecoder } from '../../operators/decode.js';
import { decode } from '../../operators/decode.js';
import type { EnrichOptions } from '../../operators/enrich/enrich.js';
import { enrich, servedFeatures } from '../../operators/enrich/enrich.js';
import { keyBy } from '../../operators/key-by.js';
import type { ScorerOptions } from '../../operators/score/micro-batch-scorer.js';
import {
  ModelSlots,
  type ModelSource,
  type SlotChange,
  type SlotRefusal,
} from '../../operators/score/model-slots.js';
import { score } from '../../operators/score/score-stage.js';
import { VariantMonitor } from '../../operators/score/variant-monitor.js';
import type { StreamRecord } from '../../schemas/stream.js';
import { kafkaSource, topology, type Topology } from '../builder.js';
import { alertsTopicFromEnv, alertsTopicSpec, kafkaAlertSink, type AlertSink } from './alerts.js';
import { jsonLineAudit, type AuditSink } from './audit.js';
import { ExperimentWatcher, type ExperimentSource } from './experiment-watcher.js';
import { GuardRails, type GuardAction, type GuardRailConfig } from './guard-rails.js';
import { startLifecycleListener, type LifecycleListener } from './lifecycle-listener.js';
import { MODEL_LIFECYCLE_TOPIC } from './lifecycle-publisher.js';
import { jsonPredictions, PREDICTIONS_TOPIC } from './prediction-serde.js';
import { ServingExperiment, type ExperimentSwitch } from './serving-experiment.js';

export interface ScoringOptions<T> {
  /** Topology (and consumer group) name; default 'scoring'. */
  readonly name?: string;
  readonly instanceId: string;
  readonly sourceTopic: string;
  readonly fromBeginning?: boolean;
  readonly decoder: RecordDecoder<T>;
  readonly eventTime?: (event: T) => number;
  /** Routing and feature key, e.g. the card id. */
  readonly entity: (event: T) => string | null | undefined;
  /** Event id stamped on predictions (labels join on it), e.g. the txnId. */
  readonly eventId: (event: T) => string;
  /** The version served at start. */
  readonly experiment: ExperimentConfig;
  /** Where newer versions of the experiment are saved (FileExperimentStore); omitted = never reloaded. */
  readonly experimentStore?: ExperimentSource;
  /** How often the store is polled for a newer version; default 5000 ms. */
  readonly experimentPollMs?: number;
  readonly registry: ModelSource & { rollback(name: string, reason?: string): Promise<{ version: string }> };
  readonly features: Pick<EnrichOptions<T>, 'reader' | 'view' | 'online' | 'event' | 'fromEvent'>;
  readonly predictionsTopic?: string;
  readonly serializePrediction?: (record: StreamRecord<Prediction>) => Buffer | Promise<Buffer>;
  /** Also write predictions to ClickHouse sluice.predictions (migrated on open). */
  readonly clickhouse?: ClickHouseClient;
  readonly scorer?: Omit<ScorerOptions, 'name' | 'availableFeatures'>;
  readonly scoreBatch?: number;
  /** Micro-batching waits (ms); see SCORING_MICRO_BATCH_DELAYS for the defaults and why. */
  readonly enrichDelayMs?: number;
  readonly scoreDelayMs?: number;
  readonly guards?: readonly GuardRailConfig[];
  readonly guardIntervalMs?: number;
  readonly guardCooldownMs?: number;
  readonly monitorWindowRows?: number;
  readonly audit?: AuditSink;
  readonly lifecycleTopic?: string;
  readonly alertsTopic?: string;
  readonly logger?: Logger;
  readonly onSwap?: (change: SlotChange) => void;
  readonly onRefused?: (refusal: SlotRefusal) => void;
  readonly onGuardAction?: (action: GuardAction) => void;
  readonly onExperimentSwitch?: (change: ExperimentSwitch) => void;
  readonly onExperimentRefused?: (version: number, err: Error) => void;
}

/**
 * Latency-first micro-batching: predictions are waited on, and every wait here adds to event -> prediction
 * latency. Records reach enrich and score in synchronous bursts (a fetched Kafka batch, then a group), so
 * a 0 ms wait (the next timer tick) already groups a whole burst into one Redis read and one scorer call.
 * The scorer keeps 1 ms to coalesce the groups of several partitions into one run.
 */
export const SCORING_MICRO_BATCH_DELAYS = { enrichMs: 0, scoreMs: 0, scorerMs: 1 } as const;

export interface Scoring {
  readonly topology: Topology;
  /** The slots of the experiment version served now (they change when a new version is switched to). */
  readonly slots: ModelSlots;
  /** The experiment version served now. */
  readonly experiment: ExperimentConfig;
  /** Switches to a newer version at once (the watcher does this on its own every poll interval). */
  reloadExperiment(): Promise<'unchanged' | 'switched' | 'refused'>;
  readonly monitor: VariantMonitor;
  readonly guardRails: GuardRails | undefined;
  /** Stops the listener and guard rails and closes the scorers; stop the TopologyWorker first. */
  stop(): Promise<void>;
}

export async function openScoring<T>(kafka: Kafka, o: ScoringOptions<T>): Promise<Scoring> {
  const logger = (o.logger ?? rootLogger).child({ component: 'scoring', experiment: o.experiment.name });
  const name = o.name ?? 'scoring';
  const alertsTopic = o.alertsTopic ?? alertsTopicFromEnv();
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [alertsTopicSpec(alertsTopic)]);
  } finally {
    await admin.disconnect();
  }
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const alerts: AlertSink = kafkaAlertSink(producer, alertsTopic);
  const alert = (title: string, message: string, model: string, version: string | null) =>
    alerts
      .send({
        dedupKey: `model-refused:${model}@${version}`,
        kind: 'MODEL_LIFECYCLE',
        severity: 'WARNING',
        title,
        message,
        model,
        modelVersion: version,
        labels: { topology: name, experiment: o.experiment.name },
      })
      .catch((err: unknown) => logger.error({ err }, 'could not produce alert'));

  let slots: ModelSlots | undefined;
  let serving: ServingExperiment | undefined;
  let listener: LifecycleListener | undefined;
  try {
    listener = await startLifecycleListener(kafka, {
      topic: o.lifecycleTopic ?? MODEL_LIFECYCLE_TOPIC,
      groupPrefix: `${name}-lifecycle-${o.instanceId}`,
      loadState: async () => {
        slots = await ModelSlots.open(o.experiment, o.registry, {
          scorer: { ...o.scorer, maxDelayMs: o.scorer?.maxDelayMs ?? SCORING_MICRO_BATCH_DELAYS.scorerMs },
          availableFeatures: servedFeatures(o.features),
          onSwap: (change) => {
            logger.info(change, 'model hot-swapped');
            o.onSwap?.(change);
          },
          onRefused: (refusal) => {
            logger.error(refusal, refusal.message);
            void alert(
              `Model ${refusal.model}@${refusal.version} refused`,
              refusal.message,
              refusal.model,
              refusal.version,
            );
            o.onRefused?.(refusal);
          },
        });
      },
      onEvent: async (event) => {
        // The slots of the version served now; a switch re-reads the registry itself afterwards.
        await (serving?.slots ?? slots)?.refresh(event.model);
      },
      onError: (err) => logger.error({ err }, 'lifecycle event handling failed'),
    });
  } catch (err) {
    await slots?.close();
    await producer.disconnect();
    throw err;
  }
  const opened = slots as unknown as ModelSlots;
  const active = (serving = new ServingExperiment(opened, name));
  const monitor = new VariantMonitor(o.monitorWindowRows ?? 2000);

  const sinks: Sink<Prediction>[] = [
    kafkaSink<Prediction>({
      topic: o.predictionsTopic ?? PREDICTIONS_TOPIC,
      serialize: o.serializePrediction ?? jsonPredictions,
    }),
  ];
  if (o.clickhouse) sinks.push(predictionsClickHouseSink(o.clickhouse));

  const t = topology(name, { description: `score ${o.sourceTopic} for experiment ${o.experiment.name}` })
    .from(kafkaSource(o.sourceTopic, { fromBeginning: o.fromBeginning ?? true }))
    .pipe(
      decode(o.decoder, o.eventTime ? { eventTime: o.eventTime } : {}),
      keyBy(o.entity),
      enrich<T>({
        ...o.features,
        maxDelayMs: o.enrichDelayMs ?? SCORING_MICRO_BATCH_DELAYS.enrichMs,
        onRetry: (err, attempt) =>
          logger.warn({ err: err.message, attempt }, 'online feature read failed; retrying'),
      }),
      score<T>({
        serving: active,
        eventId: o.eventId,
        monitor,
        maxBatch: o.scoreBatch,
        maxDelayMs: o.scoreDelayMs ?? SCORING_MICRO_BATCH_DELAYS.scoreMs,
        onShadowError: (slot, err) => logger.warn({ slot, err: err.message }, 'shadow scoring failed'),
      }),
    )
    .to(...sinks);

  /**
   * Guard rails for an experiment version; unnamed guards cover every served variant. At start a guard
   * naming a variant the experiment lacks is a configuration error (GuardRails says which); after a switch
   * such a guard is skipped with a warning, since the operator changed the experiment, not the guards.
   */
  const armGuardRails = (experiment: ExperimentConfig, afterSwitch: boolean): GuardRails | undefined => {
    const served = new Set(experiment.variants.map((v) => v.name));
    const guards = (o.guards ?? []).filter(
      (g) => !afterSwitch || g.variant === undefined || served.has(g.variant),
    );
    for (const g of o.guards ?? []) {
      if (afterSwitch && g.variant !== undefined && !served.has(g.variant)) {
        logger.warn(
          { variant: g.variant, version: experiment.version },
          'guard rail skipped: variant not served',
        );
      }
    }
    if (guards.length === 0) return undefined;
    const rails = new GuardRails({
      experiment,
      guards,
      monitor,
      // Always the slots of the version served now.
      slots: {
        slotRef: (slot) => active.slots.slotRef(slot),
        refresh: (model) => active.slots.refresh(model),
      },
      registry: o.registry,
      audit: o.audit ?? jsonLineAudit(),
      alerts,
      intervalMs: o.guardIntervalMs,
      cooldownMs: o.guardCooldownMs,
      onAction: (action) => {
        logger.error(action, 'guard rail acted');
        o.onGuardAction?.(action);
      },
      onError: (err) => logger.error({ err }, 'guard rail evaluation failed'),
    });
    rails.start();
    return rails;
  };
  let guardRails = armGuardRails(o.experiment, false);

  const watcher = o.experimentStore
    ? new ExperimentWatcher({
        store: o.experimentStore,
        target: active,
        intervalMs: o.experimentPollMs,
        onSwitched: (next, change) => {
          logger.info(change, `experiment switched to version ${next.version}`);
          // The new version may serve other variants: guard those (the old rails finish their round first).
          const retired = guardRails;
          guardRails = armGuardRails(next, true);
          void retired?.stop();
          o.onExperimentSwitch?.(change as ExperimentSwitch);
        },
        onRefused: (next, err, retry) => {
          const message =
            `experiment ${next.name} version ${next.version} refused; version ${active.experiment.version} ` +
            `keeps serving. ${err.message}. It is tried again in ${Math.round(retry.retryInMs / 1000)} s ` +
            '(backing off); fix what it needs, or save a corrected version.';
          logger.error({ err, version: next.version, attempt: retry.attempt }, message);
          // One alert per version; the retries that follow are in the log.
          if (retry.attempt > 1) return o.onExperimentRefused?.(next.version, err);
          void alerts
            .send({
              dedupKey: `experiment-refused:${next.name}@${next.version}`,
              kind: 'MODEL_LIFECYCLE',
              severity: 'WARNING',
              title: `Experiment ${next.name}@${next.version} refused`,
              message,
              model: null,
              modelVersion: null,
              labels: { topology: name, experiment: next.name, experimentVersion: String(next.version) },
            })
            .catch((e: unknown) => logger.error({ err: e }, 'could not produce alert'));
          o.onExperimentRefused?.(next.version, err);
        },
        onPollError: (err) => logger.warn({ err }, 'experiment poll failed; retrying next interval'),
      })
    : undefined;
  watcher?.start();

  return {
    topology: t,
    get slots() {
      return active.slots;
    },
    get experiment() {
      return active.experiment;
    },
    reloadExperiment: async () => (watcher ? watcher.poll() : 'unchanged'),
    monitor,
    get guardRails() {
      return guardRails;
    },
    async stop() {
      await watcher?.stop();
      await guardRails?.stop();
      await listener?.stop();
      await active.close();
      await producer.disconnect().catch(() => undefined);
    },
  };
}
