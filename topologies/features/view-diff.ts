/** What changed between two registered versions of a feature view, as lines a person can read. */
import type { FeatureViewDescriptor } from './feature-view.js';

export interface ViewChange {
  /** '+' added, '-' removed, '~' changed. */
  readonly kind: '+' | '-' | '~';
  readonly what: string;
  readonly from?: string;
  readonly to?: string;
}

const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export function diffViews(a: FeatureViewDescriptor, b: FeatureViewDescriptor): ViewChange[] {
  const changes: ViewChange[] = [];
  const names = [...new Set([...Object.keys(a.features), ...Object.keys(b.features)])].sort();
  for (const n of names) {
    const x = a.features[n];
    const y = b.features[n];
    if (x === undefined) changes.push({ kind: '+', what: `feature ${n}`, to: y });
    else if (y === undefined) changes.push({ kind: '-', what: `feature ${n}`, from: x });
    else if (x !== y) changes.push({ kind: '~', what: `feature ${n}`, from: x, to: y });
  }
  const fields: (keyof FeatureViewDescriptor)[] = [
    'entity',
    'window',
    'aggregate',
    'graceMs',
    'outOfOrdernessMs',
    'ttlMs',
    'source',
    'owner',
    'description',
    'tags',
  ];
  for (const f of fields) {
    const x = text(a[f]);
    const y = text(b[f]);
    if (x !== y) changes.push({ kind: '~', what: f, from: x, to: y });
  }
  return changes;
}

export function formatChanges(changes: readonly ViewChange[]): string[] {
  if (changes.length === 0) return ['(no differences)'];
  return changes.map((c) =>
    c.kind === '~'
      ? `~ ${c.what}: ${c.from} -> ${c.to}`
      : `${c.kind} ${c.what}: ${c.kind === '+' ? c.to : c.from}`,
  );
}
