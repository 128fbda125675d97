// The reason catalog (public/reasons.js) is the one place a reason's sentence is written. Every reason code
// the server can give a session or a refusal, and every code the page names, must have its sentence there:
// describeReason's fallback ("spawn failed.") is for codes from a newer server, not for the server's own.
// The codes are read from the sources as the server and the page produce them, so a new one cannot slip by.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeReason, REASONS } from '../../public/reasons.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string, ext: RegExp): Array<{ file: string; text: string }> {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(root, dir, name);
    if (statSync(path).isDirectory()) return sources(relative(root, path), ext);
    return ext.test(name) ? [{ file: relative(root, path), text: readFileSync(path, 'utf8') }] : [];
  });
}

/** code -> where it was found */
function collect(files: Array<{ file: string; text: string }>, patterns: RegExp[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (code: string, where: string) => found.set(code, [...(found.get(code) ?? []), where]);
  for (const { file, text } of files) {
    for (const pattern of patterns) for (const m of text.matchAll(pattern)) add(m[1]!, file);
    // Exported union types of reason codes (`export type XReason = 'a' | 'b'`), and inline `reason: 'a' | 'b'` in a type.
    for (const m of text.matchAll(/export type (\w*Reason) =([^;]+);/g)) for (const code of m[2]!.matchAll(/'([a-z_]+)'/g)) add(code[1]!, `${file} (${m[1]})`);
    for (const m of text.matchAll(/reason: ('[a-z_]+'(?:\s*\|\s*'[a-z_]+')+)/g)) for (const code of m[1]!.matchAll(/'([a-z_]+)'/g)) add(code[1]!, file);
  }
  return found;
}

const missing = (found: Map<string, string[]>) =>
  [...found].filter(([code]) => !Object.hasOwn(REASONS, code)).map(([code, where]) => `${code} (${[...new Set(where)].join(', ')})`);

describe('the reason catalog', () => {
  it('has a sentence for every reason the server gives a session or a refusal', () => {
    const server = collect(sources('web-terminal/src', /\.ts$/), [
      /new SandboxError\(\s*'([a-z_]+)'/g, // start failures and sandbox problems (both runtimes)
      /\.end\([^,()]+,\s*'([a-z_]+)'/g, // how the manager ends a session
      /\.finish\(\s*'(?:ended|failed)',\s*'([a-z_]+)'/g,
      /finish\(\{[^}]*reason: '([a-z_]+)'/g, // a terminal's own end (e.g. the exec connection lost)
      /report\.problem\(\s*'([a-z_]+)'/g, // what the cluster reports while a pod waits
      /reason: '([a-z_]+)', retryAfterSeconds/g, // admission refusals
    ]);
    const proxy = collect(sources('api-proxy/src', /upstream-outcomes\.ts$/), []); // UpstreamReason: what the proxy reports
    assert.ok(server.size >= 20 && proxy.size >= 5, `the scan found the codes (${[...server.keys(), ...proxy.keys()].join(' ')})`);
    for (const expected of ['deleted', 'idle', 'expired', 'start_timeout', 'user_session_limit', 'unschedulable']) assert.ok(server.has(expected), expected);
    for (const expected of ['no_api_key', 'upstream_unauthorized', 'upstream_forbidden', 'upstream_rate_limited', 'upstream_overloaded']) assert.ok(proxy.has(expected), expected);
    assert.deepEqual(missing(server), [], 'server reasons without a sentence in public/reasons.js');
    assert.deepEqual(missing(proxy), [], 'proxy outcomes without a sentence in public/reasons.js');
  });

  it('has a sentence for every code the page names', () => {
    const page = collect(sources('web-terminal/public', /\.js$/).filter((f) => !f.file.endsWith('reasons.js')), [
      /REASONS\.([a-z_]+)/g,
      /describeReason\(\s*'([a-z_]+)'/g,
    ]);
    assert.ok(page.has('no_api_key') && page.has('taken_over'), [...page.keys()].join(' '));
    assert.deepEqual(missing(page), []);
  });

  it('says each reason as one plain sentence, and reads unknown codes as words', () => {
    for (const [code, sentence] of Object.entries(REASONS)) {
      assert.match(code, /^[a-z][a-z_]*[a-z]$/, code);
      assert.match(sentence, /^[A-Z].*[.]$/, `${code}: a sentence`);
      assert.doesNotMatch(sentence, /[a-z]+_[a-z]+/, `${code}: no code inside the sentence`);
      assert.equal(describeReason(code), sentence);
    }
    assert.equal(describeReason('from_a_newer_server'), 'from a newer server.');
    assert.equal(describeReason(null), '');
  });
});
