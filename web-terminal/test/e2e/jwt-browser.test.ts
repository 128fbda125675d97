// The page in AUTH_MODE=jwt, as an embedding front end uses it: the token arrives in the address
// fragment (or window.CLAUDECODE_TOKEN), goes only into API request headers, and the terminal works
// over a one-time ticket.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { REASONS, STATES } from '../../public/reasons.js';
import type { Service } from '../../src/server.ts';
import { startTestService } from '../helpers/service.ts';
import { jwtEnv, mintToken } from '../auth/helpers.ts';
import { waitUntil } from '../helpers/processes.ts';

const artifactsDir = new URL('../../../test-artifacts/', import.meta.url).pathname;

describe('browser end to end in jwt mode', () => {
  let service: Service;
  let context: BrowserContext;
  const profileDir = mkdtempSync(join(tmpdir(), 'jwt-browser-profile-'));

  before(async () => {
    mkdirSync(artifactsDir, { recursive: true });
    service = await startTestService(jwtEnv());
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1100, height: 700 },
    });
  });
  after(async () => {
    await context?.close();
    await service?.close();
    rmSync(profileDir, { recursive: true, force: true });
  });

  const watchRequests = (page: Page) => {
    const urls: string[] = [];
    page.on('request', (req) => urls.push(req.url()));
    page.on('websocket', (ws) => urls.push(ws.url()));
    return urls;
  };

  it('without a token the page cannot start a session', async () => {
    const page = await context.newPage();
    await page.goto(service.url);
    await page.getByRole('button', { name: 'Start a terminal' }).click();
    await page.locator('#status-text', { hasText: 'authentication required' }).waitFor({ timeout: 15_000 });
    assert.equal(service.manager.listAll().length, 0);
    await page.close();
  });

  it('with a token in the fragment the page gets a session and the terminal works', async () => {
    const token = await mintToken('alice', { name: 'Alice Example' });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const urls = watchRequests(page);
    await page.goto(`${service.url}/#token=${token}`);
    assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');

    await page.getByRole('button', { name: /^Just a terminal/ }).click();
    await page.getByRole('button', { name: 'Start a terminal' }).click();
    await page.locator('#status-text', { hasText: STATES.running }).waitFor({ timeout: 20_000 });
    await page.locator('.xterm-rows', { hasText: '$' }).waitFor({ timeout: 20_000 });
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('echo "signed in: $((6*7))"');
    await page.keyboard.press('Enter');
    await page.locator('.xterm-rows', { hasText: 'signed in: 42' }).waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(artifactsDir, 'jwt-browser-session.png') });

    const sessions = service.manager.listAll();
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.displayName, 'Alice Example');
    const socketUrls = urls.filter((u) => u.startsWith('ws:'));
    assert.equal(socketUrls.length, 1);
    assert.match(socketUrls[0]!, /\/ws\/sessions\/[a-z2-7]{20}\?ticket=[A-Za-z0-9_-]{43}$/);
    for (const url of urls) assert.equal(url.includes(token.split('.')[2]!), false, `no token in ${url}`);

    // Someone else, handed a token through window.CLAUDECODE_TOKEN, sees none of Alice's sessions.
    const bobPage = await context.newPage();
    await bobPage.addInitScript((t) => {
      (window as unknown as { CLAUDECODE_TOKEN: string }).CLAUDECODE_TOKEN = t;
    }, await mintToken('bob'));
    await bobPage.goto(service.url);
    await bobPage.locator('#start-sessions', { hasText: 'No session is running.' }).waitFor({ timeout: 15_000 });
    await bobPage.close();

    await page.getByRole('button', { name: 'End session' }).click();
    await page.locator('#status-text', { hasText: REASONS.deleted }).waitFor({ timeout: 15_000 });
    // The page says so as soon as the session ends; its slot is free once the sandbox is gone.
    await waitUntil(() => service.manager.activeCount === 0, 20_000, 'session released');
    assert.deepEqual(pageErrors, []);
    await page.close();
  });
});
