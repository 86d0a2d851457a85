/**
 * The scoring topology as the reference deployment (transaction risk) runs it: Avro TxnEvents, the card's
 * 1 min features from the online store, events' own fields, the experiment's variants and shadows.
 */
import type { Kafka } from 'kafkajs';
import type { ClickHouseClient } from '../../connectors/clickhouse/clickhouse-client.js';
import { FileExperimentStore, type ExperimentConfig } from '../../connectors/experiments/index.js';
import type { FileModelRegistry } from '../../connectors/model-registry/file-model-registry.js';
import { createOnlineFeatureReader, type RedisConnection } from '../../connectors/redis/index.js';
import type { RecordDecoder } from '../../operators/decode.js';
import type { TxnEventRecord } from '../../schemas/index.js';
import type { Logger } from 'pino';
import { CARD_FEATURES_SOURCE } from '../features/views/source.js';
import type { ExperimentSource } from './experiment-watcher.js';
import { openScoring, type Scoring } from './scoring-topology.js';

export interface ReferenceScoringOptions {
  readonly instanceId: string;
  readonly decoder: RecordDecoder<TxnEventRecord>;
  readonly experiment: ExperimentConfig;
  /** Polled for newer versions of the experiment; default the FileExperimentStore of the environment. */
  readonly experiments?: ExperimentSource;
  readonly experimentPollMs?: number;
  readonly registry: FileModelRegistry;
  readonly redis: RedisConnection;
  readonly clickhouse?: ClickHouseClient;
  readonly logger?: Logger;
}

export function referenceScoring(kafka: Kafka, o: ReferenceScoringOptions): Promise<Scoring> {
  return openScoring<TxnEventRecord>(kafka, {
    instanceId: o.instanceId,
    sourceTopic: CARD_FEATURES_SOURCE.topic,
    decoder: o.decoder,
    eventTime: (t) => t.ts,
    entity: (t) => t.cardId,
    eventId: (t) => t.txnId,
    experiment: o.experiment,
    experimentStore: o.experiments ?? new FileExperimentStore(),
    ...(o.experimentPollMs !== undefined ? { experimentPollMs: o.experimentPollMs } : {}),
    registry: o.registry,
    features: {
      reader: createOnlineFeatureReader(o.redis),
      view: 'card_txn_1m',
      online: [
        { name: 'txnCount1m', default: 0 },
        { name: 'amountSum1m', default: 0 },
        // Served by the 1 h view in a full deployment; enrich reads one view, so these take their defaults.
        { name: 'amountMean1h', default: 40 },
        { name: 'merchantDistinct1h', default: 1 },
      ],
      event: [
        { name: 'amount', default: 0 },
        { name: 'hourOfDay', default: 12 },
        { name: 'isForeign', default: 0 },
      ],
      fromEvent: (t) => ({
        amount: t.amount,
        hourOfDay: new Date(t.ts).getUTCHours(),
        isForeign: t.country === 'DE' ? 0 : 1,
      }),
    },
    predictionsTopic: 'predictions',
    ...(o.clickhouse ? { clickhouse: o.clickhouse } : {}),
    ...(o.logger ? { logger: o.logger, scorer: { logger: o.logger } } : {}),
  });
}
