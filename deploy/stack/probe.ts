/** Small helpers shared by the service probes: is a port open, bounded waits. */
import net from 'node:net';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export function hostPortOfUrl(url: string): HostPort {
  const u = new URL(url);
  const defaults: Record<string, number> = { 'http:': 80, 'https:': 443, 'redis:': 6379, 'rediss:': 6379 };
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : (defaults[u.protocol] ?? 0),
  };
}

export function hostPortOfBroker(broker: string): HostPort {
  const i = broker.lastIndexOf(':');
  return { host: broker.slice(0, i), port: Number(broker.slice(i + 1)) };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** True when something accepts TCP connections there (whatever it is). */
export function portOpen({ host, port }: HostPort, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function withTimeout<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Log lines are one line each: squeeze whatever a foreign server answered into a short single line. */
export function oneLine(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

export function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return errorText(err.errors[0]);
  // fetch() hides the useful part (ECONNREFUSED, ...) in `cause`.
  if (err instanceof Error && err.message === 'fetch failed' && err.cause) return errorText(err.cause);
  if (err instanceof Error) return err.message || (err as NodeJS.ErrnoException).code || err.name;
  return String(err);
}

/** Why the stack must use a service rather than start it: named by its env var, or on another host. */
export function externalReason(namedByEnv: boolean, envVar: string, host: string): string | undefined {
  if (namedByEnv) return envVar;
  return isLoopback(host) ? undefined : `${host} is not this machine`;
}
