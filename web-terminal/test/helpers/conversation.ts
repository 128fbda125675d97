// A conversation with the real Claude Code CLI through a terminal socket, and what the tests of saved
// conversations check in both runtimes: the turns the fake model saw, and that another user sees nothing.
import assert from 'node:assert/strict';
import type { FakeAnthropic, RecordedRequest } from '../fakes/fake-anthropic.ts';
import { waitForQuiet, waitForText } from '../sandbox/helpers.ts';
import type { as } from '../auth/helpers.ts';
import type { TerminalClient } from './terminal-client.ts';

export type Message = { role: string; content: string | Array<{ type: string; text?: string }> };

/** The text of every turn of `role` in a Messages API request. */
export const texts = (messages: Message[], role: string): string[] =>
  messages.filter((m) => m.role === role).flatMap((m) => (typeof m.content === 'string' ? [m.content] : m.content.filter((b) => b.type === 'text').map((b) => b.text ?? '')));

/** The CLI's conversation requests (those that offer tools) with a user turn containing `marker`. */
export const conversationRequests = (fake: FakeAnthropic, marker: string): RecordedRequest[] =>
  fake.requests.filter((r) => r.path === '/v1/messages' && r.body?.tools?.length && texts(r.body.messages ?? [], 'user').some((t) => t.includes(marker)));

/** Types a prompt the way a person does: the text, then Enter once the program took it in. */
export async function submit(term: TerminalClient, text: string, echoed: RegExp): Promise<void> {
  term.type(text);
  await waitForText(term, echoed, 30_000);
  await waitForQuiet(term);
  term.type('\r');
}

/** Asks `question`, whose `[[text:REPLY]]` instruction makes the fake model answer REPLY, and waits for the answer. */
export async function ask(term: TerminalClient, question: string, reply: string): Promise<void> {
  await submit(term, `${question} [[text:${reply}]]`, new RegExp(`${reply}\\]\\]`));
  await waitForText(term, new RegExp(`${reply}(?!\\]\\])`), 60_000);
}

/** Another user gets the same 404 for `id`'s conversation, its export and resuming it as for an unknown id. */
export async function assertHiddenFrom(other: ReturnType<typeof as>, id: string): Promise<void> {
  const unknown = 'zzzzzzzzzzzzzzzzzzzz';
  for (const [method, path, body] of [
    ['GET', (x: string) => `/api/conversations/${x}/markdown`, undefined],
    ['DELETE', (x: string) => `/api/conversations/${x}`, undefined],
    ['POST', () => '/api/sessions', (x: string) => ({ resume: x })],
  ] as const) {
    const theirs = await other(method, path(id), typeof body === 'function' ? body(id) : body);
    const none = await other(method, path(unknown), typeof body === 'function' ? body(unknown) : body);
    assert.equal(theirs.status, 404, `${method} ${path(id)}`);
    assert.deepEqual(theirs.body, none.body);
  }
  assert.deepEqual((await other('GET', '/api/history')).body.sessions, []);
}
