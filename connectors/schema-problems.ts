/**
 * ajv's validation errors as readable lines: where (the JSON pointer of the offending value, or `root` for
 * the value itself), what is wrong, and for an enum the values that are allowed.
 */
import type { ErrorObject } from 'ajv';

export function schemaProblems(errors: ErrorObject[] | null | undefined, root = '/'): string[] {
  return (errors ?? []).map((e) => {
    const allowed =
      e.keyword === 'enum' ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
    return `${e.instancePath || root} ${e.message ?? 'is invalid'}${allowed}`;
  });
}
