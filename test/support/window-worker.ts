/**
 * A worker process for the crash tests (the topology of window-topology.ts), run until SIGTERM (or SIGKILL
 * from the test). Configured by environment variables; CRASH_THREADS > 1 runs it on that many stream threads.
 */
import { runTopology, runTopologyThreads } from '../../topologies/runtime/run.js';
import { crashWindowTopology } from './window-topology.js';

export type { CrashTestEvent } from './window-topology.js';

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set`);
  return v;
};

const args = [env('CRASH_TOPOLOGY'), env('CRASH_SOURCE'), env('CRASH_OUTPUT')] as const;
const options = {
  instanceId: env('CRASH_INSTANCE'),
  sessionTimeoutMs: 6000,
  barrierIntervalMs: 200,
  barrierEveryRecords: 1000,
};
const threads = Number(process.env.CRASH_THREADS ?? 1);
if (threads > 1) {
  await runTopologyThreads(
    { module: new URL('./window-topology.ts', import.meta.url).href, export: 'crashWindowTopology', args },
    { ...options, threads },
  );
} else {
  await runTopology(crashWindowTopology(...args), options);
}
