/** `sluice run TOPOLOGY`: one worker of a shipped topology in this process, until SIGTERM. */
import os from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { positiveInteger, threadsFromEnv } from '../options.js';
import { shippedTopologies, shippedTopology, shippedTopologyRef } from '../../../topologies/catalog.js';
import { runTopology, runTopologyThreads } from '../../../topologies/runtime/run.js';
import { DEFAULT_SINK_MAX_BATCH } from '../../../topologies/runtime/worker.js';

export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description('run a worker of a shipped topology (scale out: start more workers with other instance ids)')
    .argument('<topology>', `one of: ${shippedTopologies.map((t) => t.name).join(', ')}`)
    .option(
      '--instance <id>',
      'stable id of this worker (pod name): names its Kafka clients, logs and per-instance consumer groups',
      process.env.SLUICE_INSTANCE_ID ?? os.hostname(),
    )
    .option(
      '--checkpoint-ms <ms>',
      'checkpoint at least this often while records flow (default per topology, else 500)',
      positiveInteger,
    )
    .option(
      '--checkpoint-caught-up-ms <ms>',
      'once a partition has caught up with its input, checkpoint this soon after the last checkpoint (default 100)',
      positiveInteger,
    )
    .option(
      '--checkpoint-records <n>',
      'also checkpoint a partition after this many records (default 10000); bounds the records held per partition',
      positiveInteger,
    )
    .option('--fetch-bytes <n>', 'bytes fetched per partition per request (default 1048576)', positiveInteger)
    .option(
      '--max-batch-bytes <n>',
      'most bytes one compressed record batch may expand to (default 67108864); a batch over it is dead-lettered whole',
      positiveInteger,
    )
    .option(
      '--sink-batch <n>',
      `most records per sink write (default per topology, else ${DEFAULT_SINK_MAX_BATCH})`,
      positiveInteger,
    )
    .option(
      '--metrics-port <port>',
      'serve /metrics, /healthz and /readyz on this port (default SLUICE_METRICS_PORT; none if unset)',
      (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port, 0-65535');
        return n;
      },
    )
    .option(
      '--threads <n>',
      'stream threads in this process, each a member of the consumer group with its own partitions ' +
        '(default SLUICE_STREAM_THREADS, else 1); more than 1 needs CLICKHOUSE_URL if the topology writes to ClickHouse',
      positiveInteger,
    )
    .option(
      '--max-outstanding <n>',
      'unfinished checkpoints per partition before it is paused',
      positiveInteger,
      4,
    )
    .addHelpText(
      'after',
      '\nSIGTERM/SIGINT: checkpoint, commit and leave the group (exit 0). A fatal error exits 1 so the\n' +
        'orchestrator restarts the worker, which resumes from its last checkpoint.',
    )
    .action(
      async (
        name: string,
        opts: {
          instance: string;
          checkpointMs?: number;
          checkpointCaughtUpMs?: number;
          checkpointRecords?: number;
          fetchBytes?: number;
          sinkBatch?: number;
          maxBatchBytes?: number;
          maxOutstanding: number;
          metricsPort?: number;
          threads?: number;
        },
      ) => {
        const shipped = shippedTopology(name);
        // Flags win over the topology's shipped defaults, which win over the worker's generic ones.
        const options = {
          instanceId: opts.instance,
          barrierIntervalMs: opts.checkpointMs ?? shipped.defaults?.checkpointMs,
          caughtUpCheckpointMs: opts.checkpointCaughtUpMs,
          barrierEveryRecords: opts.checkpointRecords,
          maxBytesPerPartition: opts.fetchBytes,
          sinkMaxBatch: opts.sinkBatch ?? shipped.defaults?.sinkMaxBatch,
          maxOutstandingBarriers: opts.maxOutstanding,
          ...(opts.maxBatchBytes !== undefined ? { maxDecompressedBatchBytes: opts.maxBatchBytes } : {}),
          ...(opts.metricsPort !== undefined ? { metricsPort: opts.metricsPort } : {}),
        };
        const threads = opts.threads ?? threadsFromEnv(process.env.SLUICE_STREAM_THREADS);
        if (threads > 1) {
          await runTopologyThreads(shippedTopologyRef(name), { ...options, threads });
        } else {
          await runTopology(await shipped.build(), options);
        }
        // Keep running: runTopology installed the signal handlers that end the process.
        await new Promise(() => undefined);
      },
    );
}
