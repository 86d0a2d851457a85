/**
 * Generates schemas/types.generated.ts from schemas/*.avsc: a TS interface per record, a string-literal
 * union per enum, and a typed descriptor per file, so code typed by a descriptor gets the record type from
 * the Avro schema (a wrong field name fails to compile).
 *
 *   node --import tsx schemas/codegen.ts           # write the file
 *   node --import tsx schemas/codegen.ts --check   # exit 1 if it is stale
 *
 * Values follow avsc's default JS representation (no logical-type classes are registered): long and
 * timestamp-millis are numbers (epoch ms), bytes/fixed are Buffers, maps are plain objects, and a union
 * with null is `T | null`. Unions of several non-null types are refused, since avsc would wrap them.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import prettier from 'prettier';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export const SCHEMAS_DIR = path.dirname(fileURLToPath(import.meta.url));
export const GENERATED_FILE = path.join(SCHEMAS_DIR, 'types.generated.ts');

const PRIMITIVES: Record<string, string> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

export class CodegenError extends Error {
  override readonly name = 'CodegenError';
}

interface NamedType {
  readonly fullName: string;
  readonly definition: string; // key-sorted JSON, to tell identical re-definitions from clashes
  readonly source: string;
  readonly code: string;
}

const isObject = (v: Json | undefined): v is JsonObject =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const sortedJson = (v: Json): string =>
  Array.isArray(v)
    ? `[${v.map(sortedJson).join(',')}]`
    : isObject(v)
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${sortedJson(v[k]!)}`)
          .join(',')}}`
      : JSON.stringify(v);

const docComment = (doc: Json | undefined, indent = ''): string =>
  typeof doc === 'string' ? `${indent}/** ${doc.replace(/\*\//g, '* /')} */\n` : '';

const qualify = (name: string, namespace: string | undefined): string =>
  name.includes('.') || !namespace ? name : `${namespace}.${name}`;
const shortName = (fullName: string): string => fullName.slice(fullName.lastIndexOf('.') + 1);

class Generator {
  private readonly named = new Map<string, NamedType>();
  private readonly order: string[] = [];

  constructor(private readonly source: string) {}

  /** The TS name of a named Avro type. */
  private tsName(fullName: string, kind: string): string {
    return kind === 'record' ? `${shortName(fullName)}Record` : shortName(fullName);
  }

  private define(fullName: string, schema: JsonObject, code: string): void {
    const definition = sortedJson(schema);
    const existing = this.named.get(fullName);
    if (existing) {
      if (existing.definition !== definition) {
        throw new CodegenError(`${this.source}: ${fullName} is defined differently in ${existing.source}`);
      }
      return;
    }
    this.named.set(fullName, { fullName, definition, source: this.source, code });
    this.order.push(fullName);
  }

  private readonly kinds = new Map<string, string>();

  typeOf(schema: Json, namespace: string | undefined, where: string): string {
    if (typeof schema === 'string') {
      const primitive = PRIMITIVES[schema];
      if (primitive) return primitive;
      const full = this.kinds.has(schema) ? schema : qualify(schema, namespace);
      const kind = this.kinds.get(full);
      if (!kind) throw new CodegenError(`${this.source}: ${where} refers to unknown type ${schema}`);
      return kind === 'fixed' ? 'Buffer' : this.tsName(full, kind);
    }
    if (Array.isArray(schema)) {
      const branches = schema.map((s, i) => this.typeOf(s, namespace, `${where}[${i}]`));
      const nonNull = branches.filter((b) => b !== 'null');
      if (nonNull.length > 1) {
        throw new CodegenError(
          `${this.source}: ${where} is a union of ${nonNull.join(', ')}; only [null, T] is supported`,
        );
      }
      return branches.join(' | ');
    }
    if (
      !isObject(schema) ||
      (typeof schema.type !== 'string' && !Array.isArray(schema.type) && !isObject(schema.type))
    ) {
      throw new CodegenError(`${this.source}: ${where} is not an Avro schema`);
    }
    const type = schema.type;
    if (typeof type !== 'string') return this.typeOf(type, namespace, where);
    switch (type) {
      case 'array': {
        const items = this.typeOf(schema.items ?? null, namespace, `${where}.items`);
        return `Array<${items}>`;
      }
      case 'map':
        return `Record<string, ${this.typeOf(schema.values ?? null, namespace, `${where}.values`)}>`;
      case 'record':
      case 'error':
        return this.record(schema, namespace, where);
      case 'enum':
        return this.enumeration(schema, namespace, where);
      case 'fixed':
        this.nameOf(schema, namespace, where, 'fixed');
        return 'Buffer';
      default:
        // Primitive, possibly with a logicalType: avsc reads it as the underlying type.
        return this.typeOf(type, namespace, where);
    }
  }

  private nameOf(schema: JsonObject, namespace: string | undefined, where: string, kind: string): string {
    if (typeof schema.name !== 'string')
      throw new CodegenError(`${this.source}: ${where} (${kind}) has no name`);
    const ns = typeof schema.namespace === 'string' ? schema.namespace : namespace;
    const full = qualify(schema.name, ns);
    this.kinds.set(full, kind);
    return full;
  }

  private record(schema: JsonObject, namespace: string | undefined, where: string): string {
    const full = this.nameOf(schema, namespace, where, 'record');
    const ns = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : undefined;
    const fields = Array.isArray(schema.fields) ? schema.fields : [];
    const lines = fields.map((field, i) => {
      if (!isObject(field) || typeof field.name !== 'string') {
        throw new CodegenError(`${this.source}: ${full} field #${i} has no name`);
      }
      const logical =
        isObject(field.type) && typeof field.type.logicalType === 'string' ? field.type.logicalType : null;
      const doc = [typeof field.doc === 'string' ? field.doc : '', logical ? `(${logical})` : '']
        .filter(Boolean)
        .join(' ');
      return `${docComment(doc || undefined, '  ')}  ${field.name}: ${this.typeOf(field.type ?? null, ns, `${full}.${field.name}`)};`;
    });
    const name = this.tsName(full, 'record');
    this.define(full, schema, `${docComment(schema.doc)}export interface ${name} {\n${lines.join('\n')}\n}`);
    return name;
  }

  private enumeration(schema: JsonObject, namespace: string | undefined, where: string): string {
    const full = this.nameOf(schema, namespace, where, 'enum');
    const symbols = Array.isArray(schema.symbols) ? schema.symbols.map(String) : [];
    const name = this.tsName(full, 'enum');
    this.define(
      full,
      schema,
      `${docComment(schema.doc)}export type ${name} = ${symbols.map((s) => JSON.stringify(s)).join(' | ')};\n` +
        `export const ${name}Symbols: readonly ${name}[] = ${JSON.stringify(symbols)};`,
    );
    return name;
  }

  code(): string[] {
    return this.order.map((n) => this.named.get(n)!.code);
  }

  /** Shares named types across files (a type defined identically in two files is emitted once). */
  adopt(other: Generator): void {
    for (const n of other.order) {
      if (!this.named.has(n)) this.order.push(n);
      const theirs = other.named.get(n)!;
      const mine = this.named.get(n);
      if (mine && mine.definition !== theirs.definition) {
        throw new CodegenError(`${theirs.source}: ${n} is defined differently in ${mine.source}`);
      }
      this.named.set(n, mine ?? theirs);
    }
  }
}

export function listAvscFiles(dir = SCHEMAS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.avsc'))
    .sort();
}

/** The generated module's source, unformatted. */
export function generateSource(dir = SCHEMAS_DIR): string {
  const all = new Generator('(all)');
  const descriptors: string[] = [];
  const names: string[] = [];
  for (const file of listAvscFiles(dir)) {
    let schema: Json;
    try {
      schema = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Json;
    } catch (err) {
      throw new CodegenError(`${file}: not JSON (${(err as Error).message})`);
    }
    const base = path.basename(file, '.avsc');
    if (!isObject(schema) || schema.type !== 'record' || schema.name !== base) {
      throw new CodegenError(`${file}: must hold a record named ${base} (one top-level record per file)`);
    }
    const gen = new Generator(file);
    const recordType = gen.typeOf(schema, undefined, base);
    all.adopt(gen);
    const fullName = qualify(base, typeof schema.namespace === 'string' ? schema.namespace : undefined);
    descriptors.push(
      `/** ${file} */\nexport const ${base}: SchemaDescriptor<${recordType}> = {\n` +
        `  name: ${JSON.stringify(fullName)},\n  avsc: ${JSON.stringify(schema)},\n};`,
    );
    names.push(base);
  }
  return [
    '// GENERATED by schemas/codegen.ts from schemas/*.avsc. Do not edit: change the .avsc and run',
    '// `node --import tsx schemas/codegen.ts`.',
    '',
    '/** An Avro schema (JSON) with the TS type of its records; `_record` only carries the type. */',
    'export interface SchemaDescriptor<T> {',
    '  /** Full Avro name, e.g. dev.sluice.TxnEvent. */',
    '  readonly name: string;',
    '  /** The parsed .avsc document. */',
    '  readonly avsc: { readonly [key: string]: unknown };',
    '  readonly _record?: T;',
    '}',
    '',
    ...all.code().flatMap((c) => [c, '']),
    ...descriptors.flatMap((d) => [d, '']),
    `export const allDescriptors = [${names.join(', ')}] as const;`,
    '',
  ].join('\n');
}

/** The generated module's source, formatted with the repository's prettier config. */
export async function generate(dir = SCHEMAS_DIR): Promise<string> {
  const options = (await prettier.resolveConfig(GENERATED_FILE)) ?? {};
  return prettier.format(generateSource(dir), { ...options, parser: 'typescript' });
}

async function main(): Promise<void> {
  const output = await generate();
  if (process.argv.includes('--check')) {
    if (readFileSync(GENERATED_FILE, 'utf8') !== output) {
      console.error('schemas/types.generated.ts is stale; run: node --import tsx schemas/codegen.ts');
      process.exit(1);
    }
    return;
  }
  writeFileSync(GENERATED_FILE, output);
  console.log(`wrote ${path.relative(process.cwd(), GENERATED_FILE)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof CodegenError ? `codegen: ${err.message}` : err);
    process.exit(1);
  });
}
