/** JSON errors with a stable code, so the CLI and the web page can react per case. */
import type { FastifyError, FastifyInstance } from 'fastify';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly requestId: string;
  readonly details?: unknown;
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    if (err instanceof HttpError) {
      const body: ErrorBody = {
        error: err.code,
        message: err.message,
        requestId: req.id,
        details: err.details,
      };
      return reply.code(err.statusCode).send(body);
    }
    if (err.validation) {
      const body: ErrorBody = {
        error: 'BAD_REQUEST',
        message: err.message,
        requestId: req.id,
        details: err.validation.map((v) => ({ path: v.instancePath, message: v.message, params: v.params })),
      };
      return reply.code(400).send(body);
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'unhandled error');
    const body: ErrorBody = {
      error: status === 500 ? 'INTERNAL' : (err.code ?? 'BAD_REQUEST'),
      // Internal messages may carry hostnames or SQL; the request id finds them in the log instead.
      message: status === 500 ? 'Internal error; see the service log for this request id' : err.message,
      requestId: req.id,
    };
    return reply.code(status).send(body);
  });

  app.setNotFoundHandler((req, reply) => {
    const body: ErrorBody = {
      error: 'NOT_FOUND',
      message: `No route ${req.method} ${req.url.split('?')[0]}`,
      requestId: req.id,
    };
    return reply.code(404).send(body);
  });
}
