/**
 * The drift topologies, as in the design's data flow:
 *
 *   <name>-samples:  predictions -> decode -> bin on the model's reference profile -> key model@version
 *                    -> <name>.samples (internal topic, keyed by model@version)
 *   <name>:          <name>.samples -> tumbling event-time windows of bin counts per model@version
 *                    -> PSI + missing rate per feature (and the score) -> drift-metrics topic
 *                    + ClickHouse sluice.drift_metrics; breach -> retrain-requests topic
 *                    + a DRIFT alert on sluice.alerts (webhooks to on-call)
 *
 * Two topologies because predictions are keyed by entity: a model version's predictions are spread over
 * every partition, and windows are per partition. Re-keying through an internal topic (a repartition, as
 * Kafka Streams does) puts each model version's whole population into one window. Run both in a worker.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Prediction } from '../../connectors/experiments/prediction.js';
import { kafkaSink } from '../../connectors/kafka/kafka-sink.js';
import type { Sink } from '../../connectors/sink.js';
import type { RecordDecoder } from '../../operators/decode.js';
import { decode } from '../../operators/decode.js';
import { tumbling, window, type Duration } from '../../operators/windows/index.js';
import type { AlertRecord, DriftMetricRecord, RetrainRequestRecord } from '../../schemas/index.js';
import { kafkaSource, topology, TopologyError, type Topology } from '../builder.js';
import { alertsTopicFromEnv, alertsTopicSpec } from '../scoring/alerts.js';
import { PREDICTIONS_TOPIC } from '../scoring/prediction-serde.js';
import { driftAlert } from './drift-alert.js';
import { driftSampleDecoder, serializeDriftSample } from './drift-sample.js';
import { resolveDriftPolicy, type DriftPolicy, type DriftPolicyOptions } from './drift-policy.js';
import { driftMetricsClickHouseSink } from './drift-table.js';
import { evaluateDrift, type DriftOutput } from './evaluate-stage.js';
import { driftHistogram } from './histogram-aggregator.js';
import { jsonPredictionDecoder } from './prediction-decoder.js';
import { ProfileCache, type ProfileSource } from './profile-cache.js';
import { routedSink } from './routed-sink.js';
import { binPredictions } from './sample-stage.js';

export const DRIFT_METRICS_TOPIC = 'drift-metrics';
export const RETRAIN_REQUESTS_TOPIC = 'retrain-requests';

export interface DriftTopologyOptions {
  /** Base name: topologies `<name>-samples` and `<name>`; default 'drift'. */
  readonly name?: string;
  /** Where reference profiles come from (a FileModelRegistry). */
  readonly registry: ProfileSource;
  readonly predictionsTopic?: string;
  /** Default: JSON as the scoring topology writes it; pass createAvroSerde(Prediction, ...) for Avro. */
  readonly decoder?: RecordDecoder<Prediction>;
  readonly fromBeginning?: boolean;
  /** Internal re-keyed topic; default `<name>.samples`. */
  readonly samplesTopic?: string;
  readonly samplesPartitions?: number;
  readonly metricsTopic?: string;
  readonly retrainTopic?: string;
  /** Tumbling window size; default '5m'. */
  readonly window?: Duration;
  /**
   * How far event time may run backwards on the samples topic (it interleaves the predictions
   * partitions); default '30s'. Samples later than this (plus grace) go to `<name>.late`.
   */
  readonly outOfOrderness?: Duration;
  readonly grace?: Duration;
  readonly policy?: DriftPolicyOptions;
  /** ClickHouse for sluice.drift_metrics: a client, or by default the worker's endpoint; false: none. */
  readonly clickhouse?: Pick<ClickHouseClient, 'insert' | 'command' | 'query'> | false;
  readonly serializeMetric?: (metric: DriftMetricRecord) => Buffer | Promise<Buffer>;
  readonly serializeRequest?: (request: RetrainRequestRecord) => Buffer | Promise<Buffer>;
  readonly onRequest?: (request: RetrainRequestRecord) => void;
  /** Where each retrain request also raises a DRIFT alert for on-call; default sluice.alerts; false: none. */
  readonly alertsTopic?: string | false;
}

export interface DriftTopologies {
  /** predictions -> samples topic. */
  readonly samples: Topology;
  /** samples topic -> metrics, retrain requests, ClickHouse. */
  readonly drift: Topology;
  readonly policy: DriftPolicy;
  readonly topics: { readonly samples: string; readonly metrics: string; readonly retrain: string };
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

export function driftTopologies(o: DriftTopologyOptions): DriftTopologies {
  if (!o?.registry || typeof o.registry.get !== 'function') {
    throw new TopologyError('drift topology needs registry: a FileModelRegistry (reference profiles)');
  }
  const name = o.name ?? 'drift';
  const policy = resolveDriftPolicy(o.policy);
  const assigner = tumbling(o.window ?? '5m');
  const topics = {
    samples: o.samplesTopic ?? `${name}.samples`,
    metrics: o.metricsTopic ?? DRIFT_METRICS_TOPIC,
    retrain: o.retrainTopic ?? RETRAIN_REQUESTS_TOPIC,
  };
  const profiles = new ProfileCache(o.registry);

  const samples = topology(`${name}-samples`, {
    description: `bin ${o.predictionsTopic ?? PREDICTIONS_TOPIC} on reference profiles, re-key by model@version`,
  })
    .from(kafkaSource(o.predictionsTopic ?? PREDICTIONS_TOPIC, { fromBeginning: o.fromBeginning ?? true }))
    .pipe(
      decode(o.decoder ?? jsonPredictionDecoder, { eventTime: (p) => p.eventTime }),
      binPredictions(profiles),
    )
    .to(
      kafkaSink({
        topic: topics.samples,
        ...(o.samplesPartitions ? { numPartitions: o.samplesPartitions } : {}),
        serialize: serializeDriftSample,
      }),
    );

  const serializeMetric = o.serializeMetric ?? json;
  const serializeRequest = o.serializeRequest ?? json;
  const sinks: Sink<DriftOutput>[] = [
    routedSink(
      kafkaSink<DriftMetricRecord>({ topic: topics.metrics, serialize: (r) => serializeMetric(r.value) }),
      (v: DriftOutput) => (v.kind === 'metric' ? v.metric : null),
    ),
    routedSink(
      kafkaSink<RetrainRequestRecord>({
        topic: topics.retrain,
        serialize: (r) => serializeRequest(r.value),
        // The trainer works per model: all of a model's requests stay in order on one partition.
        key: (r) => r.value.model,
      }),
      (v: DriftOutput) => (v.kind === 'retrain' ? v.request : null),
    ),
  ];
  if (o.alertsTopic !== false) {
    sinks.push(
      routedSink(
        kafkaSink<AlertRecord>({
          ...alertsTopicSpec(o.alertsTopic ?? alertsTopicFromEnv()),
          key: (r) => r.value.dedupKey,
          serialize: (r) => json(r.value),
        }),
        (v: DriftOutput) => (v.kind === 'retrain' ? driftAlert(v.request, name) : null),
      ),
    );
  }
  if (o.clickhouse !== false) {
    sinks.push(
      routedSink(
        driftMetricsClickHouseSink(o.clickhouse ? { client: o.clickhouse } : {}),
        (v: DriftOutput) => (v.kind === 'metric' ? v.metric : null),
      ),
    );
  }

  const drift = topology(name, {
    description: `drift of model versions per ${assigner.describe} window: PSI, missing rate, retrain requests`,
  })
    .from(kafkaSource(topics.samples, { fromBeginning: true }))
    .pipe(
      decode(driftSampleDecoder, { eventTime: (s) => s.eventTime }),
      window(assigner, {
        aggregate: driftHistogram(),
        outOfOrderness: o.outOfOrderness ?? '30s',
        grace: o.grace ?? 0,
        store: 'drift.windows',
      }),
      evaluateDrift({ profiles, policy, ...(o.onRequest ? { onRequest: o.onRequest } : {}) }),
    )
    .to(...sinks);

  return { samples, drift, policy, topics };
}
