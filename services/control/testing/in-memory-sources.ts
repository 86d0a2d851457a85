/**
 * In-memory sources for tests only (main.ts never uses them): fixed drift series, experiment reports,
 * topologies and a stage changer that keeps stages in a map with the registry's champion rules.
 */
import type { ModelStage } from '../../../connectors/model-registry/model-metadata.js';
import { ModelRegistryError } from '../../../connectors/model-registry/registry-errors.js';
import type { AlertRecord } from '../../../schemas/index.js';
import {
  NotFoundError,
  type AlertFeed,
  type DriftSeries,
  type DriftSource,
  type ExperimentReport,
  type ExperimentReportSource,
  type HealthProbe,
  type LagReader,
  type ModelStageChanger,
  type PartitionLag,
  type ServiceHealth,
  type StagedModel,
  type ThroughputSource,
  type TopologyInfo,
  type TopologyProvider,
} from '../sources.js';

export function inMemoryDrift(byModel: Record<string, readonly DriftSeries[]>): DriftSource {
  return {
    async series({ model, from, to }) {
      return (byModel[model] ?? []).map((s) => ({
        ...s,
        points: s.points.filter((p) => p.windowStart >= from && p.windowStart < to),
      }));
    },
  };
}

export function inMemoryReports(reports: readonly ExperimentReport[]): ExperimentReportSource {
  return { report: async (name) => reports.find((r) => r.experiment === name) };
}

export const inMemoryTopologies = (list: readonly TopologyInfo[]): TopologyProvider => ({
  list: async () => list,
});

export function inMemoryLag(byGroup: Record<string, readonly PartitionLag[]>): LagReader {
  return {
    async lag(groupId) {
      const lag = byGroup[groupId];
      if (!lag) throw new Error(`group ${groupId} unknown`);
      return lag;
    },
  };
}

export const fixedThroughput = (rates: Record<string, number>): ThroughputSource => ({
  recordsPerSecond: async (topology) => rates[topology] ?? null,
});

export const fixedHealth = (services: readonly ServiceHealth[]): HealthProbe => ({
  check: async () => services,
});

/** Stages in a map; promoting to champion archives the old one and remembers it for rollback. */
export class InMemoryStageChanger implements ModelStageChanger {
  readonly stages = new Map<string, ModelStage>();
  private readonly replaced = new Map<string, string[]>();

  constructor(initial: Record<string, ModelStage> = {}) {
    for (const [key, stage] of Object.entries(initial)) this.stages.set(key, stage);
  }

  private champion(name: string): string | undefined {
    for (const [key, stage] of this.stages)
      if (stage === 'champion' && key.startsWith(`${name}@`)) return key;
    return undefined;
  }

  async setStage(name: string, version: string, stage: ModelStage): Promise<StagedModel> {
    const key = `${name}@${version}`;
    if (!this.stages.has(key)) throw new NotFoundError(`model ${key} is not registered`);
    const old = this.champion(name);
    if (stage === 'champion' && old && old !== key) {
      this.stages.set(old, 'archived');
      this.replaced.set(name, [...(this.replaced.get(name) ?? []), old]);
    }
    this.stages.set(key, stage);
    return { name, version, stage };
  }

  async rollback(name: string): Promise<StagedModel> {
    const previous = this.replaced.get(name)?.pop();
    const current = this.champion(name);
    if (!previous || !current)
      throw new ModelRegistryError(
        'NO_PREVIOUS_CHAMPION',
        `model ${name} has no earlier champion to roll back to`,
      );
    this.stages.set(current, 'archived');
    this.stages.set(previous, 'champion');
    return { name, version: previous.slice(name.length + 1), stage: 'champion' };
  }
}

export const inMemoryAlerts = (alerts: readonly AlertRecord[]): AlertFeed => ({
  recent: async (limit) => [...alerts].sort((a, b) => b.ts - a.ts).slice(0, limit),
});
