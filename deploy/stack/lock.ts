/**
 * One `sluice stack up|down` at a time per state dir: several test runs may call `stack up` at once, and
 * without this two of them could both see a free port and start the same service twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isRunning } from './process.js';
import { sleep } from './probe.js';
import { StackError } from './service.js';

export async function withStackLock<T>(
  stateDir: string,
  say: (message: string) => void,
  work: () => Promise<T>,
  waitMs = 300_000,
): Promise<T> {
  fs.mkdirSync(stateDir, { recursive: true });
  const lockFile = path.join(stateDir, 'stack.lock');
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(fs.readFileSync(lockFile, 'utf8').trim());
    if (!Number.isInteger(holder) || holder <= 0 || !isRunning(holder)) {
      fs.rmSync(lockFile, { force: true }); // left by a killed run
      continue;
    }
    if (Date.now() > deadline) {
      throw new StackError(
        `another sluice stack command (pid ${holder}) still holds ${lockFile}; wait for it or stop it`,
      );
    }
    if (!told) say(`waiting for another sluice stack command (pid ${holder}) to finish...`);
    told = true;
    await sleep(500);
  }
  try {
    return await work();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}
