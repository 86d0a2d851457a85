/**
 * Sends many commands at once and collects one [error, reply] per command, in order. A single node
 * gets one explicit pipeline (one network round trip). A cluster cannot pipeline keys of different
 * slots, so there every command is issued in the same tick and ioredis' auto-pipelining groups them into
 * one pipeline per node.
 */
import { Cluster } from 'ioredis';
import type { RedisConnection } from './redis-client.js';

export type CommandResult = [Error | null, unknown];

/** The subset of commands the online store sends; both a client and a pipeline provide them. */
export interface OnlineStoreCommands {
  hgetall(key: string): unknown;
  sluiceFeatureCas(key: string, ...args: string[]): unknown;
}

export async function inOneRoundTrip(
  redis: RedisConnection,
  commands: readonly ((target: OnlineStoreCommands) => unknown)[],
): Promise<CommandResult[]> {
  if (commands.length === 0) return [];
  if (redis instanceof Cluster) {
    const target = redis as unknown as OnlineStoreCommands;
    const settled = await Promise.allSettled(commands.map((send) => send(target)));
    return settled.map((s) => (s.status === 'fulfilled' ? [null, s.value] : [toError(s.reason), null]));
  }
  const pipeline = redis.pipeline();
  const target = pipeline as unknown as OnlineStoreCommands;
  for (const send of commands) send(target);
  const results = await pipeline.exec();
  if (results === null) throw new Error('redis pipeline was discarded (connection closed before exec)');
  return results.map(([err, reply]) => [err, reply]);
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
