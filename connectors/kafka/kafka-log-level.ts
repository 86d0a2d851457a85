/**
 * Which pino level a kafkajs log entry deserves. kafkajs logs some routine, handled events loudly; an
 * on-call engineer reading ERROR for every rebalance learns to ignore ERROR, so those are lowered here.
 */
import { logLevel } from 'kafkajs';

export type PinoLevel = 'error' | 'warn' | 'info' | 'debug';

/**
 * Known and chosen: CONCURRENT_TRANSACTIONS right after a commit (kafkajs retries it), the partitioner
 * notice and the retry-limit notice (idempotence holds: the broker dedups by sequence).
 */
const ROUTINE_NOTICE =
  /concurrent operation on the same transaction|switched default partitioner|Limiting retries for the idempotent producer/;

/**
 * A connection logs every error response at ERROR before its caller has looked at it ("Response
 * Heartbeat(key: 12, version: 3)"). These answers are the group protocol or the admin API working as
 * designed, and the caller handles them: the consumer rejoins on a rebalance (and logs that itself), a
 * coordinator that is loading or has moved is retried, a partition whose leader moved (or is still being
 * elected, right after its topic was created) is retried after a metadata refresh, and createTopics
 * answers false when every topic already exists (workers starting together race to create their topics)
 * and throws otherwise.
 */
const ROUTINE_RESPONSE_ERROR =
  /The group is rebalancing|The coordinator is loading|This is not the correct coordinator|^Topic creation errors$|This server is not the leader for that topic-partition|There is no leader for this topic-partition/;

/** Membership changes are how a consumer group scales and recovers: news for operators, not a warning. */
const REBALANCE_NOTICE = /^The group is rebalancing, re-joining$/;

/** Any other error response is thrown to the caller too, which reports it; it stays at WARN as context. */
const RESPONSE_LOG = /^Response \w+\(key: \d+, version: \d+\)$/;

export function kafkaLogLevel(level: logLevel, message: string, error: unknown): PinoLevel | undefined {
  const detail = typeof error === 'string' ? error : String(error ?? '');
  if (ROUTINE_NOTICE.test(`${message} ${detail}`)) return 'debug';
  if (level === logLevel.ERROR && RESPONSE_LOG.test(message)) {
    return ROUTINE_RESPONSE_ERROR.test(detail) ? 'debug' : 'warn';
  }
  if (level === logLevel.ERROR) return 'error';
  if (level === logLevel.WARN) return REBALANCE_NOTICE.test(message) ? 'info' : 'warn';
  if (level === logLevel.INFO) return 'debug';
  return undefined;
}
