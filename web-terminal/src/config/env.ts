// Small zod builders for environment variables: every value arrives as a string.
import { z } from 'zod';

export const intVar = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

export const boolVar = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const listVar = () =>
  z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));

export const optionalString = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/** One line per problem with a variable, e.g. `PORT: expected a number between 1 and 65535 (got "abc")`. */
export function describeIssue(name: string, issue: { message: string }, got: string | undefined): string {
  const shown = got === undefined ? '' : ` (got ${JSON.stringify(got.length > 80 ? `${got.slice(0, 80)}…` : got)})`;
  return `${name}: ${issue.message}${shown}`;
}
