// Checks a browser test runs on the page: accessibility (axe-core, injected over the DevTools protocol, so
// the page's own Content-Security-Policy stays as it is), horizontal overflow, and page errors.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

/** axe-core's WCAG 2.1 A/AA rules plus best practices; returns the serious and critical violations. */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** How many CSS pixels the page is wider than the viewport (0 when nothing scrolls sideways). */
export const horizontalOverflow = (page: Page) =>
  page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth);

/** Whether an element's box lies inside the viewport horizontally (a control the learner can reach). */
export const withinViewportWidth = (page: Page, selector: string) =>
  page.evaluate((sel) => {
    const box = document.querySelector(sel)?.getBoundingClientRect();
    return !!box && box.width > 0 && box.left >= 0 && box.right <= window.innerWidth;
  }, selector);

/**
 * Collects uncaught errors and console errors (Content-Security-Policy violations show there). Failed
 * requests to `allowedFailures` URLs are not errors: by default a 404 for /api/info, which the page treats as
 * "unknown" on a server without that endpoint; a test that provokes a refusal adds its URL.
 */
export function collectPageErrors(page: Page, allowedFailures: RegExp[] = []): string[] {
  const allowed = [/\/api\/info$/, ...allowedFailures];
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (/^Failed to load resource/.test(msg.text()) && allowed.some((re) => re.test(msg.location().url))) return;
    errors.push(`${msg.text()} (${msg.location().url})`);
  });
  return errors;
}

/** The whole text of the page's terminal buffer (scrollback and screen), one line per row. */
export const terminalText = (page: Page): Promise<string> => page.evaluate(`(() => {
  const buffer = window.__term.buffer.active;
  const lines = [];
  for (let y = 0; y < buffer.length; y += 1) lines.push(buffer.getLine(y).translateToString(true));
  return lines.join('\\n');
})()`);

/** Waits until the page's terminal holds `text`; on timeout, fails with the terminal's last lines. */
export async function waitForTerminalText(page: Page, text: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await terminalText(page)).includes(text)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${text}; terminal: ${(await terminalText(page)).trim().slice(-300)}`);
    await page.waitForTimeout(100);
  }
}

/**
 * Holds the page's session creation (the real POST /api/sessions, only delayed) until the returned function
 * is called: what the test types meanwhile surely comes before the session exists.
 */
export async function holdSessionCreation(page: Page): Promise<() => void> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/sessions', async (route) => {
    if (route.request().method() === 'POST') await released;
    await route.continue();
  });
  return release;
}
