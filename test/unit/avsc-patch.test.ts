/**
 * patches/avsc+5.7.9.patch bounds array and map decoding by the input: a block count is read from the
 * wire, and a few bytes declaring billions of items made avsc allocate until the process died. Valid data
 * must decode exactly as before, through a resolver and when skipped too.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import avro from 'avsc';

const long = avro.Type.forSchema('long');
/** Avro's zigzag varint of n, as a block count or size is written. */
const varlong = (n: number) => long.toBuffer(n);

const schemas: avro.Schema[] = [
  { type: 'array', items: 'string' },
  { type: 'array', items: 'null' },
  { type: 'array', items: { type: 'array', items: 'int' } },
  { type: 'map', values: 'double' },
  { type: 'map', values: { type: 'map', values: 'string' } },
  {
    type: 'record',
    name: 'Holder',
    fields: [
      { name: 'tags', type: { type: 'array', items: 'string' } },
      { name: 'scores', type: { type: 'map', values: 'float' } },
      { name: 'empties', type: { type: 'array', items: { type: 'record', name: 'Empty', fields: [] } } },
    ],
  },
];

/** A writer with an array field, and a reader without it: decoding skips the array by its block sizes. */
const writer = avro.Type.forSchema({
  type: 'record',
  name: 'W',
  fields: [
    { name: 'xs', type: { type: 'array', items: 'long' } },
    { name: 'n', type: 'int' },
  ],
});
const reader = avro.Type.forSchema({ type: 'record', name: 'W', fields: [{ name: 'n', type: 'int' }] });

test('valid arrays and maps decode to what was encoded (1,000 of avsc random values per schema)', () => {
  for (const schema of schemas) {
    const type = avro.Type.forSchema(schema);
    for (let i = 0; i < 1000; i += 1) {
      const bytes = type.toBuffer(type.random());
      // Compared as bytes: floats round on encoding, and records decode to class instances.
      assert.deepEqual(type.toBuffer(type.fromBuffer(bytes)), bytes, JSON.stringify(schema));
    }
  }
});

test('blocks with negative counts (count, byte size, items) decode and skip', () => {
  const items = Buffer.concat([long.toBuffer(7), long.toBuffer(-3)]);
  // Two blocks: -2 items of `items.length` bytes, then 1 item, then the end.
  const body = Buffer.concat([
    varlong(-2),
    varlong(items.length),
    items,
    varlong(1),
    long.toBuffer(9),
    varlong(0),
  ]);
  const array = avro.Type.forSchema({ type: 'array', items: 'long' });
  assert.deepEqual(array.fromBuffer(body), [7, -3, 9]);
  // Skipped by a reader without the field: the block sizes are used to jump over it.
  const record = Buffer.concat([body, avro.Type.forSchema('int').toBuffer(42)]);
  assert.deepEqual({ ...(reader.fromBuffer(record, reader.createResolver(writer)) as object) }, { n: 42 });
});

test('a map key named __proto__ is an entry, not the prototype', () => {
  const type = avro.Type.forSchema({ type: 'map', values: { type: 'map', values: 'int' } });
  const body = Buffer.concat([
    varlong(1),
    avro.Type.forSchema('string').toBuffer('__proto__'),
    avro.Type.forSchema({ type: 'map', values: 'int' }).toBuffer({ b: 1 }),
    varlong(0),
  ]);
  const decoded = type.fromBuffer(body) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  assert.deepEqual(Object.keys(decoded), ['__proto__']);
  assert.deepEqual({ ...(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value as object) }, { b: 1 });
});

test('a negative block size while skipping fails the decoding instead of reading the block again', () => {
  const body = Buffer.concat([varlong(-1), varlong(-3), long.toBuffer(5), varlong(0), Buffer.from([2])]);
  assert.equal(reader.decode(body, 0, reader.createResolver(writer)).offset, -1);
});

/**
 * Decoding bombs in a child process with a small heap: stock avsc dies of "heap out of memory" (or spins
 * for minutes), which no try/catch can turn into a dead letter. Patched, each fails as truncated.
 */
const bombScript = `
  const avro = require('avsc');
  const varlong = (n) => avro.Type.forSchema('long').toBuffer(n);
  const cases = [
    [{ type: 'array', items: 'string' }, Buffer.concat([varlong(2e9), Buffer.from([0])])],
    [{ type: 'map', values: 'double' }, Buffer.concat([varlong(2e9), Buffer.from([2, 65])])],
    [{ type: 'array', items: 'null' }, Buffer.concat([varlong(2 ** 52), Buffer.from([0])])],
  ];
  const skipper = avro.Type.forSchema({ type: 'record', name: 'R', fields: [] });
  const outcomes = cases.map(([schema, body]) => {
    const type = avro.Type.forSchema(schema);
    const writer = avro.Type.forSchema({ type: 'record', name: 'R', fields: [{ name: 'x', type: schema }] });
    return [
      type.decode(body, 0).offset,
      skipper.decode(body, 0, skipper.createResolver(writer)).offset,
    ];
  });
  console.log(JSON.stringify(outcomes));
`;

test('a block count of billions on a few bytes fails as truncated, read or skipped, without exhausting memory', () => {
  const run = spawnSync(process.execPath, ['--max-old-space-size=256', '-e', bombScript], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.signal, null, `decoding was killed (${run.signal}): out of memory, or the 60 s timeout`);
  assert.equal(run.status, 0, run.stderr.slice(-500));
  assert.deepEqual(JSON.parse(run.stdout), [
    [-1, -1],
    [-1, -1],
    [-1, -1],
  ]);
});
