/** A JSON decoder for runtime tests that must not depend on the schema registry. */
import type { RecordDecoder } from '../../operators/decode.js';

export const jsonDecoder = <T>(): RecordDecoder<T> => ({
  deserialize(payload: Buffer): T {
    try {
      return JSON.parse(payload.toString('utf8')) as T;
    } catch (err) {
      throw Object.assign(new Error(`invalid JSON: ${(err as Error).message}`), {
        code: 'JSON_DECODE_ERROR',
      });
    }
  },
});
