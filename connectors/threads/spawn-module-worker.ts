/**
 * Starts a worker thread from a module next to the caller. Under tsx (tests, `npm run` scripts) that
 * module is a .ts file, which a worker can load only after registering tsx itself; a compiled build
 * loads it directly.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * @param callerUrl the caller's import.meta.url
 * @param moduleBase the worker module's path relative to the caller, without extension ("./train-worker")
 */
export function spawnModuleWorker(callerUrl: string, moduleBase: string, workerData: unknown): Worker {
  const extension = path.extname(fileURLToPath(callerUrl));
  const workerUrl = new URL(`${moduleBase}${extension}`, callerUrl);
  if (extension !== '.ts') return new Worker(workerUrl, { workerData });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot =
    `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); ` +
    `return import(${JSON.stringify(workerUrl.href)}); });`;
  return new Worker(boot, { eval: true, execArgv: [], workerData });
}
