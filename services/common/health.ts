/**
 * /healthz says the process is alive (no dependencies checked, so an orchestrator does not restart a
 * healthy process because Kafka is down); /readyz runs the registered checks and answers 503 naming the
 * ones that fail, so traffic is held back until the service can serve it. Both are public.
 */
import type { FastifyInstance } from 'fastify';

/** A readiness check resolves when ready and throws (with a reason) when not. */
export type ReadinessCheck = () => Promise<void>;

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly ms: number;
}

export class ReadinessChecks {
  private readonly checks = new Map<string, ReadinessCheck>();

  constructor(private readonly timeoutMs = 2000) {}

  add(name: string, check: ReadinessCheck): void {
    if (this.checks.has(name)) throw new Error(`readiness check "${name}" is already registered`);
    this.checks.set(name, check);
  }

  /** Runs all checks concurrently, each bounded by the timeout so a hung dependency cannot hang /readyz. */
  async run(): Promise<CheckResult[]> {
    return Promise.all(
      [...this.checks].map(async ([name, check]): Promise<CheckResult> => {
        const started = performance.now();
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise<never>((_, reject) => {
              timer = setTimeout(
                () => reject(new Error(`timed out after ${this.timeoutMs} ms`)),
                this.timeoutMs,
              );
            }),
          ]);
          return { name, ok: true, ms: Math.round(performance.now() - started) };
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          return { name, ok: false, error, ms: Math.round(performance.now() - started) };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }
}

const checkResultSchema = {
  type: 'object',
  required: ['name', 'ok', 'ms'],
  properties: {
    name: { type: 'string' },
    ok: { type: 'boolean' },
    error: { type: 'string' },
    ms: { type: 'number' },
  },
} as const;

export function registerHealthRoutes(app: FastifyInstance, checks: ReadinessChecks, service: string): void {
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        summary: 'Liveness: the process is up',
        tags: ['health'],
        response: {
          200: {
            type: 'object',
            required: ['status', 'service'],
            properties: { status: { const: 'ok' }, service: { type: 'string' } },
          },
        },
      },
    },
    async () => ({ status: 'ok' as const, service }),
  );

  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        summary: 'Readiness: every registered dependency check passes',
        tags: ['health'],
        response: {
          '2xx': {
            type: 'object',
            required: ['status', 'checks'],
            properties: { status: { const: 'ready' }, checks: { type: 'array', items: checkResultSchema } },
          },
          503: {
            type: 'object',
            required: ['status', 'failing', 'checks'],
            properties: {
              status: { const: 'not-ready' },
              failing: { type: 'array', items: { type: 'string' } },
              checks: { type: 'array', items: checkResultSchema },
            },
          },
        },
      },
    },
    async (_req, reply) => {
      const results = await checks.run();
      const failing = results.filter((r) => !r.ok).map((r) => r.name);
      if (failing.length > 0) return reply.code(503).send({ status: 'not-ready', failing, checks: results });
      return { status: 'ready' as const, checks: results };
    },
  );
}
