/**
 * The serving API's online features: the same Redis rows (and the same reader, with its freshness
 * histogram) that the scoring topology's enrich stage uses, so an application scoring outside Kafka sees
 * exactly what the in-stream model sees. Only views defined in this codebase are served: a typo answers
 * 404 with the defined names instead of an empty row per entity.
 */
import type { OnlineFeatureReader } from '../../connectors/redis/index.js';
import { NotFoundError, SourceUnavailableError, type OnlineFeatureSource } from './sources.js';

export function redisFeatureSource(
  reader: OnlineFeatureReader,
  viewNames: readonly string[],
): OnlineFeatureSource {
  return {
    async read(view, entities) {
      if (!viewNames.includes(view)) {
        throw new NotFoundError(
          `no feature view named "${view}"; defined views: ${viewNames.join(', ') || '(none)'}`,
        );
      }
      let rows;
      try {
        rows = await reader.readMany(view, entities);
      } catch (err) {
        // Redis down, timed out or refusing: the caller should retry or fall back, not treat it as "no row".
        throw new SourceUnavailableError(
          `the online store (Redis) did not answer: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      }
      return rows.map((row, i) =>
        row === null
          ? { entity: entities[i] as string, found: false, values: null, version: null, ageMs: null }
          : { entity: row.entity, found: true, values: row.values, version: row.version, ageMs: row.ageMs },
      );
    },
  };
}
