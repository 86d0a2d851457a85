/**
 * A topology is a value: a named source, a chain of stages and its sinks, as in Kafka Streams' Topology.
 * Nothing runs until a worker (runtime/worker.ts) is given it. Types flow through the chain, so a stage
 * that reads a field the upstream schema lacks does not compile.
 */
import type { Sink } from '../connectors/sink.js';
import type { Stage } from '../schemas/stream.js';

/** The bytes of a Kafka record value; null for tombstones. */
export type RawValue = Buffer | null;

export interface SourceSpec {
  readonly topic: string;
  /** Where a new consumer group starts; Kafka Streams' default is the earliest offset. */
  readonly fromBeginning: boolean;
}

export interface TopologyOptions {
  /** Consumer group id; defaults to the topology name. */
  readonly groupId?: string;
  readonly description?: string;
}

export interface Topology {
  readonly name: string;
  readonly options: TopologyOptions;
  readonly source: SourceSpec;
  // The chain's types were checked when it was built; at run time stages are composed untyped.
  readonly stages: readonly Stage<unknown, unknown>[];
  readonly sinks: readonly Sink<unknown>[];
  /**
   * Closes what the topology's stages use beyond its sinks (clients, listeners, scorers): the worker that
   * runs it calls this once it has stopped (see withResources).
   */
  readonly closeResources?: () => Promise<void>;
}

/**
 * The topology, owning resources its builder opened for its stages, which the worker running it closes
 * once it has stopped (after the last commit, when no stage can use them any more). Such a topology is
 * run by one worker: each `sluice run` and each stream thread builds its own.
 */
export function withResources(t: Topology, closeResources: () => Promise<void>): Topology {
  const previous = t.closeResources;
  return Object.freeze({
    ...t,
    closeResources: async () => {
      await closeResources();
      await previous?.();
    },
  });
}

export class TopologyError extends Error {
  override readonly name = 'TopologyError';
}

const NAME = /^[a-z][a-z0-9-]{1,62}$/;

export function kafkaSource(topic: string, options: { fromBeginning?: boolean } = {}): SourceSpec {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) {
    throw new TopologyError(`"${topic}" is not a valid Kafka topic name (letters, digits, . _ - only)`);
  }
  return { topic, fromBeginning: options.fromBeginning ?? true };
}

export class TopologyBuilder<T> {
  constructor(
    private readonly name: string,
    private readonly options: TopologyOptions,
    private readonly source: SourceSpec,
    private readonly stages: readonly Stage<unknown, unknown>[],
  ) {}

  pipe<A>(s1: Stage<T, A>): TopologyBuilder<A>;
  pipe<A, B>(s1: Stage<T, A>, s2: Stage<A, B>): TopologyBuilder<B>;
  pipe<A, B, C>(s1: Stage<T, A>, s2: Stage<A, B>, s3: Stage<B, C>): TopologyBuilder<C>;
  pipe<A, B, C, D>(s1: Stage<T, A>, s2: Stage<A, B>, s3: Stage<B, C>, s4: Stage<C, D>): TopologyBuilder<D>;
  pipe<A, B, C, D, E>(
    s1: Stage<T, A>,
    s2: Stage<A, B>,
    s3: Stage<B, C>,
    s4: Stage<C, D>,
    s5: Stage<D, E>,
  ): TopologyBuilder<E>;
  pipe<A, B, C, D, E, F>(
    s1: Stage<T, A>,
    s2: Stage<A, B>,
    s3: Stage<B, C>,
    s4: Stage<C, D>,
    s5: Stage<D, E>,
    s6: Stage<E, F>,
  ): TopologyBuilder<F>;
  pipe(...stages: Stage<never, unknown>[]): TopologyBuilder<unknown> {
    return new TopologyBuilder(this.name, this.options, this.source, [
      ...this.stages,
      ...(stages as unknown as Stage<unknown, unknown>[]),
    ]);
  }

  to(...sinks: Sink<T>[]): Topology {
    if (sinks.length === 0) throw new TopologyError(`topology ${this.name} needs at least one sink`);
    const names = sinks.map((s) => s.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new TopologyError(`topology ${this.name} lists sink ${dup} twice`);
    return Object.freeze({
      name: this.name,
      options: this.options,
      source: this.source,
      stages: this.stages,
      sinks: sinks as unknown as Sink<unknown>[],
    });
  }
}

export function topology(name: string, options: TopologyOptions = {}) {
  if (!NAME.test(name)) {
    throw new TopologyError(
      `topology name "${name}" must be lowercase letters, digits and dashes, starting with a letter (it names topics and a consumer group)`,
    );
  }
  return {
    from(source: SourceSpec): TopologyBuilder<RawValue> {
      return new TopologyBuilder<RawValue>(name, options, source, []);
    },
  };
}
