import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ANSWER_BYTES, checkAnswer, hashAnswer, normaliseAnswer } from '../../src/courses/answer-check.ts';

test('normalisation trims, lowercases and collapses whitespace', () => {
  assert.equal(normaliseAnswer('  Multi-Head\n\t  Attention  '), 'multi-head attention');
  assert.equal(hashAnswer('Scaled  dot-product'), hashAnswer('scaled dot-product'));
  assert.equal(hashAnswer('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('exact checks compare the hash of the normalised answer', () => {
  const check = { type: 'exact' as const, sha256: hashAnswer('sqrt(d_k)') };
  assert.equal(checkAnswer(check, 'SQRT(d_k)'), true);
  assert.equal(checkAnswer(check, ' sqrt(d_k) \n'), true);
  assert.equal(checkAnswer(check, 'sqrt(dk)'), false);
  assert.equal(checkAnswer(check, ''), false);
});

test('pattern checks match the trimmed answer and honour flags', () => {
  const caseless = { type: 'pattern' as const, pattern: '^(8|eight)$', flags: 'i' };
  assert.equal(checkAnswer(caseless, ' EIGHT '), true);
  assert.equal(checkAnswer(caseless, '8'), true);
  assert.equal(checkAnswer(caseless, '88'), false);
  const cased = { type: 'pattern' as const, pattern: '^Q K V$' };
  assert.equal(checkAnswer(cased, 'Q   K\nV'), true);
  assert.equal(checkAnswer(cased, 'q k v'), false);
});

test('answers over the size cap are refused without hashing or matching', () => {
  const any = { type: 'pattern' as const, pattern: '.*' };
  assert.equal(checkAnswer(any, 'x'.repeat(MAX_ANSWER_BYTES)), true);
  assert.equal(checkAnswer(any, 'x'.repeat(MAX_ANSWER_BYTES + 1)), false);
  assert.equal(checkAnswer(any, 'é'.repeat(MAX_ANSWER_BYTES / 2 + 1)), false);
});
