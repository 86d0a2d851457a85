/**
 * What the control API reads and changes, as interfaces injected at startup. The API never knows whether
 * drift comes from ClickHouse, a test fixture or elsewhere; main.ts wires the real implementations.
 */
import type { ModelStage } from '../../connectors/model-registry/model-metadata.js';
import type { ExperimentConfig, ExperimentDraft } from '../../connectors/experiments/experiment-config.js';
import type { AlertRecord } from '../../schemas/index.js';

/** A topology the control plane reports on: its consumer group and source topics. */
export interface TopologyInfo {
  readonly name: string;
  readonly groupId: string;
  readonly topics: readonly string[];
}

export interface TopologyProvider {
  list(): Promise<readonly TopologyInfo[]>;
}

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** Committed offset of the group, or null when the group has never committed on this partition. */
  readonly committed: string | null;
  /** High watermark (next offset to be written). */
  readonly end: string;
  readonly lag: number;
}

export interface LagReader {
  lag(groupId: string, topics: readonly string[]): Promise<readonly PartitionLag[]>;
}

export interface ThroughputSource {
  /** Records per second the topology consumed recently; null when unknown (e.g. not in this process). */
  recordsPerSecond(topology: string): Promise<number | null>;
}

export interface ServiceHealth {
  readonly name: string;
  readonly url: string;
  readonly status: 'ok' | 'down';
  readonly latencyMs: number | null;
  readonly error?: string;
}

export interface HealthProbe {
  check(): Promise<readonly ServiceHealth[]>;
}

export interface DriftQuery {
  readonly model: string;
  /** Window starts in [from, to), epoch ms. */
  readonly from: number;
  readonly to: number;
  /** One model version; without it, the versions active in the latest window of the range. */
  readonly version?: string;
}

export interface DriftPoint {
  /** Window start, epoch ms. */
  readonly windowStart: number;
  readonly value: number;
  readonly sampleSize: number;
  readonly breached: boolean;
}

/** One feature's metric (or the prediction's, with feature `prediction`) over time. */
export interface DriftSeries {
  readonly feature: string;
  /** psi | ks | js | chi2 | missing_rate | ... */
  readonly metric: string;
  readonly threshold: number;
  readonly points: readonly DriftPoint[];
}

export interface DriftSource {
  series(query: DriftQuery): Promise<readonly DriftSeries[]>;
}

export interface ConfidenceInterval {
  readonly low: number;
  readonly high: number;
}

export interface VariantResult {
  readonly variant: string;
  /** Labelled predictions evaluated. */
  readonly n: number;
  readonly auc: number | null;
  readonly logLoss: number | null;
  readonly precisionAtK: number | null;
  /** Confidence interval of the AUC at `ExperimentReport.confidence`. */
  readonly aucCi: ConfidenceInterval | null;
}

export interface ExperimentReport {
  readonly experiment: string;
  /** The k of precision@k. */
  readonly k: number;
  /** Confidence level of the intervals, e.g. 0.95. */
  readonly confidence: number;
  readonly generatedAt: number;
  readonly variants: readonly VariantResult[];
}

export interface ExperimentReportSource {
  /** The report, or undefined when no such experiment exists. */
  report(name: string): Promise<ExperimentReport | undefined>;
}

export interface StagedModel {
  readonly name: string;
  readonly version: string;
  readonly stage: ModelStage;
}

/** Stage changes; connectors/model-registry's FileModelRegistry satisfies this as is. */
export interface ModelStageChanger {
  setStage(name: string, version: string, stage: ModelStage, reason?: string): Promise<StagedModel>;
  /** Restores the champion the current one replaced, and returns it. */
  rollback(name: string, reason?: string): Promise<StagedModel>;
}

/** Thrown by a source that is not wired up in this deployment; the API answers 503 with the message. */
export class SourceUnavailableError extends Error {}

/** Thrown by a source for a name it does not know; the API answers 404. */
export class NotFoundError extends Error {}

/** Versioned experiment configs (FileExperimentStore implements it): read, and save a new version. */
export interface ExperimentConfigStore {
  names(): Promise<string[]>;
  versions(name: string): Promise<number[]>;
  get(name: string, version?: number): Promise<ExperimentConfig>;
  save(draft: ExperimentDraft): Promise<ExperimentConfig>;
}

/** One entity's online features as the serving API returns them; `found: false` has no row (or expired). */
export interface OnlineFeatureRow {
  readonly entity: string;
  readonly found: boolean;
  readonly values: Readonly<Record<string, number>> | null;
  /** Event time (epoch ms) of the row; null when not found. */
  readonly version: number | null;
  /** now - version, ms: how stale the row is; null when not found. */
  readonly ageMs: number | null;
}

/** Online feature reads for applications scoring outside Kafka (the serving API). */
export interface OnlineFeatureSource {
  /** Rows in the order of `entities`; NotFoundError for a view this deployment does not define. */
  read(view: string, entities: readonly string[]): Promise<readonly OnlineFeatureRow[]>;
}

/** The alerts raised lately, newest first: what on-call was (or should have been) paged about. */
export interface AlertFeed {
  recent(limit: number): Promise<readonly AlertRecord[]>;
}
