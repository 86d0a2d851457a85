/**
 * Runs a bench script in its own Node process (tsx) and returns the JSON on the last line of its stdout;
 * a non-zero exit or an unreadable line rejects with the tail of its stderr.
 */
import { spawn } from 'node:child_process';

export function runJsonChild<T>(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as T);
      } catch (e) {
        reject(new Error(`${script} failed (${(e as Error).message}): ${err.slice(-1000)}`));
      }
    });
  });
}
