/**
 * The reference features topology (transaction risk):
 *
 *   txn.events (Avro TxnEvent) -> decode -> validate (bad -> DLQ) -> keyBy cardId
 *     -> [1 min tumbling | 1 h hopping by 5 min | 30 min sessions]   (one stage, checkpoint-aligned)
 *     -> online store (Redis) + offline store (ClickHouse) per view, and the features topic (Avro FeatureRow)
 *
 * One topology computes all three window kinds instead of one topology per kind: the source is read,
 * decoded and validated once, there is one consumer group to watch and one offset per partition, and a
 * checkpoint covers every view at once, so the views of one event can never disagree after a crash.
 * The price is shared fate: a slow view slows the others (they pause together), and changing one view
 * redeploys all; a team that needs separate deployment splits views into topologies with their own names.
 */
import { kafkaSink } from '../../connectors/kafka/kafka-sink.js';
import {
  offlineStore,
  onlineStore,
  type OfflineStoreOptions,
  type OnlineStoreOptions,
} from '../../connectors/feature-sinks/index.js';
import type { Sink } from '../../connectors/sink.js';
import { decode, type RecordDecoder } from '../../operators/decode.js';
import { keyBy } from '../../operators/key-by.js';
import { validate } from '../../operators/validate.js';
import type { FeatureRowRecord, TxnEventRecord } from '../../schemas/index.js';
import type { StreamRecord } from '../../schemas/stream.js';
import { kafkaSource, topology, type Topology } from '../builder.js';
import { featureWindows } from './feature-windows.js';
import type { FeatureView } from './feature-view.js';
import { cardViews } from './views/index.js';
import { CARD_FEATURES_SOURCE } from './views/source.js';

export const FEATURES_TOPIC = 'features.card';

export interface CardFeaturesOptions {
  readonly decoder: RecordDecoder<TxnEventRecord>;
  /** Encodes rows for the features topic; omit (or featuresTopic: null) to skip the topic. */
  readonly featureSerializer?: (row: FeatureRowRecord) => Buffer | Promise<Buffer>;
  readonly name?: string;
  readonly groupId?: string;
  readonly sourceTopic?: string;
  readonly featuresTopic?: string | null;
  readonly views?: readonly FeatureView<TxnEventRecord>[];
  readonly online?: OnlineStoreOptions;
  readonly offline?: OfflineStoreOptions;
  /** Test hook: decode's event-time sanity bounds. */
  readonly maxEventAgeMs?: number;
}

export function cardFeaturesTopology(options: CardFeaturesOptions): Topology {
  const views = options.views ?? (cardViews as unknown as readonly FeatureView<TxnEventRecord>[]);
  const sinks: Sink<FeatureRowRecord>[] = views.flatMap((v) => [
    onlineStore(v, options.online),
    offlineStore(v, options.offline),
  ]);
  const featuresTopic = options.featuresTopic === undefined ? FEATURES_TOPIC : options.featuresTopic;
  if (featuresTopic !== null) {
    const serialize = options.featureSerializer;
    if (!serialize) {
      throw new Error(
        `cardFeaturesTopology: featuresTopic ${featuresTopic} needs a featureSerializer (e.g. an Avro FeatureRow serde), or pass featuresTopic: null`,
      );
    }
    sinks.push(
      kafkaSink<FeatureRowRecord>({
        topic: featuresTopic,
        serialize: (r: StreamRecord<FeatureRowRecord>) => serialize(r.value),
      }),
    );
  }
  return topology(options.name ?? CARD_FEATURES_SOURCE.topology, {
    groupId: options.groupId,
    description: `card features: ${views.map((v) => v.name).join(', ')}`,
  })
    .from(kafkaSource(options.sourceTopic ?? CARD_FEATURES_SOURCE.topic))
    .pipe(
      decode(options.decoder, {
        eventTime: (e) => e.ts,
        requireKey: false,
        maxAgeMs: options.maxEventAgeMs,
      }),
      validate<TxnEventRecord>({
        amount: { min: 0, max: 1_000_000 },
        currency: { pattern: /^[A-Z]{3}$/ },
        cardId: { pattern: /^[^{}]+$/ },
      }),
      keyBy((e) => e.cardId),
      featureWindows(views),
    )
    .to(...sinks);
}
