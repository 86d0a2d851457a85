/** The Redis online store: client factory, version-guarded writer, one-round-trip reader. */
export {
  createRedisClient,
  parseClusterNodes,
  type RedisConnection,
  type RedisClientOptions,
} from './redis-client.js';
export {
  DEFAULT_KEY_PREFIX,
  FeatureRowError,
  featureKey,
  type OnlineFeatureRow,
  type StoredFeatures,
} from './feature-hash.js';
export {
  createOnlineFeatureWriter,
  OnlineStoreWriteError,
  DEFAULT_REDIS_RETRY,
  type OnlineFeatureWriter,
  type OnlineFeatureWriterOptions,
  type WriteBatchResult,
  type WriteOutcome,
} from './online-feature-writer.js';
export {
  createOnlineFeatureReader,
  OnlineStoreReadError,
  type OnlineFeatureReader,
  type OnlineFeatureReaderOptions,
  type OnlineFeatures,
} from './online-feature-reader.js';
export { FEATURE_AGE_METRIC, featureAgeHistogram } from './freshness-metric.js';
