/** Point-in-time training sets from the offline feature store. */
export {
  buildTrainingSet,
  type LabelSource,
  type TrainingSetOptions,
  type TrainingSetResult,
} from './build-training-set.js';
export {
  pointInTimeSql,
  type FeatureTimeGuard,
  type PointInTimeQuery,
  type ViewTable,
} from './point-in-time-sql.js';
export {
  DEFAULT_LABEL_COLUMNS,
  LabelInputError,
  parseLabelsCsv,
  readLabelsFile,
  type LabelColumns,
  type LabelEvent,
} from './labels.js';
