/**
 * Builds the registry: fastify app + service + log. Used by main.ts and by tests (in-process, any port).
 * The HTTP server listens first and answers /healthz with 503 until the log has been read to its end.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyError } from 'fastify';
import type { Logger } from 'pino';
import { isAuthorized, type Credentials } from './basic-auth.js';
import { ErrorCode, RegistryError } from './errors.js';
import { notReady, RegistryService } from './registry-service.js';
import { registerRoutes } from './routes.js';
import type { SchemaLog } from './schema-log.js';

export const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const ACCEPTED_JSON_TYPES = [CONTENT_TYPE, 'application/vnd.schemaregistry+json', 'application/json'];

export interface RegistryServerOptions {
  readonly log: SchemaLog;
  readonly logger: Logger;
  /** When set, every route except /healthz needs HTTP basic auth with one of these. */
  readonly credentials?: Credentials;
}

export interface RegistryServer {
  readonly app: FastifyInstance;
  readonly service: RegistryService;
  /** Listens, then loads the log; resolves with the base URL once ready. */
  start(port: number, host?: string): Promise<string>;
  stop(): Promise<void>;
}

const isHealth = (url: string) => url === '/healthz' || url.startsWith('/healthz?');

export function createRegistryServer(options: RegistryServerOptions): RegistryServer {
  const { logger, credentials } = options;
  const service = new RegistryService(options.log, logger);
  const app = Fastify({
    // Per-request logs are info level; keep only warnings and errors from the HTTP layer.
    loggerInstance: logger.child({ component: 'registry-http' }, { level: 'warn' }) as FastifyBaseLogger,
  });

  // Clients send JSON under the vnd type, and some (axios on DELETE) a JSON content type with no body.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(ACCEPTED_JSON_TYPES, { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new RegistryError(ErrorCode.BAD_REQUEST, `Request body is not JSON: ${(err as Error).message}`));
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    if (isHealth(req.url)) return;
    if (credentials && !isAuthorized(req.headers.authorization, credentials)) {
      reply.header('www-authenticate', 'Basic realm="sluice-schema-registry"');
      throw new RegistryError(
        ErrorCode.UNAUTHORIZED,
        'Unauthorized: valid basic auth credentials are required',
      );
    }
    if (!service.ready) throw notReady();
  });

  app.addHook('onSend', async (req, reply, payload) => {
    if (!isHealth(req.url) && reply.getHeader('content-type')?.toString().startsWith('application/json')) {
      reply.header('content-type', CONTENT_TYPE);
    }
    return payload;
  });

  app.setErrorHandler((err: FastifyError | RegistryError, req, reply) => {
    if (err instanceof RegistryError) {
      return reply.code(err.status).type(CONTENT_TYPE).send(err.toBody());
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'unhandled registry error');
    const message = status === 500 ? 'Internal Server Error' : err.message;
    return reply
      .code(status)
      .type(CONTENT_TYPE)
      .send({ error_code: status === 500 ? 50001 : status, message });
  });

  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .type(CONTENT_TYPE)
      .send({ error_code: 404, message: `No route ${req.method} ${req.url}` }),
  );

  app.get('/healthz', async (_req, reply) =>
    service.ready ? { status: 'ok' } : reply.code(503).send({ status: 'loading' }),
  );
  registerRoutes(app, service);

  return {
    app,
    service,
    async start(port: number, host = '127.0.0.1'): Promise<string> {
      await app.listen({ port, host });
      await service.start();
      const address = app.server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      return `http://${host}:${actualPort}`;
    },
    async stop(): Promise<void> {
      await app.close();
      await service.close();
    },
  };
}
