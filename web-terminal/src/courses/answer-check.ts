// Server-verified stage answers. Pure: no I/O, no clock. Checks live server-side only (course.json).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { StageCheck } from './schema.ts';

/** Largest answer accepted, in UTF-8 bytes. */
export const MAX_ANSWER_BYTES = 4096;

/** Collapses runs of whitespace and trims, so "  Multi-Head\n attention " and "Multi-Head attention" compare equal. */
export function collapseWhitespace(answer: string): string {
  return answer.trim().replace(/\s+/gu, ' ');
}

/** The normalisation behind `exact` checks: trim, collapse whitespace, lowercase (and Unicode NFC). */
export function normaliseAnswer(answer: string): string {
  return collapseWhitespace(answer.normalize('NFC')).toLowerCase();
}

/** What an author puts in course.json for an exact answer. */
export function hashAnswer(answer: string): string {
  return createHash('sha256').update(normaliseAnswer(answer), 'utf8').digest('hex');
}

/**
 * True when `answer` satisfies `check`.
 * - exact: sha256 of the normalised answer equals the stored hash (compared in constant time).
 * - pattern: the regex (with its flags) matches the trimmed, whitespace-collapsed answer; case is
 *   kept, so authors add the `i` flag for case-insensitive patterns and anchor with ^...$ when needed.
 */
export function checkAnswer(check: StageCheck, answer: string): boolean {
  if (Buffer.byteLength(answer, 'utf8') > MAX_ANSWER_BYTES) return false;
  if (check.type === 'exact') {
    const actual = Buffer.from(hashAnswer(answer), 'hex');
    const expected = Buffer.from(check.sha256, 'hex');
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
  return new RegExp(check.pattern, check.flags ?? '').test(collapseWhitespace(answer.normalize('NFC')));
}
