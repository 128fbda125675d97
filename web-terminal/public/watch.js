// The instructors' page: the running sessions, and a read-only terminal onto the one being watched.
// The terminal takes the session's own size (from `size` messages), so the screen is drawn as the learner sees it.
import { Terminal } from '/vendor/xterm/lib/xterm.mjs';
import { adoptEmbeddedToken, fetchJson } from './api.js';
import { connectTerminal } from './connection.js';
import { TERMINAL_FONT, fontsReady } from './terminal-view.js';

adoptEmbeddedToken();

const $ = (id) => document.getElementById(id);
const ui = { sessions: $('sessions'), terminal: $('terminal'), placeholder: $('placeholder'), statusDot: $('status-dot'), statusText: $('status-text'), refresh: $('refresh'), stop: $('stop') };
const state = { watching: null, connection: null };

await fontsReady();
const term = new Terminal({
  disableStdin: true,
  cursorBlink: false,
  // The learner's font and legibility floor, so the instructor sees the same glyphs and readable colours.
  fontFamily: TERMINAL_FONT,
  fontSize: 14,
  lineHeight: 1.15,
  minimumContrastRatio: 4.5,
  scrollback: 5000,
});
term.open(ui.terminal);

function setStatus(kind, text) {
  ui.statusDot.className = `dot ${kind}`;
  ui.statusText.textContent = text;
}

function label(session) {
  const parts = [session.displayName || 'someone', session.courseId || 'no course', session.id.slice(0, 8)];
  if (session.watchers.length) parts.push(`watched by ${session.watchers.join(', ')}`);
  return parts.join(' · ');
}

async function refresh() {
  let sessions;
  try {
    ({ sessions } = await fetchJson('/api/watch/sessions'));
  } catch (err) {
    ui.sessions.replaceChildren(Object.assign(document.createElement('li'), {
      className: 'muted',
      textContent: err.status === 404 ? 'Only instructors and administrators can watch sessions.' : `Could not list sessions: ${err.message}`,
    }));
    return;
  }
  ui.sessions.replaceChildren();
  if (sessions.length === 0) ui.sessions.append(Object.assign(document.createElement('li'), { className: 'muted', textContent: 'no running sessions' }));
  for (const session of sessions) {
    const li = document.createElement('li');
    li.className = state.watching === session.id ? 'current' : '';
    li.append(Object.assign(document.createElement('span'), { className: 'who', textContent: label(session) }));
    const button = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Watch' });
    button.addEventListener('click', () => watch(session));
    li.append(button);
    ui.sessions.append(li);
  }
}

function stop() {
  state.connection?.close();
  state.connection = null;
  state.watching = null;
  ui.stop.disabled = true;
}

function watch(session) {
  stop();
  state.watching = session.id;
  ui.stop.disabled = false;
  ui.placeholder.hidden = true;
  term.reset();
  setStatus('starting', `Watching ${session.displayName || session.id.slice(0, 8)}…`);
  state.connection = connectTerminal({
    term,
    getWsUrl: async () => (await fetchJson(`/api/sessions/${session.id}/watch`, { method: 'POST' })).wsUrl,
    onStatus: (kind, detail) => setStatus(kind, `${kind === 'running' ? 'Watching' : kind} ${session.displayName || ''}${detail ? ` — ${detail}` : ''}`),
    onEvent: () => undefined,
    onSize: ({ cols, rows }) => term.resize(cols, rows),
    onEnded: ({ message }) => {
      setStatus('ended', message);
      ui.stop.disabled = true;
      refresh();
    },
  });
  refresh();
}

ui.refresh.addEventListener('click', refresh);
ui.stop.addEventListener('click', () => {
  stop();
  setStatus('idle', 'Stopped watching.');
  refresh();
});
refresh();
window.__term = term;
