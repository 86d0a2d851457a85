/**
 * onlineStore(view): the Redis sink of a feature view. Each closed window becomes the hash of its
 * (view, entity), written through the event-time compare-and-set with version = window end, so a replay
 * or an out-of-order write never regresses a value, an equal version rewrites identical bytes, and the
 * hash expires `ttl` after its last write. A resolved write() means Redis acknowledged every row.
 */
import type { FeatureRowRecord } from '../../schemas/index.js';
import type { StreamRecord } from '../../schemas/stream.js';
import type { OnlineFeatureRow } from '../redis/feature-hash.js';
import { createOnlineFeatureWriter } from '../redis/online-feature-writer.js';
import { createRedisClient } from '../redis/redis-client.js';
import type { Sink } from '../sink.js';
import { checkViewName, type FeatureViewSpec } from './feature-view-spec.js';

export interface OnlineStoreOptions {
  readonly keyPrefix?: string;
  /** Redis URL override; defaults to the worker's endpoints (REDIS_URL). */
  readonly redisUrl?: string;
}

/** Rows of this view (and version) only: one topology may feed several views through one sink list. */
export function rowsOfView(
  view: FeatureViewSpec,
  records: readonly StreamRecord<FeatureRowRecord>[],
): FeatureRowRecord[] {
  return records
    .map((r) => r.value)
    .filter((v) => v.view === view.name && v.viewVersion === view.versionNumber);
}

export function onlineStore(view: FeatureViewSpec, options: OnlineStoreOptions = {}): Sink<FeatureRowRecord> {
  checkViewName(view.name);
  return {
    name: `online:${view.name}`,
    async open(env) {
      const logger = env.logger.child({ sink: `online:${view.name}` });
      const redis = createRedisClient(
        { ...process.env, REDIS_URL: options.redisUrl ?? env.endpoints.redisUrl },
        { logger },
      );
      const writer = createOnlineFeatureWriter(redis, {
        keyPrefix: options.keyPrefix,
        ttlMs: view.ttlMs,
        // Short budget per attempt: the runtime retries the whole batch with backoff for as long as it takes.
        retry: { maxRetryTimeMs: 10_000 },
        onRetry: ({ attempt, error, rows }) =>
          logger.warn({ attempt, err: error.message, rows }, 'online write retry'),
      });
      return {
        async write(records) {
          const rows: OnlineFeatureRow[] = rowsOfView(view, records).map((v) => ({
            view: view.name,
            entity: v.entity,
            version: v.windowEnd,
            values: v.features,
          }));
          if (rows.length > 0) await writer.writeBatch(rows);
        },
        async close() {
          await redis.quit().catch(() => redis.disconnect());
        },
      };
    },
  };
}
