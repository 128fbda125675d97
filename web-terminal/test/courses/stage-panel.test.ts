// The stage panel in a real (headless) browser against the real course, progress and answer routes, through
// the page's own fetchJson (api.js): the same request the page sends, JSON-encoded once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { setIdentity } from '../../src/auth/identity.ts';
import { errorHandler } from '../../src/http/errors.ts';
import { createCourseCatalog } from '../../src/courses/catalog.ts';
import { createProgressService } from '../../src/courses/progress-service.ts';
import { openProgressStore } from '../../src/db/progress.ts';
import { createCourseRoutes } from '../../src/routes/stages.ts';
import { createProgressRoutes } from '../../src/routes/progress.ts';
import { createAnswerRoutes } from '../../src/routes/answers.ts';
import type { SessionEvent } from '../../src/types.ts';
import { chromium } from 'playwright-core';
import { demoCourse } from './demo-course.ts';
import { REASONS } from '../../public/reasons.js';

const publicDir = fileURLToPath(new URL('../../public/', import.meta.url));
const SESSION = 'aaaaaaaaaaaaaaaaaaaa';

const page = `<!doctype html>
<html><head><link rel="stylesheet" href="/stages.css">
<style>:root { --bg:#fff; --fg:#111; --muted:#666; --accent:#2a7; --border:#ccc; --panel:#f5f5f5; }</style></head>
<body><div id="stages"></div>
<script type="module">
  import { mountStagePanel } from '/stages.js';
  import { fetchJson } from '/api.js';
  window.panel = mountStagePanel(document.getElementById('stages'), { fetchJson, courseId: 'demo', sessionId: '${SESSION}' });
</script></body></html>`;

test('the stage panel renders progress, checks answers, applies live events and survives a reload', { timeout: 120_000 }, async (t) => {
  const catalog = createCourseCatalog([demoCourse]);
  const store = openProgressStore(':memory:');
  t.after(() => store.close());
  const progress = createProgressService({ catalog, store });
  const emitted: SessionEvent[] = [];
  const app = express();
  app.use((req, _res, next) => {
    setIdentity(req, { userId: 'alice', displayName: 'Alice', isAdmin: false });
    next();
  });
  app.get('/panel.html', (_req, res) => void res.type('html').send(page));
  app.use(express.static(publicDir));
  app.use('/api', express.json({ limit: '16kb' }));
  app.use(createCourseRoutes({ catalog }), createProgressRoutes({ catalog, store }));
  app.use(createAnswerRoutes({ catalog, progress, findSession: (_identity, id) => (id === SESSION ? { courseId: 'demo', emit: (e) => emitted.push(e) } : undefined) }));
  app.use(errorHandler({ error: () => {} }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/panel.html`;

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() => browser.close());
  const tab = await browser.newPage();
  const errors: string[] = [];
  tab.on('pageerror', (err) => errors.push(err.message));
  await tab.goto(url);

  const states = () => tab.$$eval('.stage-panel__stage', (items) => items.map((li) => li.className.match(/is-(done|current|locked)/)?.[1]));
  await tab.waitForSelector('.stage-panel__stage');
  assert.deepEqual(await states(), ['current', 'locked', 'locked']);
  assert.equal(await tab.textContent('.stage-panel__title'), 'Demo course');
  assert.equal(await tab.textContent('.stage-panel__goal'), 'Goal one');
  assert.equal(await tab.$('.stage-panel__answer'), null, 'stage 1 has no answer box');

  // A stage_complete event from the socket (as the marker path would send it).
  const completed = progress.completeStage('alice', 'demo', 1, 'marker');
  await tab.evaluate((evt) => (window as unknown as { panel: { handleEvent(e: unknown): boolean } }).panel.handleEvent(evt), { type: 'event', ...completed.events[0] });
  assert.deepEqual(await states(), ['done', 'current', 'locked']);
  assert.equal(await tab.textContent('.stage-panel__goal'), 'Goal two');

  await tab.fill('.stage-panel__answer-input', 'forty three');
  await tab.click('.stage-panel__answer-submit');
  await tab.waitForSelector('.stage-panel__answer-message.is-error');
  assert.equal(await tab.textContent('.stage-panel__answer-message'), REASONS.wrong_answer, 'the API\'s sentence, shown as is');

  await tab.fill('.stage-panel__answer-input', 'Forty Two');
  await tab.click('.stage-panel__answer-submit');
  await tab.waitForFunction(() => document.querySelectorAll('.stage-panel__stage.is-done').length === 2);
  assert.deepEqual(await states(), ['done', 'done', 'current']);
  assert.equal(await tab.getAttribute('.stage-panel__progress', 'aria-valuenow'), '2');
  assert.match(String(await tab.textContent('.stage-panel__complete')), /^Stage 2 \(.+\) complete\. Next: /, 'a visible completion moment naming the next stage');
  assert.deepEqual(emitted.map((e) => [e.name, e.stage]), [['stage_complete', 2]]);

  await tab.reload();
  await tab.waitForSelector('.stage-panel__stage.is-done');
  assert.deepEqual(await states(), ['done', 'done', 'current'], 'state comes back from the progress API');
  assert.equal(await tab.textContent('.stage-panel__count'), '2 of 3 stages done');
  assert.deepEqual(errors, []);
});
