/** Splits messages into groups whose approximate size stays under a byte budget (one produce call each). */
import type { Message } from 'kafkajs';

const sizeOf = (v: Message['key'] | Message['value']) =>
  v === null || v === undefined ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;

export function* chunksBySize<M extends Pick<Message, 'key' | 'value'>>(
  messages: M[],
  maxBytes: number,
): Generator<M[]> {
  let chunk: M[] = [];
  let bytes = 0;
  for (const m of messages) {
    // 64 bytes per record covers the record header, the offset delta, timestamp and varints.
    const size = sizeOf(m.value) + sizeOf(m.key) + 64;
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
