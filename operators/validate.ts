/**
 * Field-level validation with data-quality counters in the spirit of ISO 8000: completeness (is the value
 * there), validity (is it of the allowed form) and range (is it within bounds). A record failing any rule
 * goes to the dead-letter topic with every failed rule named; the partition keeps flowing.
 */
import { Counter } from 'prom-client';
import { sharedMetric } from '../connectors/metrics.js';
import type { Stage } from '../schemas/stream.js';
import { rawOf } from './raw-of.js';
import { recordStage } from './record-stage.js';

export interface FieldRule<V> {
  /** Completeness: null/undefined fails. Defaults to true. */
  readonly required?: boolean;
  /** Range, for numbers (inclusive). */
  readonly min?: number;
  readonly max?: number;
  /** Validity: a pattern for strings, an allowed set, or any predicate. */
  readonly pattern?: RegExp;
  readonly oneOf?: readonly V[];
  readonly check?: (value: V) => boolean;
}

export type ValidationRules<T> = { readonly [K in keyof T]?: FieldRule<NonNullable<T[K]>> };

type Dimension = 'completeness' | 'validity' | 'range';

const checks = sharedMetric(
  'sluice_data_quality_checks_total',
  () =>
    new Counter({
      name: 'sluice_data_quality_checks_total',
      help: 'Data-quality checks per field and dimension (completeness, validity, range)',
      labelNames: ['topology', 'field', 'dimension', 'result'],
    }),
);

export interface Violation {
  readonly field: string;
  readonly dimension: Dimension;
  readonly message: string;
}

/** Pure check of one value against the rules; exported for unit tests and the serving API. */
export function findViolations<T>(value: T, rules: ValidationRules<T>): Violation[] {
  const out: Violation[] = [];
  for (const field of Object.keys(rules) as (keyof T & string)[]) {
    const rule = rules[field] as FieldRule<unknown> | undefined;
    if (!rule) continue;
    const v = (value as Record<string, unknown>)[field];
    if (v === null || v === undefined) {
      if (rule.required !== false)
        out.push({ field, dimension: 'completeness', message: `${field} is missing` });
      continue;
    }
    if (rule.min !== undefined || rule.max !== undefined) {
      if (typeof v !== 'number' || Number.isNaN(v)) {
        out.push({ field, dimension: 'validity', message: `${field} must be a number` });
      } else if ((rule.min !== undefined && v < rule.min) || (rule.max !== undefined && v > rule.max)) {
        out.push({
          field,
          dimension: 'range',
          message: `${field}=${v} outside [${rule.min ?? '-inf'}, ${rule.max ?? 'inf'}]`,
        });
      }
    }
    if (rule.pattern && (typeof v !== 'string' || !rule.pattern.test(v))) {
      out.push({ field, dimension: 'validity', message: `${field} does not match ${String(rule.pattern)}` });
    }
    if (rule.oneOf && !rule.oneOf.includes(v)) {
      out.push({
        field,
        dimension: 'validity',
        message: `${field}=${String(v)} is not one of ${rule.oneOf.join(', ')}`,
      });
    }
    if (rule.check && !rule.check(v)) {
      out.push({ field, dimension: 'validity', message: `${field} failed its check` });
    }
  }
  return out;
}

export function validate<T>(rules: ValidationRules<T>): Stage<T, T> {
  const fields = Object.keys(rules);
  const dimensions = ['completeness', 'validity', 'range'] as const;
  return recordStage<T, T>((ctx) => {
    // Labelled children resolved once: a label lookup per record per field would dominate the cost.
    const counter = (field: string, dimension: Dimension, result: 'pass' | 'fail') =>
      checks.labels({ topology: ctx.topology, field, dimension, result });
    const pass = fields.map((f) => dimensions.map((d) => counter(f, d, 'pass')));
    const fail = fields.map((f) => dimensions.map((d) => counter(f, d, 'fail')));
    return (record) => {
      const violations = findViolations(record.value, rules);
      fields.forEach((field, i) => {
        dimensions.forEach((dimension, j) => {
          const failed = violations.some((v) => v.field === field && v.dimension === dimension);
          (failed ? fail : pass)[i]?.[j]?.inc();
        });
      });
      if (violations.length === 0) return record;
      ctx.side.deadLetter(rawOf(ctx, record), {
        code: 'VALIDATION_FAILED',
        message: violations.map((v) => `${v.dimension}: ${v.message}`).join('; '),
      });
      return null;
    };
  });
}
