// The managed settings file against what the pinned Claude Code CLI actually does with it. Fails on
// drift: a key we rely on changes, the CLI warns about the file, a new version offers a tool the
// deny list misses, or the CLI stops refusing to start on a broken file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { managedSettingsFile } from '../../src/runtime/local/host-files.ts';
import { claudeCodeQuietEnv } from '../../src/runtime/local/bwrap-args.ts';
import { startFakeAnthropic } from '../fakes/fake-anthropic.ts';
import type { FakeAnthropic, RecordedRequest } from '../fakes/fake-anthropic.ts';
import { startDirectSandbox } from './direct-sandbox.ts';
import type { DirectSandbox } from './direct-sandbox.ts';
import { PINNED_VERSION, callableTools } from './helpers.ts';

const READ_ONLY_TOOLS = ['Glob', 'Grep', 'Read'];
/** Offered only by the interactive CLI (not in print mode), seen in its requests without a policy. */
const INTERACTIVE_ONLY_TOOLS = ['AskUserQuestion', 'EnterPlanMode', 'ExitPlanMode'];

/** The keys and values this project relies on; `.strict()` makes any other key a deliberate change. */
const policySchema = z.object({
  permissions: z.object({
    deny: z.array(z.string().regex(/^[A-Za-z]+$/, 'whole tools only, no patterns')).min(1),
    defaultMode: z.literal('dontAsk'),
    disableBypassPermissionsMode: z.literal('disable'),
    disableAutoMode: z.literal('disable'),
    blockReadsOutsideWorkingDirectories: z.literal(true),
  }).strict(),
  allowManagedPermissionRulesOnly: z.literal(true),
  allowManagedHooksOnly: z.literal(true),
  disableAllHooks: z.literal(true),
  allowManagedMcpServersOnly: z.literal(true),
  allowedMcpServers: z.array(z.never()).length(0),
  env: z.object(Object.fromEntries(Object.keys(claudeCodeQuietEnv).map((name) => [name, z.literal('1')]))).strict(),
}).strict();

const policyText = readFileSync(managedSettingsFile, 'utf8');
const policy = policySchema.parse(JSON.parse(policyText));

const PRINT_HI = `claude -p 'POLICY-PROBE [[text:probe done]]' --output-format stream-json --verbose </dev/null`;
const WARNINGS = /Failed schema validation|could not be parsed|not in effect|invalid entries|present but invalid|Ignoring|treating it as|unknown setting/i;

/** What the CLI printed besides its JSON events: where its settings warnings go. */
const diagnostics = (run: { stdout: string; stderr: string }) => [...run.stdout.split('\n').filter((l) => !l.startsWith('{')), run.stderr].join('\n');

function initEvent(stdout: string): { tools: string[]; permissionMode: string; claude_code_version: string } {
  const line = stdout.split('\n').find((l) => l.includes('"subtype":"init"'));
  assert.ok(line, `no init event in: ${stdout.slice(0, 500)}`);
  return JSON.parse(line);
}

/** Tools a request offers behind ToolSearch: named in a system reminder, not in `tools`. */
function deferredTools(request: RecordedRequest): string[] {
  const match = /before calling them: ([A-Za-z0-9_ ]+)/.exec(request.rawBody);
  return match ? match[1]!.trim().split(/\s+/) : [];
}

describe(`managed settings against Claude Code ${PINNED_VERSION}`, { timeout: 300_000 }, () => {
  let fake: FakeAnthropic;
  let sandbox: DirectSandbox;

  before(async () => {
    fake = await startFakeAnthropic();
    sandbox = await startDirectSandbox(fake);
  });
  after(async () => {
    await sandbox?.close();
    await fake?.close();
  });

  it('the schema of the keys we rely on holds, and the deny list names no tool twice', () => {
    assert.equal(new Set(policy.permissions.deny).size, policy.permissions.deny.length);
    for (const tool of READ_ONLY_TOOLS) assert.ok(!policy.permissions.deny.includes(tool), `${tool} must stay usable`);
  });

  it('the pinned CLI takes the file without a warning: exactly Read, Glob and Grep, in dontAsk mode', async () => {
    fake.reset();
    const run = await sandbox.run(PRINT_HI);
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(diagnostics(run), WARNINGS);
    const init = initEvent(run.stdout);
    assert.equal(init.claude_code_version, PINNED_VERSION);
    assert.equal(init.permissionMode, 'dontAsk');
    assert.deepEqual([...init.tools].sort(), READ_ONLY_TOOLS);
    const requests = fake.requests.filter((r) => r.path === '/v1/messages' && r.body?.tools?.length);
    assert.ok(requests.length > 0);
    for (const request of requests) {
      assert.deepEqual(callableTools(request), READ_ONLY_TOOLS);
      assert.deepEqual(deferredTools(request), []);
    }
  });

  it('the deny list covers every tool the pinned CLI offers without a policy', async () => {
    fake.reset();
    const run = await sandbox.run(PRINT_HI, { managedSettings: '{}' });
    assert.equal(run.code, 0, run.stderr);
    const offered = new Set(initEvent(run.stdout).tools.map((name) => (name === 'Task' ? 'Agent' : name)));
    for (const request of fake.requests.filter((r) => r.path === '/v1/messages' && r.body?.tools?.length)) {
      for (const name of [...callableTools(request), ...deferredTools(request)]) offered.add(name);
    }
    for (const name of INTERACTIVE_ONLY_TOOLS) offered.add(name);
    assert.ok(offered.has('Bash') && offered.has('Write') && offered.has('WebFetch'), 'the probe sees the full tool set');
    const uncovered = [...offered].filter((name) => !READ_ONLY_TOOLS.includes(name) && !policy.permissions.deny.includes(name));
    assert.deepEqual(uncovered, [], 'tools the pinned CLI offers that the policy does not deny');
  });

  it('the pinned CLI refuses to start on a malformed file (it fails closed)', async () => {
    fake.reset();
    const run = await sandbox.run(PRINT_HI, { managedSettings: policyText.slice(0, -10) });
    assert.notEqual(run.code, 0);
    assert.match(run.stdout + run.stderr, /could not be parsed/);
    assert.equal(fake.requests.filter((r) => r.path === '/v1/messages').length, 0, 'no model call without the policy');
  });
});
