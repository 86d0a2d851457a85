/** Starts test/support/window-worker.ts as a child process: the environment it is configured by, in one place. */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

export interface WindowWorkerOptions {
  readonly topology: string;
  readonly source: string;
  readonly output: string;
  readonly instance: string;
  readonly threads?: number;
  readonly logLevel?: string;
  /** Extra environment (e.g. SLUICE_METRICS_PORT). */
  readonly env?: Record<string, string>;
  readonly stdio?: StdioOptions;
}

export function startWindowWorker(o: WindowWorkerOptions): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'test/support/window-worker.ts'], {
    env: {
      ...process.env,
      CRASH_TOPOLOGY: o.topology,
      CRASH_SOURCE: o.source,
      CRASH_OUTPUT: o.output,
      CRASH_INSTANCE: o.instance,
      CRASH_THREADS: String(o.threads ?? 1),
      LOG_LEVEL: o.logLevel ?? 'warn',
      ...o.env,
    },
    stdio: o.stdio ?? ['ignore', 'inherit', 'inherit'],
  });
}
