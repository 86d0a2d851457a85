/**
 * Whole-machine CPU time over a measurement: every process counts, the broker included. A figure for
 * "events per second" alone cannot tell a pipeline that is slow from one that is starved of cores; CPU
 * per event can, and it bounds what any number of worker processes could reach on this machine.
 */
import os from 'node:os';

export interface CpuMark {
  readonly at: bigint;
  /** Busy (non-idle) CPU milliseconds summed over every core, since boot. */
  readonly busyMs: number;
}

export function cpuMark(): CpuMark {
  let busyMs = 0;
  for (const { times } of os.cpus()) busyMs += times.user + times.nice + times.sys + times.irq;
  return { at: process.hrtime.bigint(), busyMs };
}

/** One timed run: its rate, and the machine CPU it took. */
export interface Measured {
  readonly rate: number;
  /** Machine CPU per event, µs (all cores, all processes). */
  readonly cpuPerEvent: number;
  /** Cores kept busy on average (0 .. number of cores). */
  readonly coresBusy: number;
}

export function measuredSince(start: CpuMark, events: number, end: CpuMark = cpuMark()): Measured {
  const seconds = Number(end.at - start.at) / 1e9;
  const busySeconds = (end.busyMs - start.busyMs) / 1000;
  return {
    rate: events / seconds,
    cpuPerEvent: (busySeconds * 1e6) / events,
    coresBusy: busySeconds / seconds,
  };
}
