/**
 * Routes an entity to one served variant (weighted, by its hash bucket) plus every shadow of the
 * experiment. Pure and synchronous: the same config and key give the same answer everywhere.
 */
import type { ExperimentConfig, ModelRef, VariantSpec } from '../../connectors/experiments/index.js';
import { assertExperimentConfig } from '../../connectors/experiments/index.js';
import { bucketOf } from './variant-hash.js';

export interface Route {
  readonly experiment: string;
  readonly experimentVersion: number;
  readonly served: VariantSpec;
  readonly shadows: readonly ModelRef[];
  /** The entity's bucket in [0, 1), kept for debugging a surprising assignment. */
  readonly bucket: number;
}

export interface Router {
  readonly experiment: ExperimentConfig;
  route(key: string): Route;
}

export function createRouter(experiment: ExperimentConfig): Router {
  assertExperimentConfig(experiment, `${experiment?.name}@${experiment?.version}`);
  // Upper bounds of each variant's interval; zero-weight variants get an empty interval.
  const bounds: number[] = [];
  let acc = 0;
  for (const v of experiment.variants) bounds.push((acc += v.weight));
  // The last variant with weight takes any float rounding at the top end.
  const last = experiment.variants.findLastIndex((v) => v.weight > 0);
  return {
    experiment,
    route(key) {
      const bucket = bucketOf(experiment.salt, key);
      let i = bounds.findIndex((b, j) => bucket < b && experiment.variants[j]!.weight > 0);
      if (i < 0) i = last;
      return {
        experiment: experiment.name,
        experimentVersion: experiment.version,
        served: experiment.variants[i]!,
        shadows: experiment.shadows,
        bucket,
      };
    },
  };
}
