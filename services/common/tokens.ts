/**
 * Where bearer tokens come from: only the environment (SLUICE_TOKENS) or a file it names
 * (SLUICE_TOKENS_FILE), never from code or flags, so secrets stay out of shell history and source control.
 * Format, one token per line (file) or per comma (env): `role:token[:name]`, `#` starts a comment.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../connectors/config/endpoints.js';
import { isRole, ROLES, type Role } from './roles.js';

export interface TokenEntry {
  readonly role: Role;
  /** Who holds the token; shown in logs and the audit log instead of the token itself. */
  readonly name: string;
  /** sha256 of the token: the token itself is not kept after loading. */
  readonly digest: Buffer;
}

export type AuthConfig =
  { readonly mode: 'tokens'; readonly tokens: readonly TokenEntry[] } | { readonly mode: 'insecure-no-auth' };

export class AuthConfigError extends ConfigError {}

/** Tokens shorter than this are guessable; `openssl rand -hex 32` gives 64 characters. */
export const MIN_TOKEN_LENGTH = 16;

const GENERATE_HINT = 'generate a token with `openssl rand -hex 32`';

export const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** A stable label for an unnamed token that cannot be turned back into the token. */
const fingerprint = (role: Role, digest: Buffer) => `${role}-${digest.toString('hex').slice(0, 8)}`;

/** Parses `role:token[:name]` entries; `where(i)` names the entry in error messages (never the token). */
function parseEntries(entries: readonly string[], where: (index: number) => string): TokenEntry[] {
  const parsed: TokenEntry[] = [];
  entries.forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const [role = '', token = '', name, ...extra] = line.split(':').map((part) => part.trim());
    if (!isRole(role)) {
      throw new AuthConfigError(
        `${where(index)}: role "${role}" is not one of ${ROLES.join(', ')}; write entries as role:token[:name]`,
      );
    }
    if (extra.length > 0 || token === '') {
      throw new AuthConfigError(`${where(index)}: expected role:token[:name] (tokens cannot contain ':')`);
    }
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new AuthConfigError(
        `${where(index)}: token is shorter than ${MIN_TOKEN_LENGTH} characters; ${GENERATE_HINT}`,
      );
    }
    if (name !== undefined && !/^[A-Za-z0-9._@-]{1,64}$/.test(name)) {
      throw new AuthConfigError(`${where(index)}: name "${name}" must be 1-64 of letters, digits, . _ @ -`);
    }
    const digest = sha256(token);
    parsed.push({ role, digest, name: name || fingerprint(role, digest) });
  });
  return parsed;
}

export function parseTokenFile(text: string, source = 'SLUICE_TOKENS_FILE'): TokenEntry[] {
  return parseEntries(text.split(/\r?\n/), (i) => `${source} line ${i + 1}`);
}

export function parseTokenList(text: string): TokenEntry[] {
  return parseEntries(text.split(','), (i) => `SLUICE_TOKENS entry ${i + 1}`);
}

/**
 * Reads the token configuration from the environment. Fails closed: with no tokens the service must not
 * start, unless SLUICE_INSECURE_NO_AUTH=1 says so explicitly.
 */
export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const tokens: TokenEntry[] = [];
  const file = env.SLUICE_TOKENS_FILE;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new AuthConfigError(
        `SLUICE_TOKENS_FILE=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); ` +
          'point it at a file of role:token[:name] lines',
      );
    }
    tokens.push(...parseTokenFile(text, `SLUICE_TOKENS_FILE ${file}`));
  }
  if (env.SLUICE_TOKENS) tokens.push(...parseTokenList(env.SLUICE_TOKENS));
  if (tokens.length > 0) return { mode: 'tokens', tokens };
  if (env.SLUICE_INSECURE_NO_AUTH === '1') return { mode: 'insecure-no-auth' };
  throw new AuthConfigError(
    'No API tokens are configured, so the service refuses to start. Set SLUICE_TOKENS_FILE to a file of ' +
      '`role:token[:name]` lines (roles: viewer, operator, admin), or SLUICE_TOKENS to the same entries ' +
      `separated by commas; ${GENERATE_HINT}. ` +
      '(For a throwaway local run only, SLUICE_INSECURE_NO_AUTH=1 disables auth.)',
  );
}
