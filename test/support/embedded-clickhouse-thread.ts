/** Run in a worker thread by clickhouse-pool-threads.test.ts: asks for the embedded store there. */
import { parentPort } from 'node:worker_threads';
import { acquireClickHouse } from '../../connectors/feature-sinks/clickhouse-pool.js';

try {
  acquireClickHouse({ mode: 'embedded', path: '/nonexistent/chdb' });
  parentPort?.postMessage({ acquired: true });
} catch (err) {
  parentPort?.postMessage({ name: (err as Error).name, message: (err as Error).message });
}
