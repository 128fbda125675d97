// The interactive CLI in the browser terminal: straight to its prompt (no onboarding, trust or key
// dialog), answers through the proxy, and its `!` shell escape finds no key, no network and no
// writable system. The `!` escape ignores every policy, so these checks are about the sandbox.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLAUDE_COMMAND_LINE } from '../../src/sandbox-command.ts';
import type { TerminalClient } from '../helpers/terminal-client.ts';
import { callableTools, openCourseSession, plainText, startWorld, waitForQuiet, waitForText } from './helpers.ts';
import type { SandboxWorld } from './helpers.ts';

/** The footer of Claude Code 2.1.332 under the managed `defaultMode: dontAsk`. */
const READY = /don.t ask on/;

describe('the interactive CLI in the browser terminal', { timeout: 300_000 }, () => {
  let world: SandboxWorld;
  let term: TerminalClient;
  let msToPrompt = 0;

  before(async () => {
    world = await startWorld(CLAUDE_COMMAND_LINE);
    const session = await openCourseSession(world);
    term = session.term;
    await waitForText(term, READY, 60_000);
    msToPrompt = Date.now() - session.createdAt;
  });

  after(async () => {
    await term?.close();
    await world?.close();
  });

  /**
   * Enters a prompt line: the text as a bracketed paste, then Enter once it is on screen. The brackets tell
   * the CLI exactly where the text ends; typed in one piece it would guess by timing, and on a busy machine
   * an Enter that came early was taken into the paste ("Removed 1 invisible character") and never sent.
   */
  async function submit(text: string, echoed: RegExp) {
    term.type(`\x1b[200~${text}\x1b[201~`);
    await waitForText(term, echoed);
    await waitForQuiet(term);
    term.type('\r');
  }

  /** Runs `!<command>` and returns the value the command printed after `label=`. */
  async function bang(command: string, label: string): Promise<string> {
    // The label is split in the typed text so that only the command's own output matches.
    const half = Math.ceil(label.length / 2);
    // `!` is a key of its own (it switches the prompt to shell mode); the command line is then pasted.
    term.type('!');
    await waitForQuiet(term);
    await submit(`${command}; echo "${label.slice(0, half)}""${label.slice(half)}=$?"`, new RegExp(`${label.slice(half)}=\\$\\?`));
    const re = new RegExp(`${label}=(\\d+)`);
    return re.exec(await waitForText(term, re, 60_000))![1]!;
  }

  it('starts straight to its prompt, with no dialog, and answers the course\'s first prompt', async () => {
    const screen = plainText(term.output());
    assert.doesNotMatch(screen, /trust this folder|Do you want to use this API key|Unable to connect|Choose the text style|Security notes/i);
    await waitForText(term, /Hello from the fake Anthropic API!/, 60_000);
    // The learner sees their one-line first message; the tutor's brief went to the system prompt only.
    const shown = plainText(term.output());
    assert.match(shown, /start stage 1 of 1/);
    assert.doesNotMatch(shown, /You are guiding a learner/);
    const kickOff = world.fake.requests.find((r) => JSON.stringify(r.body?.messages ?? []).includes('start stage 1 of 1') && r.body?.tools?.length);
    assert.match(JSON.stringify(kickOff?.body.system), /You are guiding a learner through the course/);
    // Reported, not asserted: timings depend on the machine's load.
    console.log(`# time from POST /api/sessions to the Claude Code prompt: ${msToPrompt} ms`);
  });

  it('answers a typed prompt through the proxy', async () => {
    await submit('ping [[text:PONG-FROM-FAKE-7]]', /PONG-FROM-FAKE-7\]\]/);
    await waitForText(term, /PONG-FROM-FAKE-7(?!\]\])/, 60_000);
    const requests = world.fake.requests.filter((r) => r.rawBody.includes('PONG-FROM-FAKE-7') && r.body?.tools?.length);
    assert.ok(requests.length > 0);
    // The interactive CLI offers more tools than print mode (AskUserQuestion, plan mode): all denied.
    for (const request of requests) assert.deepEqual(callableTools(request), ['Glob', 'Grep', 'Read']);
  });

  it('!env and /proc/*/environ show the session credential, never the real key', async () => {
    // The real key is only ever assembled into a file, never typed whole (a typed key would be on screen).
    const half = Math.floor(world.realKey.length / 2);
    assert.equal(await bang(`printf '%s%s' '${world.realKey.slice(0, half)}' '${world.realKey.slice(half)}' > /tmp/k.pat`, 'PATTERN_RC'), '0');
    // The pattern works: it finds the key where the key is.
    assert.equal(await bang('test -s /tmp/k.pat && grep -qF -f /tmp/k.pat /tmp/k.pat', 'PATTERN_WORKS'), '0');
    assert.equal(await bang("env | grep -q '^ANTHROPIC_API_KEY=.'", 'ENV_HAS_CREDENTIAL'), '0');
    assert.equal(await bang('env | grep -qF -f /tmp/k.pat', 'ENV_HAS_KEY'), '1');
    assert.equal(await bang("cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | grep -qF -f /tmp/k.pat", 'PROC_HAS_KEY'), '1');
  });

  it('a search of the sandbox\'s files finds no real key', async () => {
    // /usr is the host's read-only system tree (too big to search on every run); the rest is searched,
    // including the CLI binary, the home, /tmp, the course and the proxy socket's folder.
    // A decoy holding the key proves the search finds it; it must be the only file found.
    const search = 'grep -rlsF -f /tmp/k.pat --exclude=k.pat --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev --exclude-dir=usr /';
    assert.equal(await bang(`cp /tmp/k.pat /tmp/decoy && test "$(${search} | tr '\\n' ,)" = /tmp/decoy,`, 'ONLY_DECOY_HAS_KEY'), '0');
  });

  it('no network but the proxy: no interfaces, no DNS, nothing reachable on the host\'s loopback', async () => {
    assert.equal(await bang("test \"$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ,)\" = lo,", 'ONLY_LO'), '0');
    assert.notEqual(await bang('getent hosts api.anthropic.com >/dev/null', 'DNS_RC'), '0');
    // The fake API listens on the host's 127.0.0.1: the sandbox's own loopback is another network.
    assert.equal(await bang(`curl -sS -m 5 -o /dev/null http://127.0.0.1:${world.fake.port}/v1/models 2>/dev/null`, 'CURL_RC'), '7');
    assert.equal(await bang(`bash -c 'exec 3<>/dev/tcp/127.0.0.1/${world.service.port}' 2>/dev/null`, 'TCP_RC'), '1');
    // The one way out is the proxy, and it wants a valid session credential.
    assert.equal(await bang('curl -s -m 10 -o /dev/null -w "%{http_code}" -H "x-api-key: forged" -H "content-type: application/json" -d "{}" --unix-socket /run/claudecode/proxy.sock http://api-proxy/v1/messages | grep -qx 401', 'PROXY_FORGED'), '0');
  });

  it('writes outside home and /tmp fail; home and /tmp are writable', async () => {
    assert.equal(await bang('touch ~/ok /tmp/ok', 'HOME_TMP_RC'), '0');
    for (const path of ['/workspace/x', '/etc/x', '/usr/x', '/opt/claudecode/x', '/x', '/etc/claude-code/managed-settings.json']) {
      assert.notEqual(await bang(`touch ${path} 2>/dev/null`, `W_${path.replace(/[^a-z]/g, '')}`), '0', `${path} was writable`);
    }
  });

  it('the real key never reached the terminal, and the upstream only ever saw the real key', () => {
    assert.ok(!term.output().includes(world.realKey));
    assert.ok(!world.logs().includes(world.realKey));
    for (const request of world.fake.requests) assert.equal(request.headers['x-api-key'], world.realKey);
  });
});
