/**
 * Stand-ins for sources a deployment has not wired yet: they answer 503 with the fix instead of pretending
 * there is no data. main.ts uses them until the ClickHouse-backed sources exist.
 */
import {
  SourceUnavailableError,
  type DriftSource,
  type ExperimentConfigStore,
  type ExperimentReportSource,
  type OnlineFeatureSource,
  type AlertFeed,
  type TopologyProvider,
  type TopologyInfo,
} from './sources.js';
import { ConfigError } from '../../connectors/config/endpoints.js';

export const unconfiguredDriftSource: DriftSource = {
  series: () =>
    Promise.reject(
      new SourceUnavailableError(
        'drift series are not wired in this control service (needs the offline store)',
      ),
    ),
};

const noExperimentStore = () =>
  Promise.reject(
    new SourceUnavailableError(
      'experiment configs are not wired in this control service (needs SLUICE_EXPERIMENT_DIR)',
    ),
  );
export const unconfiguredExperimentConfigs: ExperimentConfigStore = {
  names: noExperimentStore,
  versions: noExperimentStore,
  get: noExperimentStore,
  save: noExperimentStore,
};

export const unconfiguredExperimentSource: ExperimentReportSource = {
  report: () =>
    Promise.reject(
      new SourceUnavailableError(
        'experiment reports are not wired in this control service (needs the offline store)',
      ),
    ),
};

/** Topologies from CONTROL_TOPOLOGIES, e.g. `features=features:txn.events,scoring=scoring:txn.events+x`. */
export function staticTopologies(text: string | undefined): TopologyProvider {
  const list: TopologyInfo[] = (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^([a-z][a-z0-9-]*)=([^:=\s]+):([A-Za-z0-9._+-]+)$/.exec(entry);
      if (!match) {
        throw new ConfigError(
          `CONTROL_TOPOLOGIES entry "${entry}" must be name=groupId:topic[+topic...], e.g. scoring=scoring:txn.events`,
        );
      }
      return { name: match[1]!, groupId: match[2]!, topics: match[3]!.split('+') };
    });
  return { list: async () => list };
}

export const unconfiguredFeatureSource: OnlineFeatureSource = {
  read: () =>
    Promise.reject(
      new SourceUnavailableError('online features are not wired in this control service (needs REDIS_URL)'),
    ),
};

export const unconfiguredAlertFeed: AlertFeed = {
  recent: () =>
    Promise.reject(
      new SourceUnavailableError('alerts are not wired in this control service (needs KAFKA_BROKERS)'),
    ),
};
