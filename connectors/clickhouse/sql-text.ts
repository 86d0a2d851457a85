/**
 * Building SQL text safely without query parameters (ClickHouse 18.16 has none): identifiers are
 * validated, never quoted from untrusted input; strings are escaped as ClickHouse literals.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class SqlTextError extends Error {
  override readonly name = 'SqlTextError';
}

/** A table name, optionally `database.table`; letters, digits and underscores only. */
export function checkTableName(name: string): string {
  const parts = typeof name === 'string' ? name.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new SqlTextError(
      `table name ${JSON.stringify(name)} must be [database.]table with letters, digits and underscores only`,
    );
  }
  return name;
}

export function checkIdentifier(name: string, what = 'column'): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new SqlTextError(
      `${what} name ${JSON.stringify(name)} must use letters, digits and underscores only`,
    );
  }
  return name;
}

/** A single-quoted ClickHouse string literal. */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\0/g, '\\0')}'`;
}
