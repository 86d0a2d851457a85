import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import avro from 'avsc';
import ts from 'typescript';
import {
  CodegenError,
  generate,
  generateSource,
  GENERATED_FILE,
  listAvscFiles,
} from '../../schemas/codegen.js';
import { allDescriptors, TxnEvent } from '../../schemas/index.js';

describe('schemas codegen', () => {
  it('types.generated.ts is up to date with schemas/*.avsc', async () => {
    assert.equal(
      readFileSync(GENERATED_FILE, 'utf8'),
      await generate(),
      'schemas/types.generated.ts is stale; run: node --import tsx schemas/codegen.ts',
    );
  });

  it('has one descriptor per .avsc file, equal to the file, that avsc accepts', () => {
    const files = listAvscFiles();
    assert.equal(allDescriptors.length, files.length);
    for (const d of allDescriptors) {
      const file = `${d.name.split('.').pop()}.avsc`;
      assert.ok(files.includes(file), `${d.name} has ${file}`);
      const onDisk = JSON.parse(readFileSync(path.join(path.dirname(GENERATED_FILE), file), 'utf8'));
      assert.deepEqual(d.avsc, onDisk);
      assert.equal(d.avsc.namespace, 'dev.sluice');
      const type = avro.Type.forSchema(d.avsc as avro.Schema);
      const sample = type.random();
      assert.deepEqual(type.fromBuffer(type.toBuffer(sample)), sample);
    }
  });

  it('maps records, enums, nullable unions, arrays, maps and logical types', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'codegen-'));
    try {
      writeFileSync(
        path.join(dir, 'Sample.avsc'),
        JSON.stringify({
          type: 'record',
          name: 'Sample',
          namespace: 'x',
          fields: [
            { name: 'maybe', type: ['null', 'string'], default: null },
            {
              name: 'list',
              type: {
                type: 'array',
                items: { type: 'record', name: 'Item', fields: [{ name: 'n', type: 'long' }] },
              },
            },
            { name: 'scores', type: { type: 'map', values: 'double' } },
            { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
            { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
            { name: 'raw', type: 'bytes' },
            { name: 'again', type: 'Item' },
          ],
        }),
      );
      const source = generateSource(dir);
      assert.match(source, /export interface SampleRecord \{/);
      assert.match(source, /maybe: null \| string;/);
      assert.match(source, /list: Array<ItemRecord>;/);
      assert.match(source, /scores: Record<string, number>;/);
      assert.match(source, /export type Kind = "A" \| "B";/);
      assert.match(source, /at: number;/);
      assert.match(source, /raw: Buffer;/);
      assert.match(source, /again: ItemRecord;/);
      assert.match(source, /export const Sample: SchemaDescriptor<SampleRecord>/);

      writeFileSync(
        path.join(dir, 'Sample.avsc'),
        JSON.stringify({
          type: 'record',
          name: 'Sample',
          fields: [{ name: 'u', type: ['null', 'string', 'int'] }],
        }),
      );
      assert.throws(() => generateSource(dir), CodegenError);
      writeFileSync(
        path.join(dir, 'Sample.avsc'),
        JSON.stringify({ type: 'record', name: 'Other', fields: [] }),
      );
      assert.throws(() => generateSource(dir), /must hold a record named Sample/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes the compiler reject a field the schema lacks', () => {
    // Compile a small consumer of the real descriptors: the only error must be the missing field.
    const dir = path.dirname(GENERATED_FILE);
    const probe = path.join(dir, '__descriptor_probe.ts');
    const source = [
      "import { TxnEvent, type SchemaDescriptor } from './index.js';",
      'declare function source<T>(d: SchemaDescriptor<T>, eventTime: (e: T) => number): void;',
      'source(TxnEvent, (e) => e.ts);',
      'source(TxnEvent, (e) => e.timestamp);',
    ].join('\n');
    const host = ts.createCompilerHost({});
    const readFile = host.readFile.bind(host);
    host.readFile = (f) => (path.resolve(f) === probe ? source : readFile(f));
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (f) => path.resolve(f) === probe || fileExists(f);
    const program = ts.createProgram({
      rootNames: [probe],
      options: {
        strict: true,
        noEmit: true,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        types: ['node'],
        skipLibCheck: true,
      },
      host,
    });
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    assert.equal(diagnostics.length, 1, diagnostics.join('\n'));
    assert.match(diagnostics[0]!, /Property 'timestamp' does not exist on type 'TxnEventRecord'/);
  });

  it('exports descriptors whose name is the full Avro name', () => {
    assert.equal(TxnEvent.name, 'dev.sluice.TxnEvent');
  });
});
