/**
 * The control service: the API behind the CLI plus the web page, on the shared scaffolding (tokens and
 * roles, health, metrics, OpenAPI, audit log). Built from injected sources so tests and deployments choose
 * the backing stores.
 */
import type { FastifyInstance } from 'fastify';
import { createService, type ServiceOptions } from '../common/index.js';
import {
  registerDriftRoutes,
  registerExperimentRoutes,
  registerStatusRoutes,
  registerWhoAmIRoute,
} from './api-routes.js';
import { registerAlertRoutes } from './alert-routes.js';
import { registerFeatureRoutes } from './feature-routes.js';
import { registerModelRoutes } from './model-routes.js';
import { registerExperimentConfigRoutes } from './experiment-config-routes.js';
import type {
  AlertFeed,
  DriftSource,
  ExperimentConfigStore,
  ExperimentReportSource,
  ModelStageChanger,
  OnlineFeatureSource,
} from './sources.js';
import {
  unconfiguredAlertFeed,
  unconfiguredExperimentConfigs,
  unconfiguredFeatureSource,
} from './unconfigured-sources.js';
import type { StatusDeps } from './status.js';
import { registerWebRoutes } from './web-routes.js';

export interface ControlDeps {
  readonly status: StatusDeps;
  readonly drift: DriftSource;
  readonly experiments: ExperimentReportSource;
  readonly models: ModelStageChanger;
  /** Versioned experiment configs; without it the routes answer 503. */
  readonly experimentConfigs?: ExperimentConfigStore;
  /** Online feature rows for the serving API; without it the lookup answers 503. */
  readonly features?: OnlineFeatureSource;
  /** The latest alerts for the page; without it /api/alerts answers 503. */
  readonly alerts?: AlertFeed;
}

export async function createControlService(
  deps: ControlDeps,
  options: Omit<ServiceOptions, 'name'> = {},
): Promise<FastifyInstance> {
  const app = await createService({
    name: 'control',
    description: 'Sluice control plane: status, drift, experiments, model lifecycle and online features',
    ...options,
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });
  registerWhoAmIRoute(app);
  registerStatusRoutes(app, deps.status);
  registerDriftRoutes(app, deps.drift);
  registerExperimentRoutes(app, deps.experiments);
  registerExperimentConfigRoutes(app, deps.experimentConfigs ?? unconfiguredExperimentConfigs);
  registerModelRoutes(app, deps.models);
  registerFeatureRoutes(app, deps.features ?? unconfiguredFeatureSource);
  registerAlertRoutes(app, deps.alerts ?? unconfiguredAlertFeed);
  registerWebRoutes(app);
  return app;
}
