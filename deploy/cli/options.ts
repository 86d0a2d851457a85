/** Option parsers shared by the command groups, so every command rejects bad values the same way. */
import { InvalidArgumentError } from 'commander';

export const positiveInteger = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
};
