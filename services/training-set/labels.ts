/**
 * Label events for a training set: (entity, time, label). From a CSV file (header names the columns;
 * time in epoch ms or ISO 8601) or from a ClickHouse table (time as epoch-ms integer or DateTime).
 */
import { readFileSync } from 'node:fs';

export interface LabelEvent {
  readonly entity: string;
  /** Label time, epoch ms: features are taken as of this instant, never after it. */
  readonly ts: number;
  readonly label: string;
}

export interface LabelColumns {
  readonly entity: string;
  readonly time: string;
  readonly label: string;
}

export const DEFAULT_LABEL_COLUMNS: LabelColumns = { entity: 'entity', time: 'ts', label: 'label' };

export class LabelInputError extends Error {
  override readonly name = 'LabelInputError';
}

/** Splits one CSV line (RFC 4180 quotes, no embedded newlines). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}

export function parseTime(text: string): number | undefined {
  const t = text.trim();
  if (/^\d{1,16}$/.test(t)) return Number(t);
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const ms = Date.parse(t);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

export function parseLabelsCsv(
  text: string,
  columns: LabelColumns = DEFAULT_LABEL_COLUMNS,
  source = 'labels',
): LabelEvent[] {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim());
  const index = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) {
      throw new LabelInputError(
        `${source}: the header has no column "${name}" (columns: ${header.join(', ') || 'none'}); ` +
          'name the columns with --entity-col, --time-col and --label-col',
      );
    }
    return i;
  };
  const [ei, ti, li] = [index(columns.entity), index(columns.time), index(columns.label)];
  const out: LabelEvent[] = [];
  for (let n = 1; n < lines.length; n += 1) {
    const line = lines[n]!;
    if (line.trim() === '') continue;
    const cells = splitCsvLine(line);
    const entity = (cells[ei] ?? '').trim();
    const ts = parseTime(cells[ti] ?? '');
    if (entity === '') throw new LabelInputError(`${source} line ${n + 1}: empty ${columns.entity}`);
    if (ts === undefined) {
      throw new LabelInputError(
        `${source} line ${n + 1}: ${columns.time} "${cells[ti] ?? ''}" is neither epoch milliseconds nor an ISO 8601 time`,
      );
    }
    out.push({ entity, ts, label: (cells[li] ?? '').trim() });
  }
  return out;
}

export function readLabelsFile(file: string, columns: LabelColumns = DEFAULT_LABEL_COLUMNS): LabelEvent[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LabelInputError(`cannot read labels file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseLabelsCsv(text, columns, file);
}
