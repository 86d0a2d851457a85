/** The three roles every Sluice API checks, ordered: a higher role can do everything a lower one can. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

/** True when `held` is at least `required` in viewer < operator < admin. */
export const hasRole = (held: Role, required: Role): boolean =>
  ROLES.indexOf(held) >= ROLES.indexOf(required);
