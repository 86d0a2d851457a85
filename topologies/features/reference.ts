/**
 * The card-features topology as the reference deployment runs it: Avro in and out through the schema
 * registry at SCHEMA_REGISTRY_URL, stores at REDIS_URL and CLICKHOUSE_URL (or the embedded chdb folder).
 */
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import {
  createAvroSerde,
  createRegistryClient,
  registryAuthFromEnv,
} from '../../connectors/schema-registry/index.js';
import { FeatureRow, TxnEvent } from '../../schemas/index.js';
import type { Topology } from '../builder.js';
import { cardFeaturesTopology, FEATURES_TOPIC } from './card-features.js';
import { CARD_FEATURES_SOURCE } from './views/source.js';

export function referenceCardFeatures(env: NodeJS.ProcessEnv = process.env): Topology {
  const endpoints = loadEndpoints(env);
  const registry = createRegistryClient(endpoints.schemaRegistryUrl, registryAuthFromEnv(env));
  const decoder = createAvroSerde(TxnEvent, registry, { topic: CARD_FEATURES_SOURCE.topic });
  const rows = createAvroSerde(FeatureRow, registry, { topic: FEATURES_TOPIC });
  return cardFeaturesTopology({ decoder, featureSerializer: (row) => rows.serialize(row) });
}
