/** Polling for a condition in integration tests: checked every `everyMs`, failing the test after `timeoutMs`. */
import assert from 'node:assert/strict';

export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 30_000, everyMs = 100 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
