// The page: start, list, attach and end sessions; the terminal; the status line; the stage panel.
import { Terminal } from '/vendor/xterm/lib/xterm.mjs';
import { FitAddon } from '/vendor/addon-fit/addon-fit.mjs';
import { WebLinksAddon } from '/vendor/addon-web-links/addon-web-links.mjs';
import { adoptEmbeddedToken, fetchJson } from './api.js';
import { connectTerminal } from './connection.js';
import { showWatchers } from './watchers.js';

adoptEmbeddedToken();

const $ = (id) => document.getElementById(id);
const ui = {
  newSession: $('new-session'), endSession: $('end-session'), theme: $('theme'), course: $('course'),
  statusDot: $('status-dot'), statusText: $('status-text'), sessions: $('sessions'),
  terminal: $('terminal'), placeholder: $('placeholder'), stagePanel: $('stage-panel'),
};

const state = { current: null, connection: null, stagePanel: null };

// Theme: follow the system, remember an explicit choice.
const themes = {
  light: { background: '#fbfbf9', foreground: '#1d1d1b', cursor: '#c2571a', selectionBackground: '#f0d4c0' },
  dark: { background: '#121211', foreground: '#e8e6df', cursor: '#e07a3f', selectionBackground: '#4a3426' },
};
const preferredTheme = () => localStorage.getItem('theme') || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
function applyTheme(name) {
  document.documentElement.dataset.theme = name;
  term.options.theme = themes[name];
}

const term = new Terminal({
  cursorBlink: true,
  fontFamily: 'ui-monospace, "SF Mono", "Cascadia Code", Menlo, Consolas, monospace',
  fontSize: 14,
  scrollback: 5000,
  allowProposedApi: false,
});
const fit = new FitAddon();
term.loadAddon(fit);
term.loadAddon(new WebLinksAddon());
term.open(ui.terminal);
applyTheme(preferredTheme());
new ResizeObserver(() => fit.fit()).observe(ui.terminal);
window.addEventListener('resize', () => fit.fit());

ui.theme.addEventListener('click', () => {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem('theme', next);
  applyTheme(next);
});

function setStatus(kind, text) {
  ui.statusDot.className = `dot ${kind}`;
  ui.statusText.textContent = text;
  ui.endSession.disabled = !state.current || kind === 'ended' || kind === 'failed' || kind === 'idle';
}

const stateLabel = { starting: 'Starting', running: 'Running', reconnecting: 'Reconnecting', ended: 'Ended', failed: 'Failed', error: 'Error' };

function onStatus(kind, detail) {
  if (kind === 'error') {
    setStatus(ui.statusDot.className.replace('dot ', ''), `Error: ${detail}`);
    return;
  }
  setStatus(kind, `${stateLabel[kind] ?? kind}${detail ? ` — ${detail}` : ''}${state.current ? ` · session ${state.current.id.slice(0, 8)}` : ''}`);
  if (kind === 'ended' || kind === 'failed') refreshSessions();
}

async function refreshSessions() {
  try {
    const { sessions } = await fetchJson('/api/sessions');
    ui.sessions.replaceChildren();
    if (sessions.length === 0) ui.sessions.innerHTML = '<li class="muted">none yet</li>';
    for (const s of sessions) {
      const li = document.createElement('li');
      li.className = state.current && state.current.id === s.id ? 'current' : '';
      const label = document.createElement('span');
      label.textContent = `${s.id.slice(0, 8)} · ${s.state}${s.courseId ? ` · ${s.courseId}` : ''}`;
      li.append(label);
      if ((s.state === 'running' || s.state === 'starting') && !(state.current && state.current.id === s.id)) {
        const attach = document.createElement('button');
        attach.textContent = 'Attach';
        attach.addEventListener('click', () => attachTo(s));
        li.append(attach);
      }
      ui.sessions.append(li);
    }
  } catch (err) {
    ui.sessions.innerHTML = '';
    const li = document.createElement('li');
    li.className = 'muted';
    li.textContent = `could not list sessions: ${err.message}`;
    ui.sessions.append(li);
  }
}

async function mountStages(session) {
  ui.stagePanel.replaceChildren();
  state.stagePanel = null;
  if (!session.courseId) return;
  try {
    const { mountStagePanel } = await import('./stages.js');
    state.stagePanel = await mountStagePanel(ui.stagePanel, { fetchJson, courseId: session.courseId, sessionId: session.id });
  } catch (err) {
    ui.stagePanel.textContent = `Stages unavailable: ${err.message}`;
  }
}

function attachTo(session, wsUrl) {
  state.connection?.close();
  state.current = session;
  ui.placeholder.hidden = true;
  term.reset();
  showWatchers([]);
  fit.fit();
  term.focus();
  let firstUrl = wsUrl;
  setStatus(session.state === 'running' ? 'running' : 'starting', `${stateLabel[session.state] ?? session.state} · session ${session.id.slice(0, 8)}`);
  state.connection = connectTerminal({
    term,
    getWsUrl: async () => {
      if (firstUrl) {
        const url = firstUrl;
        firstUrl = null;
        return url;
      }
      return (await fetchJson(`/api/sessions/${session.id}/attach`, { method: 'POST' })).wsUrl;
    },
    onStatus,
    onEvent: (evt) => state.stagePanel?.handleEvent(evt),
    onWatchers: showWatchers,
    onEnded: ({ message }) => {
      setStatus('ended', message);
      refreshSessions();
    },
  });
  void mountStages(session);
  refreshSessions();
}

ui.newSession.addEventListener('click', async () => {
  ui.newSession.disabled = true;
  setStatus('starting', 'Creating a session…');
  try {
    const body = ui.course.value ? { courseId: ui.course.value } : {};
    const session = await fetchJson('/api/sessions', { method: 'POST', body });
    attachTo(session, session.wsUrl);
  } catch (err) {
    const retry = err.retryAfter ? ` (try again in ${err.retryAfter}s)` : '';
    setStatus('failed', `Could not start a session: ${err.message}${retry}`);
  } finally {
    ui.newSession.disabled = false;
  }
});

ui.endSession.addEventListener('click', async () => {
  const session = state.current;
  if (!session) return;
  ui.endSession.disabled = true;
  try {
    await fetchJson(`/api/sessions/${session.id}`, { method: 'DELETE' });
    state.connection?.close();
    state.connection = null;
    setStatus('ended', `Ended · session ${session.id.slice(0, 8)}`);
  } catch (err) {
    setStatus('error', `Could not end the session: ${err.message}`);
  }
  refreshSessions();
});

async function loadCourses() {
  try {
    const data = await fetchJson('/api/courses');
    const courses = Array.isArray(data) ? data : data.courses;
    for (const c of courses) {
      const option = document.createElement('option');
      option.value = c.id;
      option.textContent = c.title;
      ui.course.append(option);
    }
  } catch {
    ui.course.hidden = true;
  }
}

setStatus('idle', 'No session. Click New Session to start one.');
loadCourses();
refreshSessions();
window.__term = term;
