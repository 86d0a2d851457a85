/**
 * The status document behind GET /api/status and the web page's live view: each topology's lag per
 * partition and throughput, and the other services' health. A failing part is reported in place (with its
 * error) instead of failing the whole document, so one unreachable broker does not blank the page.
 */
import type {
  HealthProbe,
  LagReader,
  PartitionLag,
  ServiceHealth,
  ThroughputSource,
  TopologyProvider,
} from './sources.js';

export interface TopologyStatus {
  readonly name: string;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly lag: { readonly total: number; readonly partitions: readonly PartitionLag[] } | null;
  readonly lagError?: string;
  readonly recordsPerSecond: number | null;
}

export interface StatusDocument {
  readonly at: number;
  readonly topologies: readonly TopologyStatus[];
  readonly services: readonly ServiceHealth[];
}

export interface StatusDeps {
  readonly topologies: TopologyProvider;
  readonly lag: LagReader;
  readonly throughput: ThroughputSource;
  readonly health: HealthProbe;
  /** Bound on each Kafka lag read; the page polls every 2 s. */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export async function readStatus(deps: StatusDeps): Promise<StatusDocument> {
  const timeoutMs = deps.timeoutMs ?? 1500;
  const [list, services] = await Promise.all([deps.topologies.list(), deps.health.check()]);
  const topologies = await Promise.all(
    list.map(async (t): Promise<TopologyStatus> => {
      const base = { name: t.name, groupId: t.groupId, topics: t.topics };
      const recordsPerSecond = await deps.throughput.recordsPerSecond(t.name).catch(() => null);
      try {
        const partitions = await withTimeout(deps.lag.lag(t.groupId, t.topics), timeoutMs, 'reading lag');
        const total = partitions.reduce((sum, p) => sum + p.lag, 0);
        return { ...base, lag: { total, partitions }, recordsPerSecond };
      } catch (err) {
        return { ...base, lag: null, lagError: message(err), recordsPerSecond };
      }
    }),
  );
  return { at: (deps.now ?? Date.now)(), topologies, services };
}
