/**
 * A sink that takes only some records of a mixed stream, mapped to its own type. The drift stage emits
 * metrics and retrain requests on one stream (one checkpoint covers both); each output sink picks its kind.
 */
import type { Sink } from '../../connectors/sink.js';
import type { StreamRecord } from '../../schemas/stream.js';

export function routedSink<T, U>(inner: Sink<U>, pick: (value: T) => U | null): Sink<T> {
  return {
    name: inner.name,
    ...(inner.topics ? { topics: inner.topics } : {}),
    async open(env) {
      const writer = await inner.open(env);
      return {
        async write(records) {
          const picked: StreamRecord<U>[] = [];
          for (const r of records) {
            const value = pick(r.value);
            if (value !== null) picked.push({ ...r, value });
          }
          if (picked.length > 0) await writer.write(picked);
        },
        close: () => writer.close(),
      };
    },
  };
}
