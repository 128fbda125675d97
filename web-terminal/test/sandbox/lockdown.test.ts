// The model stays read-only whatever the command line, the course or the user's settings say: the
// real Claude Code CLI, in a real local sandbox of the service, talking to the fake API through the
// embedded proxy. A shell session runs `claude -p` with each attempt to widen the policy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TerminalClient } from '../helpers/terminal-client.ts';
import { api } from '../helpers/service.ts';
import { SECRET_LINE, openCourseSession, requestsFor, shell, startWorld, toolOutcomes, callableTools } from './helpers.ts';
import type { SandboxWorld } from './helpers.ts';

const WRITING_TOOLS = ['Bash', 'Write', 'Edit', 'NotebookEdit', 'WebFetch'];

/** One step per tool the model asks for; each would leave a file behind in /tmp if it ran. */
function writingDirectives(n: number): string {
  return [
    `[[tool:Bash {"command":"echo pwned > /tmp/pwned-${n}"}]]`,
    `[[tool:Write {"file_path":"/tmp/written-${n}.txt","content":"written"}]]`,
    `[[tool:Edit {"file_path":"/tmp/edit-me-${n}.txt","old_string":"original","new_string":"changed"}]]`,
    `[[tool:NotebookEdit {"notebook_path":"/tmp/nb-${n}.ipynb","cell_id":"c1","new_source":"print(1)","edit_mode":"replace"}]]`,
    `[[tool:WebFetch {"url":"http://127.0.0.1:8080/fetched-${n}","prompt":"x"}]]`,
  ].join(' ');
}

const NOTEBOOK = JSON.stringify({ cells: [{ cell_type: 'code', id: 'c1', metadata: {}, source: ['original'], outputs: [], execution_count: null }], metadata: {}, nbformat: 4, nbformat_minor: 5 });

const ATTEMPTS: Array<{ name: string; flags: string; before?: string }> = [
  { name: 'no flags (course settings allow everything)', flags: '' },
  { name: '--dangerously-skip-permissions', flags: '--dangerously-skip-permissions' },
  { name: '--permission-mode bypassPermissions', flags: '--permission-mode bypassPermissions' },
  { name: '--allowedTools', flags: '--allowedTools Bash,Write,Edit,NotebookEdit,WebFetch' },
  { name: '--settings allowing them', flags: `--settings '{"permissions":{"allow":["Bash","Write","Edit","NotebookEdit","WebFetch"],"defaultMode":"bypassPermissions"}}'` },
  {
    name: 'user ~/.claude/settings.json allowing them',
    flags: '',
    before: `mkdir -p ~/.claude && printf '%s' '{"permissions":{"allow":["Bash","Write","Edit","NotebookEdit","WebFetch"],"defaultMode":"bypassPermissions"}}' > ~/.claude/settings.json`,
  },
];

describe('the model is read-only in the sandbox (real CLI, local runtime, embedded proxy)', { timeout: 300_000 }, () => {
  let world: SandboxWorld;
  let term: TerminalClient;
  let credential = '';
  const clientVisible: string[] = [];

  before(async () => {
    world = await startWorld('exec /bin/bash --norc --noprofile -i');
    const session = await openCourseSession(world);
    term = session.term;
    clientVisible.push(...session.responses);
    await shell(term, 'PS1="$ "; cd /workspace', 'ready', 30_000);
    term.type('printf "CRED<%s>\\n" "$ANTHROPIC_API_KEY"\r');
    credential = /CRED<([^>\s]+)>/.exec(await term.waitFor(/CRED<[^>\s]+>/))![1]!;
  });

  after(async () => {
    await term?.close();
    await world?.close();
  });

  for (const [index, attempt] of ATTEMPTS.entries()) {
    const n = index + 1;
    it(`denies Bash, Write, Edit, NotebookEdit and WebFetch: ${attempt.name}`, async () => {
      const mark = `LOCKDOWN-RUN-${n}`;
      const setup = [
        `printf original > /tmp/edit-me-${n}.txt`,
        `printf '%s' '${NOTEBOOK}' > /tmp/nb-${n}.ipynb`,
        `cp /tmp/nb-${n}.ipynb /tmp/nb-${n}.orig`,
        ...(attempt.before ? [attempt.before] : []),
      ].join(' && ');
      assert.equal(await shell(term, setup, `setup-${n}`), 0);
      const rc = await shell(term, `claude -p '${mark} ${writingDirectives(n)}' ${attempt.flags} </dev/null >/tmp/out-${n}.txt 2>&1`, `run-${n}`);
      assert.equal(rc, 0, `claude -p exited ${rc}`);

      const outcomes = toolOutcomes(world.fake, mark);
      assert.deepEqual(outcomes.map((o) => o.name), WRITING_TOOLS);
      for (const outcome of outcomes) {
        assert.equal(outcome.isError, true, `${outcome.name} was not refused: ${outcome.content}`);
        assert.match(outcome.content, new RegExp(`No such tool available: ${outcome.name}`));
      }
      for (const request of requestsFor(world.fake, mark).filter((r) => r.body?.tools?.length)) {
        assert.deepEqual(callableTools(request), ['Glob', 'Grep', 'Read']);
      }
      // Nothing ran and nothing was written: the files are absent or unchanged, no hook ran.
      const untouched = [
        `! test -e /tmp/pwned-${n}`, `! test -e /tmp/written-${n}.txt`, `test "$(cat /tmp/edit-me-${n}.txt)" = original`,
        `cmp -s /tmp/nb-${n}.ipynb /tmp/nb-${n}.orig`, '! test -e /tmp/hook-ran', '! test -e /tmp/statusline-ran', '! test -e /tmp/mcp-ran',
      ].join(' && ');
      assert.equal(await shell(term, untouched, `check-${n}`), 0, 'a denied tool or a course hook left a trace');
      if (attempt.before) await shell(term, 'rm -f ~/.claude/settings.json', `cleanup-${n}`);
    });
  }

  it('Read, Glob and Grep work on /workspace; a Read outside the working directory is refused', async () => {
    const mark = 'READS-RUN';
    const prompt = [
      mark,
      '[[tool:Read {"file_path":"/workspace/allowed.txt"}]]',
      '[[tool:Glob {"pattern":"**/*.md"}]]',
      '[[tool:Grep {"pattern":"SECRET-CONTENT","path":"/workspace","output_mode":"content"}]]',
      '[[tool:Read {"file_path":"/etc/passwd"}]]',
      '[[tool:Read {"file_path":"/home/sandbox/.claude.json"}]]',
    ].join(' ');
    assert.equal(await shell(term, `claude -p '${prompt}' --dangerously-skip-permissions </dev/null >/tmp/out-reads.txt 2>&1`, 'reads'), 0);
    const [read, glob, grep, outside, home] = toolOutcomes(world.fake, mark);
    assert.equal(read?.isError, false);
    assert.match(read!.content, new RegExp(SECRET_LINE));
    assert.equal(glob?.isError, false);
    assert.match(glob!.content, /notes\/topic\.md/);
    assert.equal(grep?.isError, false);
    assert.match(grep!.content, /allowed\.txt:1:SECRET-CONTENT-42/);
    for (const refused of [outside, home]) {
      assert.equal(refused?.isError, true);
      assert.match(refused!.content, /outside \/workspace/);
      assert.doesNotMatch(refused!.content, /root:x:|hasCompletedOnboarding/);
    }
  });

  it('the fake API saw the real key on every request and never the session credential', () => {
    assert.ok(world.fake.requests.length > 10, 'the CLI runs above reached the fake API');
    for (const request of world.fake.requests) {
      assert.equal(request.headers['x-api-key'], world.realKey, `${request.method} ${request.path} did not carry the real key`);
      assert.equal(request.headers.authorization, undefined);
      assert.ok(!JSON.stringify(request.headers).includes(credential), 'the session credential reached the upstream');
      assert.ok(!request.rawBody.includes(credential), 'the session credential reached the upstream in a body');
    }
  });

  it('nothing a client can read holds the real key: API responses, errors, /metrics, logs, the terminal', async () => {
    for (const path of ['/api/sessions', '/api/sessions/does-not-exist', '/api/courses', '/api/nope', '/metrics', '/healthz', '/readyz']) {
      const res = await fetch(`${world.service.url}${path}`);
      clientVisible.push(await res.text());
    }
    // Metrics have their own listener (METRICS_PORT); what an operator reads there holds no key either.
    clientVisible.push(await fetch(world.service.metricsUrl!).then((r) => r.text()));
    const proxyError = await shell(term, 'curl -sS -m 10 -H "x-api-key: forged" -d "{}" --unix-socket /run/claudecode/proxy.sock http://api-proxy/v1/messages; echo', 'proxy-error');
    assert.equal(proxyError, 0);
    clientVisible.push(term.output(), world.logs());
    const metrics = clientVisible.find((text) => text.includes('# HELP'));
    assert.ok(metrics, '/metrics answered');
    for (const text of clientVisible) assert.ok(!text.includes(world.realKey), 'the real key is visible to a client');
    assert.ok(world.logs().length > 0, 'logs were captured');
    const status = await api(world.service, 'GET', '/api/sessions');
    assert.equal(status.status, 200);
  });
});
