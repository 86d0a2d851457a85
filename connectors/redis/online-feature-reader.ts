/**
 * Reads the online features of many entities of one view in one round trip. Each found entity comes back
 * with its values, its event-time version and its age (now - version), which also feeds the freshness
 * histogram; an entity with no row (never written, or expired) is null.
 */
import type { Registry } from 'prom-client';
import { DEFAULT_KEY_PREFIX, checkKeyPrefix, decodeFeatureHash, featureKey } from './feature-hash.js';
import { featureAgeHistogram } from './freshness-metric.js';
import { inOneRoundTrip } from './one-round-trip.js';
import type { RedisConnection } from './redis-client.js';

export interface OnlineFeatures {
  readonly entity: string;
  readonly values: Readonly<Record<string, number>>;
  /** Event time (epoch ms) of the stored row. */
  readonly version: number;
  /** Wall-clock ms when this version was first stored. */
  readonly writtenAt: number;
  /** now - version, ms. */
  readonly ageMs: number;
}

export interface OnlineFeatureReaderOptions {
  readonly keyPrefix?: string;
  readonly registry?: Registry;
  readonly now?: () => number;
}

export class OnlineStoreReadError extends Error {
  override readonly name = 'OnlineStoreReadError';
}

export interface OnlineFeatureReader {
  /** One result per entity, in input order; null for an entity without a row. */
  readMany(view: string, entities: readonly string[]): Promise<(OnlineFeatures | null)[]>;
}

export function createOnlineFeatureReader(
  redis: RedisConnection,
  options: OnlineFeatureReaderOptions = {},
): OnlineFeatureReader {
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  checkKeyPrefix(prefix);
  const now = options.now ?? Date.now;
  const ageHistogram = featureAgeHistogram(options.registry);

  return {
    async readMany(view, entities) {
      const keys = entities.map((entity) => featureKey(prefix, view, entity));
      const replies = await inOneRoundTrip(
        redis,
        keys.map((key) => (t) => t.hgetall(key)),
      );
      const readAt = now();
      return replies.map(([err, reply], i) => {
        const entity = entities[i] as string;
        if (err) {
          throw new OnlineStoreReadError(`reading ${keys[i]} from Redis failed: ${err.message}`, {
            cause: err,
          });
        }
        const stored = decodeFeatureHash(reply as Record<string, string>);
        if (stored === null) return null;
        const ageMs = readAt - stored.version;
        ageHistogram.observe({ view }, Math.max(0, ageMs) / 1000);
        return { entity, ...stored, ageMs };
      });
    },
  };
}
