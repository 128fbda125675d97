import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MarkerDetector, markerText } from '../../src/courses/marker-detector.ts';
import type { Marker } from '../../src/courses/marker-detector.ts';

const ESC = '\x1b';
const stage = (n: number): Marker => ({ kind: 'stage', stage: n });
const course: Marker = { kind: 'course' };

function detectAll(chunks: (string | Buffer)[], typed: (string | Buffer)[] = []): Marker[] {
  const detector = new MarkerDetector();
  for (const t of typed) detector.noteInput(t);
  return chunks.flatMap((c) => detector.push(c));
}

/** Deterministic PRNG (mulberry32) so the fuzz cases are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Sequences a TUI emits: colours, cursor moves, erase, save/restore, charset, hyperlinks, titles, DCS.
const noise = [
  `${ESC}[0m`, `${ESC}[1;38;5;208m`, `${ESC}[38;2;10;20;30m`, `${ESC}[2C`, `${ESC}[3D`, `${ESC}[12;40H`, `${ESC}[K`, `${ESC}[2J`,
  `${ESC}[?25l`, `${ESC}[?2026h`, `${ESC}[>4;1m`, `${ESC}7`, `${ESC}8`, `${ESC}M`, `${ESC}(B`, `${ESC}]0;title [STAGE_COMPLETE:9]\x07`,
  `${ESC}]8;;https://example.org/a?b=[STAGE_COMPLETE:8]${ESC}\\`, `${ESC}P+q544e${ESC}\\`, `${ESC}_apc payload${ESC}\\`, '\r', '\n', '\b', '\x07',
];

test('finds a plain stage marker and a course marker', () => {
  assert.deepEqual(detectAll(['Well done!\r\n[STAGE_COMPLETE:2]\r\n']), [stage(2)]);
  assert.deepEqual(detectAll(['all stages done\r\n[COURSE_COMPLETE]\r\n']), [course]);
  assert.deepEqual(detectAll(['  ⏺ [STAGE_COMPLETE:10]']), [stage(10)]);
});

test('finds a marker split into two chunks at every byte position, with sequences inside it', () => {
  const stream = Buffer.from(
    `text ${ESC}[1m[STAGE_${ESC}[38;5;208mCOMPLETE${ESC}[2C:${ESC}]8;;http://x${ESC}\\4${ESC}[0m]${ESC}[K\r\nmore ⏺ ${ESC}[3D[COURSE_${ESC}7${ESC}8COMPLETE]\r\n`,
  );
  for (let cut = 0; cut <= stream.length; cut++) {
    const found = detectAll([stream.subarray(0, cut), stream.subarray(cut)]);
    assert.deepEqual(found, [stage(4), course], `split at byte ${cut}`);
  }
  assert.deepEqual(detectAll([...stream].map((b) => Buffer.from([b]))), [stage(4), course], 'one byte per chunk');
});

test('splitting a UTF-8 character around the marker does not matter', () => {
  const stream = Buffer.from('é[STAGE_COMPLETE:3]é');
  for (let a = 0; a <= stream.length; a++) {
    for (let b = a; b <= stream.length; b++) {
      assert.deepEqual(detectAll([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]), [stage(3)], `cuts ${a},${b}`);
    }
  }
});

test('reports every repetition (the progress store makes them idempotent)', () => {
  assert.deepEqual(detectAll(['[STAGE_COMPLETE:1][STAGE_COMPLETE:1]\r\n[STAGE_COMPLETE:1]']), [stage(1), stage(1), stage(1)]);
  assert.deepEqual(detectAll(['[[STAGE_COMPLETE:1]]', '[STAGE_COMPLETE:[STAGE_COMPLETE:2]']), [stage(1), stage(2)]);
});

test('ignores malformed markers and markers that are not visible text', () => {
  const malformed = [
    '[STAGE_COMPLETE:]', '[STAGE_COMPLETE:0]', '[STAGE_COMPLETE:01]', '[STAGE_COMPLETE:12345]', '[stage_complete:1]',
    '[STAGE COMPLETE:1]', '[STAGE_COMPLETE: 1]', '[STAGE_COMPLETE:1 ]', '[STAGE_COMPLETE:1é]', '[STAGE_COMPLETE:-1]',
    '[COURSE_COMPLETE', 'COURSE_COMPLETE]', '[COURSE_COMPLETE:1]', 'STAGE_COMPLETE:1]', '[STAGE_COMPLETE1]',
    `${ESC}]0;[STAGE_COMPLETE:1]\x07`, `${ESC}]2;[COURSE_COMPLETE]${ESC}\\`, `${ESC}P[STAGE_COMPLETE:1]${ESC}\\`,
    `${ESC}_[COURSE_COMPLETE]${ESC}\\`,
  ];
  for (const text of malformed) assert.deepEqual(detectAll([text]), [], JSON.stringify(text));
});

test('an interrupted escape sequence leaves the parser able to find later markers', () => {
  // CAN aborts a CSI; a stray ESC inside an OSC starts a new sequence; an unterminated OSC ends at BEL.
  assert.deepEqual(detectAll([`${ESC}[12\x18[STAGE_COMPLETE:1]`]), [stage(1)]);
  assert.deepEqual(detectAll([`${ESC}]0;title${ESC}[1m[STAGE_COMPLETE:2]`]), [stage(2)]);
  assert.deepEqual(detectAll([`${ESC}]0;${'x'.repeat(100_000)}`, '\x07[STAGE_COMPLETE:3]']), [stage(3)]);
  assert.deepEqual(detectAll([`${ESC}[${'1;'.repeat(50_000)}m[COURSE_COMPLETE]`]), [course]);
});

test('does not fire on a marker the user typed and the terminal echoes, however it is redrawn', () => {
  const detector = new MarkerDetector();
  for (const ch of '[STAGE_COMPLETE:1]') {
    detector.noteInput(ch);
    assert.deepEqual(detector.push(`${ESC}[2K${ESC}[G> ${ESC}[7m${ch}${ESC}[0m`), []);
  }
  assert.deepEqual(detector.push(`\r\n> ${ESC}[1m[STAGE_COMPLETE:1]${ESC}[0m\r\n`), [], 'full redraw of the typed line');
  assert.deepEqual(detector.push('[STAGE_COMPLETE:1]'), [], 'redraw of the transcript later on');
  assert.deepEqual(detector.push('[STAGE_COMPLETE:2]'), [stage(2)], 'other stages still complete');
  assert.equal(detector.stats().suppressed, 2, 'the char-by-char echo never showed the marker in one piece');
});

test('typed markers are recognised through line editing and pastes', () => {
  const cases: [string, (string | Buffer)[], Marker][] = [
    ['backspace', ['[STAGE_COMPLETE:12', '\x7f', ']'], stage(1)],
    ['ctrl-h', ['[STAGE_COMPLETE:3x\x08]'], stage(3)],
    ['insert after arrow left', ['[STAGE_COMPLETE2]', `${ESC}[D${ESC}[D`, ':'], stage(2)],
    ['ss3 arrows and home', ['STAGE_COMPLETE:4]', `${ESC}OH`, '['], stage(4)],
    ['ctrl-a and delete key', ['x[STAGE_COMPLETE:5]', '\x01', `${ESC}[3~`], stage(5)],
    ['ctrl-w', ['[STAGE_COMPLETE:6]oops ', '\x17'], stage(6)],
    ['bracketed paste with newlines', [`${ESC}[200~notes\r[COURSE_COMPLETE]\rmore${ESC}[201~`], course],
    ['utf-8 around it', ['ça [STAGE_COMPLETE:7] é'], stage(7)],
    ['one byte at a time', [...Buffer.from('[STAGE_COMPLETE:8]')].map((b) => Buffer.from([b])), stage(8)],
  ];
  for (const [name, typed, marker] of cases) {
    const detector = new MarkerDetector();
    for (const t of typed) detector.noteInput(t);
    assert.deepEqual(detector.push(`> ${markerText(marker)}`), [], name);
    assert.equal(detector.stats().suppressed, 1, name);
  }
});

test('typing part of a marker does not block the real one', () => {
  const detector = new MarkerDetector();
  detector.noteInput('what does [STAGE_COMPLETE:1 mean?\r');
  detector.noteInput('and [STAGE_COMPLETE:N]?\r');
  assert.deepEqual(detector.push('> what does [STAGE_COMPLETE:1 mean?\r\n'), []);
  assert.deepEqual(detector.push('You have it.\r\n[STAGE_COMPLETE:1]\r\n'), [stage(1)]);
});

test('fuzz: random text, sequences and chunking find exactly the visible markers', () => {
  const random = rng(20261127);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const alphabet = ['[', ']', ':', '_', 'S', 'T', 'A', 'G', 'E', 'C', 'O', 'M', 'P', 'L', 'U', 'R', '1', '2', '0', ' ', 'é', '⏺'];
  const visiblePattern = /\[STAGE_COMPLETE:([1-9][0-9]{0,3})\]|\[COURSE_COMPLETE\]/g;
  for (let round = 0; round < 300; round++) {
    let visible = '';
    let stream = '';
    const pieces = Math.floor(random() * 40) + 1;
    for (let i = 0; i < pieces; i++) {
      const text = random() < 0.3 ? markerText(random() < 0.8 ? stage(1 + Math.floor(random() * 12)) : course) : Array.from({ length: Math.floor(random() * 6) }, () => pick(alphabet)).join('');
      for (const ch of text) {
        visible += ch;
        stream += ch;
        if (random() < 0.25) stream += pick(noise);
      }
    }
    const expected = [...visible.matchAll(visiblePattern)].map((m): Marker => (m[1] ? stage(Number(m[1])) : course));
    const bytes = Buffer.from(stream);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; ) {
      const size = 1 + Math.floor(random() * 12);
      chunks.push(bytes.subarray(at, at + size));
      at += size;
    }
    assert.deepEqual(detectAll(chunks), expected, `round ${round}: ${JSON.stringify(stream)}`);
  }
});

test('fuzz: markers typed by the user are suppressed, the others are found', () => {
  const random = rng(7);
  for (let round = 0; round < 200; round++) {
    const detector = new MarkerDetector();
    const typed = new Set<number>();
    const output: Marker[] = [];
    const expected: Marker[] = [];
    for (let i = 0; i < 10; i++) {
      const n = 1 + Math.floor(random() * 6);
      if (random() < 0.4) {
        typed.add(n);
        // Typed with random noise keys that do not edit the line (ignored escape sequences).
        const keys = [...`ask ${markerText(stage(n))} `].map((c) => (random() < 0.2 ? `${ESC}[I${c}` : c)).join('');
        detector.noteInput(keys + '\r');
        detector.push(`> ask ${markerText(stage(n))}\r\n`);
      } else {
        output.push(stage(n));
        if (!typed.has(n)) expected.push(stage(n));
        const found = detector.push(`${ESC}[1m${markerText(stage(n))}${ESC}[0m\r\n`);
        assert.deepEqual(found, typed.has(n) ? [] : [stage(n)], `round ${round} step ${i}`);
      }
    }
    assert.equal(detector.stats().detected, expected.length);
  }
});
