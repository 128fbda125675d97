// `npm run bench`: every benchmark in turn, each writing bench/results/<name>.json, then a summary
// in bench/results/summary.json. Loopback only; each benchmark bounds its own loops and time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runKubernetesBench } from './kubernetes.ts';
import { runKubernetesWarmBench } from './kubernetes-warm.ts';
import { runProxyBench } from './proxy.ts';
import { runTerminalBench } from './terminal.ts';
import { runWarmBench } from './warm.ts';

const benches: Record<string, () => Promise<object>> = {
  terminal: runTerminalBench,
  proxy: runProxyBench,
  kubernetes: runKubernetesBench,
  'kubernetes-warm': runKubernetesWarmBench,
  warm: runWarmBench,
};

const only = process.argv.slice(2);
const summary: Record<string, unknown> = { date: new Date().toISOString() };
for (const [name, run] of Object.entries(benches)) {
  if (only.length && !only.includes(name)) continue;
  console.error(`bench: ${name}…`);
  const started = Date.now();
  try {
    summary[name] = await run();
  } catch (err) {
    summary[name] = { error: err instanceof Error ? err.message : String(err) };
    process.exitCode = 1;
  }
  console.error(`bench: ${name} done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}summary.json`, `${JSON.stringify(summary, null, 2)}\n`);
console.log(JSON.stringify(summary, null, 2));
