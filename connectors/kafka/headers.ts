/** kafkajs record headers as the strings Sluice works with. */
import type { KafkaMessage } from 'kafkajs';

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * kafkajs headers (Buffer, string or arrays of them) as strings, a repeated header by its first value;
 * most records have none, and share one empty object.
 */
export function stringHeaders(headers: KafkaMessage['headers']): Readonly<Record<string, string>> {
  if (headers === undefined) return NO_HEADERS;
  let out: Record<string, string> | undefined;
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined) continue;
    out ??= {};
    const text = Array.isArray(v) ? String(v[0] ?? '') : String(v);
    // Assigning a header named "__proto__" would call the prototype setter, which drops a string.
    if (k === '__proto__') {
      Object.defineProperty(out, k, { value: text, enumerable: true, writable: true, configurable: true });
    } else {
      out[k] = text;
    }
  }
  return out ?? NO_HEADERS;
}
