/**
 * The fastify app every Sluice service starts from: pino logging with request ids, bearer-token roles,
 * JSON errors, /healthz, /readyz, /metrics, /openapi.json and the audit log. A service adds its routes to
 * the returned instance; each must declare `config: { role }` and should declare a JSON schema.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AuditLog, auditLogPath } from './audit-log.js';
import { installAuth } from './auth.js';
import { ReadinessChecks, registerHealthRoutes, type ReadinessCheck } from './health.js';
import { installErrorHandlers } from './http-errors.js';
import { installMetrics } from './metrics.js';
import { installOpenApi } from './openapi.js';
import { genRequestId } from './request-id.js';
import { loadAuthConfig, type AuthConfig } from './tokens.js';

declare module 'fastify' {
  interface FastifyInstance {
    readonly audit: AuditLog;
    readonly metricsRegistry: Registry;
    addReadinessCheck(name: string, check: ReadinessCheck): void;
  }
}

export interface ServiceOptions {
  /** Short service name: logs, metrics labels and the OpenAPI title. */
  readonly name: string;
  readonly version?: string;
  readonly description?: string;
  /** Token configuration; defaults to loadAuthConfig(process.env), which throws if none is configured. */
  readonly tokens?: AuthConfig;
  readonly logger?: Logger;
  /** Audit log file; defaults to SLUICE_AUDIT_LOG or .state/audit.log. */
  readonly auditLogPath?: string;
  readonly defaultMetrics?: boolean;
  readonly extraMetricsRegistries?: readonly Registry[];
  readonly readinessTimeoutMs?: number;
  /** Largest accepted request body; small by default since the APIs take small JSON bodies. */
  readonly bodyLimit?: number;
}

export async function createService(options: ServiceOptions): Promise<FastifyInstance> {
  // Auth config first: a service without tokens must refuse to start before it opens anything.
  const tokens = options.tokens ?? loadAuthConfig();
  const logger = (options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' })).child({
    service: options.name,
  });
  const audit = await AuditLog.open(options.auditLogPath ?? auditLogPath());

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    genReqId: genRequestId,
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    // Reject unknown JSON properties instead of silently dropping them, so typos in CLI calls surface.
    ajv: { customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array' } },
  });
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  installErrorHandlers(app);
  installAuth(app, tokens, logger);
  await installOpenApi(app, {
    title: `sluice ${options.name}`,
    version: options.version ?? '0.1.0',
    ...(options.description ? { description: options.description } : {}),
  });

  const checks = new ReadinessChecks(options.readinessTimeoutMs);
  app.decorate('audit', audit);
  app.decorate('addReadinessCheck', (name: string, check: ReadinessCheck) => checks.add(name, check));
  registerHealthRoutes(app, checks, options.name);
  const registry = installMetrics(app, options.name, {
    defaultMetrics: options.defaultMetrics ?? false,
    extraRegistries: options.extraMetricsRegistries ?? [],
  });
  app.decorate('metricsRegistry', registry);
  return app;
}
