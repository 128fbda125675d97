// Benchmark: POST /api/sessions to Claude Code's prompt visible on the terminal socket, cold (a sandbox
// started for the request) vs warm (WARM_SANDBOXES=1: the request claims a sandbox already at its
// prompt). The real pinned CLI, the local runtime and the embedded proxy against the fake Anthropic API,
// in one run. Rounds are sequential and a warm round waits until the refill is at its prompt, so the
// refill's own start does not run during the measurement. Writes bench/results/warm.json.
// Run alone: node --import tsx bench/warm.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { percentile, readyWarm, summary, timeSessionStart, until } from './session-timing.ts';
import { loadConfig } from '../web-terminal/src/config.ts';
import { findClaudeBinary } from '../web-terminal/src/runtime/local/host-files.ts';
import { CLAUDE_COMMAND_LINE } from '../web-terminal/src/sandbox-command.ts';
import { startService } from '../web-terminal/src/server.ts';
import type { Service } from '../web-terminal/src/server.ts';
import { startFakeAnthropic } from '../web-terminal/test/fakes/fake-anthropic.ts';
import { plainText } from '../web-terminal/test/sandbox/helpers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = 10;
/** The footer of the pinned CLI under the managed `defaultMode: dontAsk`. */
const PROMPT = /don.t ask on/;
const ROUND_TIMEOUT_MS = 60_000;

/** POST to the Claude Code prompt on the socket, in milliseconds. */
const promptTime = (service: Service) => timeSessionStart(service, (output) => PROMPT.test(plainText(output.toString('utf8'))), 'the prompt', ROUND_TIMEOUT_MS);

async function measure(warm: boolean, upstream: string): Promise<number[]> {
  const config = loadConfig({
    HOST: '127.0.0.1', PORT: '0', DB_PATH: ':memory:', LOG_LEVEL: 'silent', SESSION_COMMAND: CLAUDE_COMMAND_LINE,
    MAX_SESSIONS: '3', WARM_SANDBOXES: warm ? '1' : '0', WARM_POOLS: '-',
  });
  const service = await startService(config, { logger: pino({ level: 'silent' }), proxyEnv: { UPSTREAM_URL: upstream, ANTHROPIC_API_KEY: 'sk-ant-bench' } });
  const samples: number[] = [];
  try {
    for (let i = 0; i < ROUNDS; i += 1) {
      if (warm) await until(async () => (await readyWarm(service)) === 1, 'a warm sandbox at its prompt', ROUND_TIMEOUT_MS);
      samples.push(await promptTime(service));
    }
  } finally {
    await service.close();
  }
  return samples;
}

export async function runWarmBench(): Promise<object> {
  if (!findClaudeBinary()) throw new Error('the pinned Claude Code CLI is not installed (npm install runs its install script)');
  const fake = await startFakeAnthropic({ record: false });
  try {
    console.error('  warm: cold starts');
    const cold = await measure(false, fake.url);
    console.error('  warm: warm claims');
    const warm = await measure(true, fake.url);
    const results = {
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      cold: summary(cold),
      warm: summary(warm),
      p50Speedup: Number((percentile(cold, 50) / percentile(warm, 50)).toFixed(1)),
      target: 'POST to the Claude Code prompt on the socket: warm p50 < 150 ms and at least 5x faster than cold',
    };
    mkdirSync(`${ROOT}/bench/results`, { recursive: true });
    writeFileSync(`${ROOT}/bench/results/warm.json`, `${JSON.stringify(results, null, 2)}\n`);
    return results;
  } finally {
    await fake.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runWarmBench().then((r) => console.log(JSON.stringify(r, null, 2)), (err) => {
    console.error(err);
    process.exit(1);
  });
}
