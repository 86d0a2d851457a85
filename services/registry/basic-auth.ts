/**
 * Optional HTTP basic auth. Credentials come only from a file named by the environment (one `user:password`
 * per line; blank lines and `#` comments ignored), never from code or command-line arguments.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../connectors/config/endpoints.js';

export type Credentials = ReadonlyMap<string, string>;

export function parseCredentials(text: string, source: string): Credentials {
  const creds = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0 || colon === line.length - 1) {
      throw new ConfigError(`${source} line ${i + 1} must be user:password (both non-empty)`);
    }
    creds.set(line.slice(0, colon), line.slice(colon + 1));
  });
  if (creds.size === 0)
    throw new ConfigError(`${source} holds no user:password lines; add one or unset the variable`);
  return creds;
}

export function loadCredentialsFile(path: string): Credentials {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `SCHEMA_REGISTRY_BASIC_AUTH_FILE=${path} cannot be read (${(err as Error).message}); fix the path or unset it`,
    );
  }
  return parseCredentials(text, `SCHEMA_REGISTRY_BASIC_AUTH_FILE ${path}`);
}

const sameSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** True when an Authorization header carries basic credentials listed in `creds`. */
export function isAuthorized(header: string | undefined, creds: Credentials): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return false;
  const expected = creds.get(decoded.slice(0, colon));
  return expected !== undefined && sameSecret(decoded.slice(colon + 1), expected);
}
