// Headless Debian Chromium driven by playwright-core (no browser download: the system one is used).
// playwright gives every launch a fresh, empty profile of its own.
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

export const artifactsDir = new URL('../../../test-artifacts/', import.meta.url).pathname;

export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  mkdirSync(artifactsDir, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}
