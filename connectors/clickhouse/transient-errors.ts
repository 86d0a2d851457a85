/**
 * Which ClickHouse failures are worth retrying. Network trouble and overload pass with time; a syntax
 * error, an unknown table or a type mismatch never does. The client parses modern errors into
 * ClickHouseError with a code, but 18.16 words them differently ("Code: 60, e.displayText() = ..."), so
 * the code is also read from the message.
 */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** Server error codes that mean "try again later" (overload, timeouts, replicas, Keeper). */
const TRANSIENT_SERVER_CODES = new Set([
  159, // TIMEOUT_EXCEEDED
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY
  252, // TOO_MANY_PARTS
  285, // TOO_FEW_LIVE_REPLICAS
  286, // UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE: another writer's quorum insert still holds the slot
  319, // UNKNOWN_STATUS_OF_INSERT
  425, // SYSTEM_ERROR
  999, // KEEPER_EXCEPTION
]);

export function clickHouseErrorCode(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^\d+$/.test(code)) return Number(code);
  if (typeof code === 'number') return code;
  const match = /^Code: (\d+)[.,]/.exec(err.message);
  return match ? Number(match[1]) : undefined;
}

export function isTransientClickHouseError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code)) return true;
  const serverCode = clickHouseErrorCode(err);
  if (serverCode !== undefined) return TRANSIENT_SERVER_CODES.has(serverCode);
  // The client's own request timeout and dropped keep-alive sockets carry no code.
  return /timeout|socket hang up/i.test(err.message);
}
