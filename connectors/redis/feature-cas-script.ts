/**
 * The compare-and-set that makes online writes idempotent: a row is stored only if its event-time
 * version is >= the stored one, so replays after a crash and out-of-order writes never regress a value.
 * An equal version is re-applied (same input, same hash) and keeps the original `__ts`, so replaying a
 * batch leaves byte-identical hashes. An applied write replaces the whole hash (a feature that became
 * null disappears) and resets the TTL; a skipped write touches nothing.
 *
 * KEYS[1] = feature hash; ARGV = version, ttlMs, writtenAtMs, then feature field/value pairs.
 * Returns 1 when applied, 0 when skipped.
 */
import { VERSION_FIELD, WRITTEN_AT_FIELD } from './feature-hash.js';

export const FEATURE_CAS_COMMAND = 'sluiceFeatureCas';

export const FEATURE_CAS_LUA = `
local incoming = tonumber(ARGV[1])
local writtenAt = ARGV[3]
local stored = redis.call('HGET', KEYS[1], '${VERSION_FIELD}')
if stored then
  local current = tonumber(stored)
  if current == nil then
    return redis.error_reply('ERR sluice: ' .. KEYS[1] .. ' has a non-numeric ${VERSION_FIELD}: ' .. stored)
  end
  if current > incoming then return 0 end
  if current == incoming then
    writtenAt = redis.call('HGET', KEYS[1], '${WRITTEN_AT_FIELD}') or writtenAt
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '${VERSION_FIELD}', ARGV[1], '${WRITTEN_AT_FIELD}', writtenAt)
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;
