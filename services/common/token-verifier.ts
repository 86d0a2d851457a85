/** Checks a presented bearer token against the configured ones without leaking timing information. */
import { timingSafeEqual } from 'node:crypto';
import type { Role } from './roles.js';
import { sha256, type TokenEntry } from './tokens.js';

export interface Principal {
  readonly name: string;
  readonly role: Role;
}

/**
 * Both sides are sha256 digests, so timingSafeEqual always compares 32 bytes whatever the token length,
 * and every configured token is compared (no early exit), so the time does not reveal which one matched.
 */
export function createTokenVerifier(tokens: readonly TokenEntry[]): (token: string) => Principal | undefined {
  return (token) => {
    const presented = sha256(token);
    let match: TokenEntry | undefined;
    for (const entry of tokens) {
      if (timingSafeEqual(presented, entry.digest) && !match) match = entry;
    }
    return match && { name: match.name, role: match.role };
  };
}

/** The token from an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
