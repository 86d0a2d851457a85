/** A setting the operator must fix; its message names the variable and how to fix it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
