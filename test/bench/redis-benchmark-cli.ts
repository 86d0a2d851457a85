/**
 * Runs the `redis-benchmark` tool that ships with Redis against the same server the bench writes to and
 * reads its requests/s, so a client-side figure can be set beside what the server itself sustains.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RedisBenchmarkOptions {
  readonly redisUrl: string;
  readonly requests: number;
  readonly pipeline: number;
  /** Parallel connections; redis-benchmark's default is 50. */
  readonly clients?: number;
  /** Either `-t <tests>` or a custom command (argv after the options), e.g. ['HSET', 'k:__rand_int__', 'f', 'v']. */
  readonly tests?: string;
  readonly command?: readonly string[];
  /** Keyspace for __rand_int__ in a custom command (-r). */
  readonly keyspace?: number;
  /** Logical database to SELECT (--dbnum); default 0. */
  readonly dbnum?: number;
}

/** Parses the last "N requests per second" of `redis-benchmark -q` output (progress lines end in \r). */
export function parseRequestsPerSecond(output: string): number {
  const matches = [...output.matchAll(/([\d.]+) requests per second/g)];
  const last = matches[matches.length - 1];
  if (!last) throw new Error(`redis-benchmark printed no "requests per second" line: ${output.slice(-300)}`);
  return Number(last[1]);
}

export async function redisBenchmark(options: RedisBenchmarkOptions): Promise<number> {
  const url = new URL(options.redisUrl);
  const args = ['-h', url.hostname || '127.0.0.1', '-p', url.port || '6379', '-q'];
  if (url.password) args.push('-a', decodeURIComponent(url.password));
  args.push('-n', String(options.requests), '-P', String(options.pipeline));
  if (options.clients !== undefined) args.push('-c', String(options.clients));
  if (options.keyspace !== undefined) args.push('-r', String(options.keyspace));
  if (options.dbnum !== undefined) args.push('--dbnum', String(options.dbnum));
  if (options.tests) args.push('-t', options.tests);
  if (options.command) args.push(...options.command);
  try {
    const { stdout, stderr } = await run('redis-benchmark', args, { maxBuffer: 16 * 1024 * 1024 });
    return parseRequestsPerSecond(stdout + stderr);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('redis-benchmark is not on PATH; install redis-tools (it ships with redis-server)', {
        cause: err,
      });
    }
    throw err;
  }
}
