/** Sets the grouping key of each record (e.g. the card id), which windows and stores are keyed by. */
import type { Stage } from '../schemas/stream.js';
import { rawOf } from './raw-of.js';
import { recordStage } from './record-stage.js';

export function keyBy<T>(selector: (value: T) => string | number | null | undefined): Stage<T, T> {
  return recordStage<T, T>((ctx) => (record) => {
    const key = selector(record.value);
    if (key === null || key === undefined || key === '') {
      ctx.side.deadLetter(rawOf(ctx, record), {
        code: 'NULL_KEY',
        message: 'the key selector returned no key',
      });
      return null;
    }
    const keyText = String(key);
    // Often the Kafka key already (producers key by the same id): no copy of the record then.
    return keyText === record.key ? record : { ...record, key: keyText };
  });
}
