// Server-executed features are refused before the upstream sees them: typed (server) tools,
// `mcp_servers`, `container`, unknown top-level fields and betas the pinned CLI does not send.
// A normal custom tool still goes through, and every final refusal says `x-should-retry: false`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ALLOWED_BETAS } from '../src/betas.ts';
import { apiHeaders, messagesBody, request, startRig, type Rig } from './helpers.ts';

const CUSTOM_TOOL = { name: 'Read', description: 'read a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' } } } };
const SERVER_TOOLS = [
  { type: 'web_search_20250305', name: 'web_search', max_uses: 5 },
  { type: 'web_fetch_20250910', name: 'web_fetch' },
  { type: 'code_execution_20250825', name: 'code_execution' },
  { type: 'bash_20250124', name: 'bash' },
  { type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' },
  { type: 'computer_20250124', name: 'computer', display_width_px: 1024, display_height_px: 768 },
  { type: 'tool_search_tool_regex_20251119', name: 'tool_search' },
  { type: 'mcp_toolset', mcp_server_name: 'evil' },
  { type: 'memory_20250818', name: 'memory' },
];

describe('server-executed features are refused', () => {
  let rig: Rig;
  let cred: string;
  before(async () => {
    rig = await startRig();
    cred = rig.credential();
  });
  after(() => rig.close());

  async function refused(body: string, headers: Record<string, string>, reason: string, label: string) {
    const hits = rig.fake.hits();
    const r = await request(rig.url, { headers: apiHeaders(cred, headers), body });
    assert.equal(r.status, 400, label);
    assert.equal(r.headers['x-proxy-rejection'], reason, label);
    assert.equal(r.headers['x-should-retry'], 'false', label);
    assert.equal(r.json().type, 'error', label);
    assert.equal(r.json().error.type, 'invalid_request_error', label);
    assert.equal(rig.fake.hits(), hits, `${label}: the upstream was contacted`);
  }

  test('each server tool, alone or next to a custom tool, on both API routes', async () => {
    for (const tool of SERVER_TOOLS) {
      await refused(messagesBody({ tools: [tool] }), {}, 'server_tool_not_allowed', tool.type);
      await refused(messagesBody({ tools: [CUSTOM_TOOL, tool] }), {}, 'server_tool_not_allowed', `${tool.type} after a custom tool`);
      const count = JSON.stringify({ model: 'claude-x', messages: [{ role: 'user', content: 'hi' }], tools: [tool] });
      const hits = rig.fake.hits();
      const r = await request(rig.url, { path: '/v1/messages/count_tokens?beta=true', headers: apiHeaders(cred), body: count });
      assert.equal(r.status, 400, `count_tokens ${tool.type}`);
      assert.equal(rig.fake.hits(), hits);
    }
  });

  test('a tool type smuggled as a duplicate key is what the upstream sees, and is refused', async () => {
    // Last-wins parsers read "custom"; first-wins parsers read the server tool.
    const body = '{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"web_search_20250305","name":"web_search","type":"custom","input_schema":{"type":"object"}}]}';
    const r = await request(rig.url, { headers: apiHeaders(cred), body });
    assert.equal(r.status, 200, 'accepted as the custom tool the proxy checked');
    const seen = rig.fake.requests.at(-1)!.rawBody;
    assert.equal(seen.match(/web_search_20250305/g), null, 'the forwarded bytes hold only the checked value');
    assert.equal(JSON.parse(seen).tools[0].type, 'custom');
  });

  test('mcp_servers, container and unknown top-level fields', async () => {
    await refused(messagesBody({ mcp_servers: [{ type: 'url', url: 'https://evil.example/mcp', name: 'evil' }] }), {}, 'server_feature_not_allowed', 'mcp_servers');
    await refused(messagesBody({ container: 'container_011CPR5CNjB747bTd36fQLFk' }), {}, 'server_feature_not_allowed', 'container');
    await refused(messagesBody({ container: { skills: [{ type: 'anthropic', skill_id: 'pptx' }] } }), {}, 'server_feature_not_allowed', 'container skills');
    await refused(messagesBody({ some_future_server_feature: { enabled: true } }), {}, 'field_not_allowed', 'unknown field');
  });

  test('betas outside the CLI allowlist, alone or among allowed ones', async () => {
    for (const beta of ['mcp-client-2025-04-04', 'mcp-servers-2025-12-04', 'code-execution-2025-08-25', 'web-fetch-2025-09-10', 'files-api-2025-04-14', 'skills-2025-10-02', 'computer-use-2025-01-24', 'CLAUDE-CODE-20250219']) {
      await refused(messagesBody(), { 'anthropic-beta': beta }, 'beta_not_allowed', beta);
      await refused(messagesBody(), { 'anthropic-beta': `claude-code-20250219, ${beta}` }, 'beta_not_allowed', `${beta} in a list`);
    }
  });

  test('a normal request with a custom tool and every allowed beta is forwarded', async () => {
    const betas = [...ALLOWED_BETAS].join(',');
    const r = await request(rig.url, { headers: apiHeaders(cred, { 'anthropic-beta': betas }), body: messagesBody({ tools: [CUSTOM_TOOL, { ...CUSTOM_TOOL, name: 'Custom', type: 'custom' }], tool_choice: { type: 'auto' }, metadata: { user_id: 'u' }, thinking: { type: 'adaptive' }, context_management: { edits: [] }, output_config: { effort: 'medium' }, temperature: 1 }) });
    assert.equal(r.status, 200, r.text);
    assert.equal(rig.fake.requests.at(-1)!.headers['anthropic-beta'], betas);
  });
});

describe('x-should-retry says whether a retry can help', () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig({ MAX_TOKENS_CEILING: '2000', RATE_LIMIT_PER_MINUTE: '1', TOKEN_BUDGET_PER_SESSION: '1' });
  });
  after(() => rig.close());

  test('final refusals say false; a rate limit that clears says true', async () => {
    const expired = rig.credential({ expiresAt: new Date(Date.now() - 1000) });
    const cases: Array<[string, Record<string, string>, string, number]> = [
      ['bad credential', apiHeaders('sk-ant-nothing-valid'), messagesBody(), 401],
      ['expired credential', apiHeaders(expired), messagesBody(), 401],
      ['max_tokens over the ceiling', apiHeaders(rig.credential({ sessionId: 's-ceiling' })), messagesBody({ max_tokens: 5000 }), 400],
      ['model not allowed', apiHeaders(rig.credential({ sessionId: 's-model' })), messagesBody({ model: 'gpt-4' }), 403],
    ];
    for (const [label, headers, body, status] of cases) {
      const r = await request(rig.url, { headers, body });
      assert.equal(r.status, status, label);
      assert.equal(r.headers['x-should-retry'], 'false', label);
    }
    // One request spends the 1-token budget; the next is a budget 429 (final) ...
    const cred = rig.credential({ sessionId: 's-budget' });
    assert.equal((await request(rig.url, { headers: apiHeaders(cred), body: messagesBody() })).status, 200);
    const spent = await request(rig.url, { headers: apiHeaders(cred), body: messagesBody() });
    assert.equal(spent.status, 429);
    assert.equal(spent.headers['x-proxy-rejection'], 'session_budget');
    assert.equal(spent.headers['x-should-retry'], 'false');
    // ... while the per-minute rate limit clears by itself.
    // (count_tokens spends no budget, so the rate limit is what refuses the second call.)
    const other = rig.credential({ sessionId: 's-rate' });
    const count = { path: '/v1/messages/count_tokens', headers: apiHeaders(other), body: JSON.stringify({ model: 'claude-x', messages: [{ role: 'user', content: 'hi' }] }) };
    assert.equal((await request(rig.url, count)).status, 200);
    const limited = await request(rig.url, count);
    assert.equal(limited.headers['x-proxy-rejection'], 'rate');
    assert.equal(limited.headers['x-should-retry'], 'true');
  });

  test('no API key: an immediate, final 503 that names the cause', async () => {
    const keyless = await startRig({ ANTHROPIC_API_KEY: '' });
    try {
      const r = await request(keyless.url, { headers: apiHeaders(keyless.credential()), body: messagesBody() });
      assert.equal(r.status, 503);
      assert.equal(r.headers['x-should-retry'], 'false');
      assert.match(r.json().error.message, /no Anthropic API key is configured/);
      assert.equal(keyless.fake.hits(), 0);
    } finally {
      await keyless.close();
    }
  });
});
