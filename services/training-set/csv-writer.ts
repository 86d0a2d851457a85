/** CSV output that hashes exactly the bytes it writes (the sha256 is the training set's lineage id). */
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export class HashingCsvWriter {
  private readonly out: WriteStream;
  private readonly hash = createHash('sha256');
  private failure: Error | undefined;

  constructor(readonly file: string) {
    this.out = createWriteStream(file);
    this.out.on('error', (err) => (this.failure = err));
  }

  async writeRow(cells: readonly (string | number | null)[]): Promise<void> {
    if (this.failure) throw this.failure;
    const line = `${cells.map(csvCell).join(',')}\n`;
    this.hash.update(line);
    if (!this.out.write(line)) await once(this.out, 'drain');
  }

  /** Closes the file and returns the sha256 of everything written. */
  async finish(): Promise<string> {
    this.out.end();
    await once(this.out, 'finish');
    if (this.failure) throw this.failure;
    return this.hash.digest('hex');
  }

  abort(): void {
    this.out.destroy();
  }
}
