/**
 * Bearer-token auth with roles. Every route must declare `config: { role }` (or `config: { public: true }`
 * for health checks and static shells); a route that declares neither is refused when it is registered, so
 * forgetting auth fails the build of the app instead of opening an endpoint.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { HttpError } from './http-errors.js';
import { hasRole, isRole, ROLES, type Role } from './roles.js';
import { bearerToken, createTokenVerifier, type Principal } from './token-verifier.js';
import type { AuthConfig } from './tokens.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Minimum role for this route. */
    role?: Role;
    /** No token needed (health checks, the web page's static shell). */
    public?: boolean;
  }
  interface FastifyRequest {
    /** Who called; set by the auth hook on every non-public route. */
    principal?: Principal;
  }
}

export class RouteWithoutRoleError extends Error {}

export const INSECURE_PRINCIPAL: Principal = { name: 'insecure-no-auth', role: 'admin' };

/** The caller of a non-public route; throws if used on a public one (a programming error). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new Error(`no principal on ${req.method} ${req.url}: is the route public?`);
  return req.principal;
}

export function installAuth(app: FastifyInstance, config: AuthConfig, logger: Logger): void {
  if (config.mode === 'insecure-no-auth') {
    logger.warn(
      '!!! SLUICE_INSECURE_NO_AUTH=1: authentication is DISABLED and every caller is admin. ' +
        'Never run like this outside a throwaway local machine; set SLUICE_TOKENS_FILE instead. !!!',
    );
  }
  const verify = config.mode === 'tokens' ? createTokenVerifier(config.tokens) : () => INSECURE_PRINCIPAL;

  app.addHook('onRoute', (route) => {
    const { role, public: isPublic } = route.config ?? {};
    if (isPublic === true) return;
    if (role === undefined || !isRole(role)) {
      const methods = Array.isArray(route.method) ? route.method.join(',') : route.method;
      throw new RouteWithoutRoleError(
        `route ${methods} ${route.url} declares no role; add config: { role: '${ROLES.join("' | '")}' } ` +
          '(or config: { public: true } for an endpoint that needs no token)',
      );
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    if (req.is404) return;
    const { role, public: isPublic } = req.routeOptions.config;
    if (isPublic === true) return;
    const token = config.mode === 'tokens' ? bearerToken(req.headers.authorization) : '';
    const principal = token === undefined ? undefined : verify(token);
    if (!principal) {
      reply.header('www-authenticate', 'Bearer realm="sluice"');
      throw new HttpError(
        401,
        'UNAUTHORIZED',
        token === undefined
          ? 'Missing bearer token: send Authorization: Bearer <token>'
          : 'Invalid bearer token',
      );
    }
    // onRoute guarantees a role; the fallback keeps this fail-closed if that ever changes.
    const required: Role = role ?? 'admin';
    if (!hasRole(principal.role, required)) {
      throw new HttpError(
        403,
        'FORBIDDEN',
        `This endpoint needs role ${required}; token "${principal.name}" has role ${principal.role}`,
      );
    }
    req.principal = principal;
    req.log = req.log.child({ actor: principal.name });
  });
}
