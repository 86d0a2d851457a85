/** Option parsers shared by the command groups, so every command rejects bad values the same way. */
import { InvalidArgumentError } from 'commander';
import { ConfigError } from '../../connectors/config/endpoints.js';
import { shippedTopologies, UnknownTopologyError } from '../../topologies/catalog.js';

export const positiveInteger = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

/** SLUICE_STREAM_THREADS as a thread count: 1 when unset; anything but a positive integer fails fast. */
export function threadsFromEnv(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    throw new ConfigError(`SLUICE_STREAM_THREADS=${raw} is not a thread count; e.g. SLUICE_STREAM_THREADS=2`);
  }
  return n;
}

/**
 * The source topic of `topology`: `--source` when given, else the shipped topology's. Fails (a user error:
 * one line, exit 2) for a topology that is neither.
 */
export function sourceTopicOf(topology: string, given: string | undefined): string {
  const source = given ?? shippedTopologies.find((t) => t.name === topology)?.sourceTopic;
  if (source === undefined) {
    throw new UnknownTopologyError(
      `${topology} is not a shipped topology: name its source topic with --source <topic>`,
    );
  }
  return source;
}
