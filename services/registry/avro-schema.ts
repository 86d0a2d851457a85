/**
 * Parsing and identity of registered Avro schemas. Pure: no I/O.
 *
 * The registry stores the schema text compacted (whitespace removed, as Confluent returns it) and derives
 * identity from a key-sorted rendering, so re-registering the same schema with different formatting or
 * attribute order finds the existing id instead of minting a new one.
 */
import avro from 'avsc';
import { ErrorCode, RegistryError } from './errors.js';

export interface ParsedSchema {
  /** Compact JSON text, returned to clients and stored in the log. */
  readonly text: string;
  /** Key-sorted JSON: equal for semantically identical schema documents. */
  readonly identity: string;
  readonly type: avro.Type;
}

/**
 * Options for every place that turns a schema into an avsc Type, so checks and decoding agree. A fresh
 * object each call: avsc stores its named-type registry on the options object it is given.
 */
export const avscParseOptions = (): Partial<avro.ForSchemaOptions> => ({ wrapUnions: 'auto' });

export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

export function invalidSchema(detail: string): RegistryError {
  return new RegistryError(ErrorCode.INVALID_SCHEMA, `Invalid schema: ${detail}`);
}

/** Parses a schema as sent in a register/lookup/compatibility request; throws 42201 on anything unusable. */
export function parseAvroSchema(
  schemaText: unknown,
  schemaType?: unknown,
  references?: unknown,
): ParsedSchema {
  if (schemaType !== undefined && schemaType !== null && schemaType !== 'AVRO') {
    throw invalidSchema(
      `schemaType ${JSON.stringify(schemaType)} is not supported; this registry stores AVRO only`,
    );
  }
  if (Array.isArray(references) && references.length > 0) {
    throw invalidSchema('schema references are not supported; inline the referenced named types');
  }
  if (typeof schemaText !== 'string' || schemaText.trim() === '') {
    throw invalidSchema('the "schema" field must be a non-empty string holding the Avro schema JSON');
  }
  let json: unknown;
  try {
    json = JSON.parse(schemaText);
  } catch (err) {
    throw invalidSchema(`not JSON (${(err as Error).message})`);
  }
  let type: avro.Type;
  try {
    type = avro.Type.forSchema(json as avro.Schema, avscParseOptions());
  } catch (err) {
    throw invalidSchema((err as Error).message);
  }
  return { text: JSON.stringify(json), identity: stableStringify(json), type };
}
