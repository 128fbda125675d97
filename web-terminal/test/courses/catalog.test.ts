import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCourseCatalog } from '../../src/courses/catalog.ts';
import { extractStagesBlock } from '../../src/courses/claude-md-stages.ts';
import { checkAnswer, hashAnswer } from '../../src/courses/answer-check.ts';

const repoCourses = fileURLToPath(new URL('../../../courses', import.meta.url));

function captureLogger() {
  const warnings: Record<string, unknown>[] = [];
  return { warnings, logger: { warn: (obj: object) => void warnings.push(obj as Record<string, unknown>), info: () => {} } };
}

function coursesDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'courses-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeCourse(root: string, id: string, courseJson: unknown, claudeMd?: string): void {
  mkdirSync(join(root, id, 'content'), { recursive: true });
  writeFileSync(join(root, id, 'course.json'), typeof courseJson === 'string' ? courseJson : JSON.stringify(courseJson));
  if (claudeMd !== undefined) writeFileSync(join(root, id, 'content', 'CLAUDE.md'), claudeMd);
}

const validStages = [
  { number: 1, title: 'One', goal: 'Do one' },
  { number: 2, title: 'Two', goal: 'Do two', hint: 'think', check: { type: 'exact', sha256: hashAnswer('Answer') } },
  { number: 3, title: 'Three', goal: 'Do three', check: { type: 'pattern', pattern: '^\\d+$' } },
];

test('loads a valid course; the public view never carries checks', async (t) => {
  const root = coursesDir(t);
  writeCourse(root, 'good', { id: 'good', title: 'Good', description: 'A course', stages: validStages }, '# hi');
  const { logger, warnings } = captureLogger();
  const catalog = await loadCourseCatalog(root, logger);
  assert.deepEqual(warnings, []);
  assert.deepEqual(catalog.publicView(), [{ id: 'good', title: 'Good', description: 'A course', stageCount: 3 }]);
  assert.deepEqual(catalog.publicStages('good'), [
    { number: 1, title: 'One', goal: 'Do one', hint: null, hasCheck: false },
    { number: 2, title: 'Two', goal: 'Do two', hint: 'think', hasCheck: true },
    { number: 3, title: 'Three', goal: 'Do three', hint: null, hasCheck: true },
  ]);
  assert.ok(!JSON.stringify(catalog.publicStages('good')).includes('sha256'));
  assert.equal(catalog.get('good')?.stages[1]?.check?.type, 'exact');
  assert.equal(catalog.contentDir('good'), join(root, 'good', 'content'));
  assert.equal(catalog.get('missing'), undefined);
  assert.equal(catalog.contentDir('missing'), undefined);
});

test('a broken course is reported with file and field and skipped; the others load', async (t) => {
  const root = coursesDir(t);
  writeCourse(root, 'good', { id: 'good', title: 'Good', description: 'A course', stages: validStages });
  writeCourse(root, 'bad-goal', { id: 'bad-goal', title: 'Bad', description: 'x', stages: [{ number: 1, title: 'One', goal: '' }] });
  writeCourse(root, 'bad-json', '{ "id": ');
  writeCourse(root, 'bad-id', { id: 'other', title: 'T', description: 'd', stages: validStages });
  writeCourse(root, 'bad-order', { id: 'bad-order', title: 'T', description: 'd', stages: [validStages[0], { ...validStages[2], number: 3 }] });
  writeCourse(root, 'bad-regex', { id: 'bad-regex', title: 'T', description: 'd', stages: [{ number: 1, title: 'a', goal: 'b', check: { type: 'pattern', pattern: '(' } }] });
  writeCourse(root, 'bad-hash', { id: 'bad-hash', title: 'T', description: 'd', stages: [{ number: 1, title: 'a', goal: 'b', check: { type: 'exact', sha256: 'abc' } }] });
  writeCourse(root, 'no-stages', { id: 'no-stages', title: 'T', description: 'd' }, '# nothing here');
  mkdirSync(join(root, 'no-course-json', 'content'), { recursive: true });
  mkdirSync(join(root, 'no-content'));
  writeFileSync(join(root, 'no-content', 'course.json'), JSON.stringify({ id: 'no-content', title: 'T', description: 'd', stages: validStages }));

  const { logger, warnings } = captureLogger();
  const catalog = await loadCourseCatalog(root, logger);
  assert.deepEqual(catalog.list().map((c) => c.id), ['good']);
  const problems = catalog.problems.map((p) => [p.file, p.field]);
  assert.deepEqual(problems, [
    ['bad-goal/course.json', 'stages[0].goal'],
    ['bad-hash/course.json', 'stages[0].check.sha256'],
    ['bad-id/course.json', 'id'],
    ['bad-json/course.json', null],
    ['bad-order/course.json', 'stages[1].number'],
    ['bad-regex/course.json', 'stages[0].check.pattern'],
    ['no-content/content', null],
    ['no-course-json/course.json', null],
    ['no-stages/course.json', 'stages'],
  ]);
  assert.equal(warnings.length, problems.length);
  assert.deepEqual(Object.keys(warnings[0] ?? {}).sort(), ['courseDir', 'field', 'file', 'problem']);
  assert.match(String(catalog.problems.find((p) => p.file === 'bad-json/course.json')?.message), /not valid JSON/);
});

test('stages can come from a ```json stages block in CLAUDE.md; checks there are refused', async (t) => {
  const root = coursesDir(t);
  const block = (json: string) => `# Paper\n\nSome text.\n\n\`\`\`json stages\n${json}\n\`\`\`\n\nMore text.\n`;
  writeCourse(root, 'md-array', { id: 'md-array', title: 'T', description: 'd' }, block(JSON.stringify(validStages.slice(0, 1))));
  writeCourse(root, 'md-object', { id: 'md-object', title: 'T', description: 'd', stages: [] }, block(JSON.stringify({ stages: [validStages[0], { number: 2, title: 'b', goal: 'c' }] })));
  writeCourse(root, 'md-check', { id: 'md-check', title: 'T', description: 'd' }, block(JSON.stringify(validStages)));
  writeCourse(root, 'md-bad-json', { id: 'md-bad-json', title: 'T', description: 'd' }, block('[{ "number": 1,'));
  writeCourse(root, 'md-bad-field', { id: 'md-bad-field', title: 'T', description: 'd' }, block('[{ "number": 1, "title": "x" }]'));
  writeCourse(root, 'md-overridden', { id: 'md-overridden', title: 'T', description: 'd', stages: validStages }, block('not even json'));

  const { logger } = captureLogger();
  const catalog = await loadCourseCatalog(root, logger);
  assert.deepEqual(catalog.list().map((c) => [c.id, c.stagesSource, c.stages.length]), [
    ['md-array', 'CLAUDE.md', 1],
    ['md-object', 'CLAUDE.md', 2],
    ['md-overridden', 'course.json', 3],
  ]);
  assert.deepEqual(catalog.problems.map((p) => [p.file, p.field]), [
    ['md-bad-field/content/CLAUDE.md', '[0].goal'],
    ['md-bad-json/content/CLAUDE.md', null],
    ['md-check/content/CLAUDE.md', '[1].check'],
    ['md-check/content/CLAUDE.md', '[2].check'],
  ]);
});

test('extractStagesBlock finds exactly one block and ignores other json blocks', () => {
  assert.deepEqual(extractStagesBlock('```json\n[1]\n```'), { found: false });
  assert.deepEqual(extractStagesBlock('~~~json stages\n[1]\n~~~'), { found: true, ok: true, value: [1] });
  const two = extractStagesBlock('```json stages\n[]\n```\n\n```json stages\n[]\n```');
  assert.equal(two.found && !two.ok && /expected one/.test(two.message), true);
});

test('a missing courses folder gives an empty catalog and a warning, not a crash', async () => {
  const { logger, warnings } = captureLogger();
  const catalog = await loadCourseCatalog(join(tmpdir(), 'does-not-exist-courses-xyz'), logger);
  assert.deepEqual(catalog.list(), []);
  assert.equal(warnings.length, 1);
});

test('the sample courses of the repository load without problems', async () => {
  const { logger } = captureLogger();
  const catalog = await loadCourseCatalog(repoCourses, logger);
  assert.deepEqual(catalog.problems, []);
  const sample = catalog.get('attention-is-all-you-need');
  assert.ok(sample);
  assert.ok(sample.stages.length >= 4 && sample.stages.length <= 6);
  assert.ok(sample.stages.filter((s) => s.check).length >= 2);
  const check = (n: number) => sample.stages[n - 1]?.check ?? assert.fail(`stage ${n} has a check`);
  for (const right of ['sqrt(d_k)', 'SQRT(dk)', '√d_k', 'the square root of d_k', 'square root of the key dimension']) {
    assert.equal(checkAnswer(check(2), right), true, right);
  }
  for (const wrong of ['d_k', 'softmax', '8']) assert.equal(checkAnswer(check(2), wrong), false, wrong);
  assert.equal(checkAnswer(check(3), ' 8 '), true);
  assert.equal(checkAnswer(check(3), '64'), false);
});
