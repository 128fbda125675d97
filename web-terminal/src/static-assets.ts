// The browser UI and its front-end libraries, served from this package and node_modules (no CDN).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));
export const publicDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'public');

export function createStaticRoutes(): Router {
  const router = Router();
  const options = { index: false, fallthrough: true, maxAge: '1h' } as const;
  router.use('/vendor/xterm/lib', express.static(join(packageDir('@xterm/xterm'), 'lib'), options));
  router.use('/vendor/xterm/css', express.static(join(packageDir('@xterm/xterm'), 'css'), options));
  router.use('/vendor/addon-fit', express.static(join(packageDir('@xterm/addon-fit'), 'lib'), options));
  router.use('/vendor/addon-web-links', express.static(join(packageDir('@xterm/addon-web-links'), 'lib'), options));
  // The terminal's fonts (public/fonts.css).
  for (const font of ['dejavu-mono', 'noto-sans-symbols', 'noto-sans-symbols-2']) {
    router.use(`/vendor/fonts/${font}`, express.static(join(packageDir(`@fontsource/${font}`), 'files'), options));
  }
  router.use(express.static(publicDir, { index: 'index.html', maxAge: 0 }));
  return router;
}
