import pkg from '@xterm/headless';
const { Terminal } = pkg;
import { randomBytes } from 'node:crypto';
const term = new Terminal({ cols: 80, rows: 24, scrollback: Number(process.argv[2] ?? 1000), allowProposedApi: true });
const chunk = randomBytes(48*1024).toString('base64');
const colored = Array.from({length: 800}, (_, i) => `\x1b[3${i%8}m${'line '+i} drwxr-xr-x  2 root root  4096 Nov 30 14:50 somefile.txt\x1b[0m\r\n`).join('');
for (const [name, c] of [['base64', chunk], ['colored', colored], ['base64', chunk], ['colored', colored]]) {
  const total = 40e6;
  let n = 0;
  while (n < total) { n += c.length; term.write(c); }
  const t0 = performance.now();
  await new Promise((r) => term.write('', r));
  const ms = performance.now() - t0;
  console.log(name, (n / ms / 1e3).toFixed(1), 'MB/s');
}
// direct parse bypassing write buffer
const core = term._core;
const ih = core._inputHandler;
for (const [name, c] of [['base64', chunk], ['colored', colored]]) {
  const t0 = performance.now(); let n = 0;
  while (n < 40e6) { n += c.length; ih.parse(c); }
  console.log('direct', name, (n / (performance.now() - t0) / 1e3).toFixed(1), 'MB/s');
}
