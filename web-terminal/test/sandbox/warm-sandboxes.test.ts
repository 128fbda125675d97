// Warm sandboxes with the real Claude Code CLI, through the API: WARM_SANDBOXES=2 on the course.
// Two sessions get a sandbox whose CLI is already at its prompt; the third, asked for right after,
// takes one of the two refills the pool started at once (it waits for a refill, never a cold start).
// Concurrent requests never share a sandbox, a warm sandbox whose program dies is replaced, sandboxes
// never exceed MAX_SESSIONS, and the course's first prompt is typed in when the learner gets the sandbox.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CLAUDE_COMMAND_LINE } from '../../src/sandbox-command.ts';
import { api } from '../helpers/service.ts';
import { descendants, waitUntil } from '../helpers/processes.ts';
import { openTerminal, wsUrl } from '../helpers/terminal-client.ts';
import type { TerminalClient } from '../helpers/terminal-client.ts';
import { COURSE_ID, plainText, startWorld, waitForText } from './helpers.ts';
import type { SandboxWorld } from './helpers.ts';

const READY = /don.t ask on/;
const MAX_SESSIONS = 4;

/** Session ids of the live sandboxes: bubblewrap names each on its command line. */
function sandboxIds(): string[] {
  const ids = new Set<string>();
  for (const p of descendants()) {
    if (p.comm !== 'bwrap') continue;
    try {
      const argv = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
      const at = argv.indexOf('CLAUDECODE_SESSION_ID');
      if (at > 0) ids.add(argv[at + 1]!);
    } catch {
      // gone meanwhile
    }
  }
  return [...ids];
}

async function metric(world: SandboxWorld, line: RegExp): Promise<number> {
  const text = await (await fetch(world.service.metricsUrl!)).text();
  const match = line.exec(text);
  return match ? Number(match[1]) : 0;
}
const readyWarm = (world: SandboxWorld) => metric(world, /^webterminal_warm_sandboxes\{state="ready"\} (\d+)/m);
const claims = (world: SandboxWorld, how: string) => metric(world, new RegExp(`^webterminal_warm_claims_total\\{how="${how}"\\} (\\d+)`, 'm'));

async function waitForMetric(read: () => Promise<number>, want: number, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await read()) !== want) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} = ${want} (is ${await read()})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function create(world: SandboxWorld, body: object = { courseId: COURSE_ID }): Promise<{ id: string; wsUrl: string; postedAt: number }> {
  const postedAt = Date.now();
  const res = await api(world.service, 'POST', '/api/sessions', body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: String(res.body.id), wsUrl: String(res.body.wsUrl), postedAt };
}

describe('warm sandboxes (real CLI, local runtime)', { timeout: 300_000 }, () => {
  let world: SandboxWorld;
  const terms: TerminalClient[] = [];
  const maxSeen = { sandboxes: 0 };
  let sampler: NodeJS.Timeout;

  before(async () => {
    world = await startWorld(CLAUDE_COMMAND_LINE, { WARM_SANDBOXES: '2', WARM_POOLS: COURSE_ID, MAX_SESSIONS: String(MAX_SESSIONS), MAX_SESSIONS_PER_USER: String(MAX_SESSIONS) });
    sampler = setInterval(() => { maxSeen.sandboxes = Math.max(maxSeen.sandboxes, sandboxIds().length); }, 20);
  });

  after(async () => {
    clearInterval(sampler);
    for (const term of terms) await term.close();
    await world?.close();
  });

  it('fills the pool ahead of demand, within MAX_SESSIONS, with nothing else running', async () => {
    await waitForMetric(() => readyWarm(world), 2, 'ready warm sandboxes');
    assert.equal(sandboxIds().length, 2);
    assert.deepEqual((await api(world.service, 'GET', '/api/sessions')).body.sessions, []);
    assert.equal(world.fake.requests.filter((r) => r.path === '/v1/messages').length, 0, 'a warm CLI waits at its prompt: no model call');
  });

  it('three quick sessions: two claim running sandboxes, the third waits for a refill; each gets the first prompt', async () => {
    const warmIds = sandboxIds();
    const first = await create(world);
    const second = await create(world);
    const third = await create(world);
    assert.deepEqual([first.id, second.id].sort(), [...warmIds].sort(), 'the first two are the sandboxes that were warm');
    assert.ok(!warmIds.includes(third.id));
    assert.equal(await claims(world, 'warm'), 2);
    assert.equal(await claims(world, 'refill'), 1, 'the third took a refill already starting, not a cold start');
    for (const session of [first, second, third]) {
      const term = await openTerminal(wsUrl(world.service.url, session.wsUrl));
      terms.push(term);
      await waitForText(term, READY, 60_000);
      console.log(`# session ${terms.length}: POST to the Claude Code prompt on screen in ${Date.now() - session.postedAt} ms`);
    }
    // The learner's first message was typed in at claim and answered through the proxy; the tutor's brief
    // went with it in the system prompt (the warm CLI was started with it), never onto the screen.
    for (const term of terms) await waitForText(term, /Hello from the fake Anthropic API!/, 60_000);
    const kickOffs = world.fake.requests.filter((r) => JSON.stringify(r.body?.messages ?? []).includes('start stage 1 of 1') && r.body?.tools?.length);
    assert.ok(new Set(kickOffs.map((r) => r.headers['x-claude-code-session-id'])).size >= 3, 'each session sent the first message once');
    for (const request of kickOffs) assert.match(JSON.stringify(request.body.system), /You are guiding a learner through the course/);
    for (const term of terms) assert.doesNotMatch(plainText(term.output()), /You are guiding a learner/);
    assert.ok(maxSeen.sandboxes <= MAX_SESSIONS, `saw ${maxSeen.sandboxes} sandboxes`);
  });

  it('at capacity a cold start takes a warm sandbox\'s slot, never more than MAX_SESSIONS in all', async () => {
    await waitForMetric(() => readyWarm(world), 1, 'the one warm sandbox capacity allows');
    const cold = await create(world, {});
    const term = await openTerminal(wsUrl(world.service.url, cold.wsUrl));
    terms.push(term);
    await waitForText(term, READY, 60_000);
    assert.equal(await claims(world, 'warm') + await claims(world, 'refill'), 3, 'no pool for sessions without a course: a cold start');
    assert.equal(await readyWarm(world), 0);
    assert.ok(maxSeen.sandboxes <= MAX_SESSIONS, `saw ${maxSeen.sandboxes} sandboxes`);
    for (const t of terms.splice(0)) await t.close();
    for (const s of (await api(world.service, 'GET', '/api/sessions')).body.sessions as Array<{ id: string; state: string }>) {
      if (s.state === 'running' || s.state === 'starting') assert.equal((await api(world.service, 'DELETE', `/api/sessions/${s.id}`)).status, 204);
    }
    await waitForMetric(() => readyWarm(world), 2, 'the pool refilled once sessions ended');
  });

  it('two concurrent requests never get the same sandbox', async () => {
    const [a, b] = await Promise.all([create(world), create(world)]);
    assert.notEqual(a.id, b.id);
    assert.equal(await claims(world, 'warm'), 4);
    for (const id of [a.id, b.id]) assert.equal((await api(world.service, 'DELETE', `/api/sessions/${id}`)).status, 204);
    await waitForMetric(() => readyWarm(world), 2, 'refilled');
  });

  it('a warm sandbox whose program dies is replaced, and never handed out', async () => {
    const before = sandboxIds();
    assert.equal(before.length, 2);
    const victim = before[0]!;
    const victimTree = descendants().filter((p) => p.comm === 'bwrap' && readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes(victim));
    const claude = victimTree.flatMap((p) => descendants(p.pid)).find((p) => p.comm === 'claude');
    assert.ok(claude, 'the warm sandbox runs Claude Code');
    process.kill(claude.pid, 'SIGKILL');
    await waitUntil(() => !sandboxIds().includes(victim), 20_000, 'the dead warm sandbox to be removed');
    await waitForMetric(() => readyWarm(world), 2, 'a replacement', 60_000);
    assert.equal(sandboxIds().length, 2);
    assert.ok(!sandboxIds().includes(victim));
    const session = await create(world);
    assert.notEqual(session.id, victim);
    const term = await openTerminal(wsUrl(world.service.url, session.wsUrl));
    terms.push(term);
    await waitForText(term, READY, 60_000);
  });

  it('shutdown drains the pool: no sandbox is left', async () => {
    await world.service.close();
    assert.deepEqual(sandboxIds(), []);
  });
});
