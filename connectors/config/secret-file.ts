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

/**
 * The password in `<name>_FILE` (a mounted Secret) or in `<name>`, undefined when neither is set. Both at
 * once is refused: two sources of one secret would leave an operator guessing which one is used.
 */
export function passwordFromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const fileVariable = `${name}_FILE`;
  const file = env[fileVariable];
  if (!file) return env[name];
  if (env[name]) throw new ConfigError(`set ${fileVariable} or ${name}, not both`);
  return readPasswordFile(fileVariable, file);
}
