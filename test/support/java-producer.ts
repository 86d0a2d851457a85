/**
 * Kafka's own Java client, from the jars the stack runs the broker with: its console producer writes record
 * batches with the codecs other teams' producers use (snappy, lz4, zstd), which kafkajs cannot write, and
 * javaRead reads a topic as any Java consumer would.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KAFKA_VERSION } from '../../deploy/stack/kafka.js';
import { stackPaths } from '../../deploy/stack/paths.js';
import { endpoints } from './kafka.js';

export type JavaCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Writes `records` ([key, value] text pairs) to `topic` in batches of up to `batchRecords`. */
export function javaProduce(
  topic: string,
  records: ReadonlyArray<readonly [string, string]>,
  codec: JavaCodec,
  batchRecords = 200,
): void {
  const libs = path.join(stackPaths().cacheDir, `kafka-${KAFKA_VERSION}`, 'libs');
  const input = records.map(([k, v]) => `${k}\t${v}\n`).join('');
  const run = spawnSync(
    'java',
    [
      '-cp',
      `${libs}/*`,
      'kafka.tools.ConsoleProducer',
      '--bootstrap-server',
      endpoints.kafkaBrokers.join(','),
      '--topic',
      topic,
      '--compression-codec',
      codec,
      '--batch-size',
      String(batchRecords),
      '--property',
      'parse.key=true',
      '--property',
      'key.separator=\t',
      '--request-required-acks',
      'all',
    ],
    { input, encoding: 'utf8', timeout: 120_000 },
  );
  if (run.status !== 0) {
    throw new Error(`kafka.tools.ConsoleProducer (${codec}) exited ${run.status}: ${run.stderr}`);
  }
}

/** The values of the first `records` records of `topic` (all partitions, read_committed), read by Java. */
export function javaRead(topic: string, records: number): string[] {
  const libs = path.join(stackPaths().cacheDir, `kafka-${KAFKA_VERSION}`, 'libs');
  const program = path.join(path.dirname(fileURLToPath(import.meta.url)), 'java', 'ReadTopic.java');
  const run = spawnSync(
    'java',
    ['-cp', `${libs}/*`, program, endpoints.kafkaBrokers.join(','), topic, String(records)],
    { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (run.status !== 0) throw new Error(`ReadTopic.java exited ${run.status}: ${run.stderr}`);
  return run.stdout.split('\n').filter((line) => line.length > 0);
}
