/**
 * How a stream thread gets its own copy of a topology. A topology is a value full of functions (decoders,
 * key selectors, sinks), and functions do not cross to another thread: each thread imports the module
 * that builds it and calls the named export with the same (cloneable) arguments.
 */
import type { Topology } from '../builder.js';

export interface TopologyRef {
  /** The building module's URL (`import.meta.url` of the module that exports the builder). */
  readonly module: string;
  /** The exported function, called with `args`, returning the topology (or a promise of it). */
  readonly export: string;
  /** Structured-cloneable: they are copied to every thread. */
  readonly args?: readonly unknown[];
}

export async function buildTopology(ref: TopologyRef): Promise<Topology> {
  const imported = (await import(ref.module)) as Record<string, unknown>;
  const build = imported[ref.export];
  if (typeof build !== 'function') {
    throw new TypeError(
      `${ref.module} has no exported function "${ref.export}" to build a topology with (exports: ` +
        `${Object.keys(imported).join(', ') || 'none'})`,
    );
  }
  return (await (build as (...args: unknown[]) => Topology | Promise<Topology>)(
    ...(ref.args ?? []),
  )) as Topology;
}
