/** What the LZ4 and Zstandard frame formats share: 4-byte little-endian magic numbers, and skippable frames. */

/** Skippable frames (magic 0x184D2A50 to 0x184D2A5F, then a 4-byte length) carry no data in either format. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

/**
 * The magic number of the frame at `at`, after any skippable frames before it, and where that frame starts;
 * throws (naming `format`) when the input ends inside one.
 */
export function nextFrame(buffer: Buffer, at: number, format: string): { magic: number; at: number } {
  for (;;) {
    if (at + 4 > buffer.length) throw new Error(`truncated ${format} frame`);
    const magic = buffer.readUInt32LE(at);
    if ((magic & SKIPPABLE_MASK) >>> 0 !== SKIPPABLE_MAGIC) return { magic, at };
    if (at + 8 > buffer.length) throw new Error(`truncated ${format} skippable frame`);
    at += 8 + buffer.readUInt32LE(at + 4);
    if (at > buffer.length) throw new Error(`truncated ${format} skippable frame`);
    if (at === buffer.length) return { magic: -1, at };
  }
}
