/**
 * Secrets come from files (mounted Kubernetes Secrets, Docker secrets) or the environment, never from code
 * or config maps. An unreadable file fails the process at start, naming the variable to fix.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';

/** The whole file, e.g. a PEM bundle. */
export function readSecretFile(variable: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(`${variable}=${file} cannot be read (${code}); point it at a readable file`);
  }
}

/** A password file: a trailing newline from `echo secret > file` is not part of the password. */
export const readPasswordFile = (variable: string, file: string): string =>
  readSecretFile(variable, file).replace(/\r?\n$/, '');
