/**
 * Which Redis failures are worth retrying. Network trouble, timeouts, a loading/failing-over server and
 * cluster resharding pass with time; a wrong key type or a script error never does, so those fail at once.
 */
const TRANSIENT_REPLY_PREFIXES = [
  'LOADING',
  'BUSY',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'MASTERDOWN',
  'READONLY',
  'OOM',
];

export function isTransientRedisError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  // ioredis marks server replies as ReplyError; anything else is the connection or a timeout.
  if (err.name !== 'ReplyError') return true;
  return TRANSIENT_REPLY_PREFIXES.some((p) => err.message.startsWith(p));
}
