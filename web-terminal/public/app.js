// The page: course first, then the terminal with the course beside it; resumes the learner's running session
// on load; says in plain sentences (reasons.js) what happens. Each part lives in its own module; this one
// wires them together.
import { adoptEmbeddedToken, fetchJson } from './api.js';
import { connectTerminal, keepEarlyInput } from './connection.js';
import { mountCoursePicker } from './course-picker.js';
import { mountHistory } from './history.js';
import { CloseCode } from './protocol.js';
import { describeReason, describeState, REASONS } from './reasons.js';
import { renderSessions } from './sessions-list.js';
import { mountStagePanel } from './stages.js';
import { createBanner, createStatusLine } from './status.js';
import { mountTabs } from './tabs.js';
import { createTerminalView } from './terminal-view.js';
import { showWatchers } from './watchers.js';

adoptEmbeddedToken();

const $ = (id) => document.getElementById(id);
const SESSION_KEY = 'claudecode.session';

const status = createStatusLine({ dot: $('status-dot'), text: $('status-text') });
const banner = createBanner({ root: $('banner'), text: $('banner-text'), actions: $('banner-actions') });
const tabs = mountTabs(document.querySelector('.tabs'));
const ui = {
  startView: $('start-view'), sessionView: $('session-view'), startMessage: $('start-message'),
  startSessions: $('start-sessions'), sideSessions: $('side-sessions'), stagePanel: $('stage-panel'),
  endSession: $('end-session'), theme: $('theme'), backToCourses: $('back-to-courses'),
};

/** current: the session shown (view from the API); live: whether its socket may still deliver. */
const state = { current: null, live: false, connection: null, stagePanel: null, sessions: [] };

// Theme: follow the system, remember an explicit choice.
const preferredTheme = () => localStorage.getItem('theme') || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
document.documentElement.dataset.theme = preferredTheme();
const terminal = await createTerminalView($('terminal'), preferredTheme());
const { term } = terminal;
window.__term = term;
ui.theme.addEventListener('click', () => {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem('theme', next);
  document.documentElement.dataset.theme = next;
  terminal.setTheme(next);
});
// Keyboard users leave the terminal (which keeps Tab for itself) with F6.
term.attachCustomKeyEventHandler((e) => {
  if (e.type === 'keydown' && e.key === 'F6') {
    e.preventDefault();
    tabs.focusSelected();
    return false;
  }
  return true;
});
term.textarea?.setAttribute('aria-label', 'Terminal input. Press F6 to move to the course panel.');

const picker = mountCoursePicker({ list: $('course-list'), detail: $('course-detail'), fetchJson, onStart: startSession });

function showStartView(message) {
  ui.sessionView.hidden = true;
  ui.startView.hidden = false;
  ui.endSession.hidden = true;
  ui.startMessage.hidden = !message;
  ui.startMessage.textContent = message ?? '';
  picker.refresh(); // progress may have moved on during a session
  if (!state.current && !message) status.set('idle', 'No session yet. Choose a course and start it.');
  void refreshSessions();
}

function showSessionView() {
  ui.startView.hidden = true;
  ui.sessionView.hidden = false;
  ui.endSession.hidden = false;
  terminal.refit();
}

async function refreshSessions() {
  for (const panel of historyPanels) void panel.refresh();
  try {
    state.sessions = (await fetchJson('/api/sessions')).sessions;
  } catch {
    return;
  }
  const options = {
    sessions: state.sessions,
    courseTitle: picker.courseTitle,
    currentId: state.live ? state.current?.id ?? null : null,
    onResume: (s) => void resume(s),
    onEnd: (s) => void endSession(s),
  };
  renderSessions(ui.startSessions, options);
  renderSessions(ui.sideSessions, options);
}

// ---- starting, resuming, ending ----

/** Starts a session on `courseId` (or none), or one continuing the conversation of session `resume`. */
async function startSession(courseId, { resume: earlier } = {}) {
  picker.setBusy(true);
  banner.hide('ended');
  status.set('starting', 'Creating your session.');
  // The terminal shows at once and keeps what the learner types while the session is being created.
  detach();
  showSessionView();
  term.reset();
  term.focus();
  const typed = keepEarlyInput(term, () => onStatus('error', describeReason('input_overflow')));
  try {
    const profile = picker.profile();
    const body = { ...(earlier ? { resume: earlier } : courseId ? { courseId } : {}), ...(profile ? { profile } : {}) };
    const session = await fetchJson('/api/sessions', { method: 'POST', body });
    open(session, session.wsUrl, typed.take());
  } catch (err) {
    typed.take();
    // The API's message is the catalog's sentence for the limit; the page adds what the learner can do.
    const own = err.code === 'user_session_limit' ? ' Resume or end one of your sessions below.' : '';
    const later = (err.code === 'session_limit' || err.code === 'rate_limited') && err.retryAfter ? ` You can try again in about ${Math.ceil(err.retryAfter / 60)} min.` : '';
    status.set('failed', err.message);
    showStartView(`${err.message}${own}${later}`);
    if (own) ui.startSessions.querySelector('button')?.focus();
  } finally {
    picker.setBusy(false);
  }
}

async function resume(session) {
  try {
    const fresh = await fetchJson(`/api/sessions/${session.id}/attach`, { method: 'POST' });
    open(fresh, fresh.wsUrl);
  } catch (err) {
    showStartView(err.status === 404 || err.status === 409 ? describeState('ended') : err.message);
  }
}

async function endSession(session) {
  try {
    await fetchJson(`/api/sessions/${session.id}`, { method: 'DELETE' });
  } catch (err) {
    if (err.status !== 404) {
      banner.show('end', { kind: 'error', message: err.message });
      return;
    }
  }
  banner.hide('end');
  if (state.current?.id === session.id) await sessionEnded();
  else void refreshSessions();
}

/** Stops showing the current session's output here (the session itself goes on). */
function detach() {
  state.connection?.close();
  state.connection = null;
  state.live = false;
}

/** Shows a session: the terminal, its course beside it, and its socket (sending `earlyInput` first). */
function open(session, wsUrl, earlyInput = []) {
  state.connection?.close();
  state.current = session;
  state.live = true;
  localStorage.setItem(SESSION_KEY, session.id);
  banner.hide('ended');
  banner.hide('taken-over');
  banner.hide('upstream');
  banner.hide('socket');
  showSessionView();
  term.reset();
  showWatchers([]);
  term.focus();
  status.set(session.state === 'running' ? 'running' : 'starting', describeState(session.state));
  let firstUrl = wsUrl;
  state.connection = connectTerminal({
    term,
    getWsUrl: async () => {
      const url = firstUrl ?? (await fetchJson(`/api/sessions/${session.id}/attach`, { method: 'POST' })).wsUrl;
      firstUrl = null;
      return url;
    },
    onStatus,
    earlyInput,
    onEvent: (evt) => state.stagePanel?.handleEvent(evt),
    onWatchers: showWatchers,
    onEnded: ({ code, message }) => {
      if (code === CloseCode.TAKEN_OVER) return takenOver();
      if (code === CloseCode.ENDED) return void sessionEnded();
      void sessionEnded(message);
    },
  });
  mountStages(session);
  tabs.select(session.courseId ? 'tab-course' : 'tab-sessions');
  void refreshSessions();
}

function mountStages(session) {
  state.stagePanel?.destroy();
  state.stagePanel = null;
  if (!session.courseId) {
    ui.stagePanel.replaceChildren(Object.assign(document.createElement('p'), { className: 'muted', textContent: 'This session has no course.' }));
    return;
  }
  state.stagePanel = mountStagePanel(ui.stagePanel, { fetchJson, courseId: session.courseId, sessionId: session.id });
}

function onStatus(kind, detail, msg) {
  if (kind === 'error') {
    banner.show('socket', { kind: 'warn', message: detail, actions: [{ label: 'Dismiss', onClick: () => banner.hide('socket') }] });
    return;
  }
  if (kind === 'reconnecting') return status.set('reconnecting', describeState('reconnecting'));
  if (kind === 'starting') return status.set('starting', detail || describeState('starting'));
  if (kind === 'running') {
    // The API proxy saw the model's API refuse or fail this session's requests: say so, not "running".
    if (msg?.reason) {
      const sentence = msg.message || describeReason(msg.reason);
      banner.show('upstream', { kind: 'warn', message: sentence });
      return status.set('warn', sentence);
    }
    banner.hide('upstream');
    return status.set('running', describeState('running'));
  }
  // 'ended' / 'failed' arrive just before the socket closes; sessionEnded reads the reason from the API.
}

function takenOver() {
  state.live = false;
  state.connection = null;
  state.stagePanel?.setSession(null);
  status.set('ended', REASONS.taken_over);
  const session = state.current;
  banner.show('taken-over', { kind: 'warn', message: REASONS.taken_over, actions: [{ label: 'Use here', primary: true, onClick: () => void resume(session) }] });
}

/** The shown session is over: say why, and offer to start again or continue the course. */
async function sessionEnded(fallback = '') {
  const session = state.current;
  if (!session) return;
  state.connection?.close();
  state.connection = null;
  state.live = false;
  state.stagePanel?.setSession(null);
  if (localStorage.getItem(SESSION_KEY) === session.id) localStorage.removeItem(SESSION_KEY);
  let why = fallback;
  let kind = 'ended';
  try {
    const view = await fetchJson(`/api/sessions/${session.id}`);
    if (view.state === 'running' || view.state === 'starting') return open(view); // only the socket dropped
    why = view.reasonMessage ?? why;
    if (view.state === 'failed') kind = 'failed';
  } catch {
    // Gone from the server's list: it ended a while ago.
  }
  // An ending's reason already says it ended ("The session reached its time limit."); a failure says both.
  const sentence = kind === 'failed' || !why ? `${describeState(kind)}${why ? ` ${why}` : ''}` : why;
  ui.endSession.hidden = true;
  status.set(kind, sentence);
  banner.hide('upstream');
  // Claude Code's own "claude --resume" hint on screen cannot be acted on; this offer can.
  const continuable = await canContinue(session.id);
  banner.show('ended', {
    kind: kind === 'failed' ? 'error' : 'info',
    message: sentence,
    actions: [
      ...(continuable ? [{ label: 'Continue this conversation', primary: true, onClick: () => void startSession(session.courseId, { resume: session.id }) }] : []),
      { label: session.courseId ? 'Continue the course' : 'Start again', primary: !continuable, onClick: () => void startSession(session.courseId) },
      { label: 'Choose a course', onClick: () => { banner.hide('ended'); showStartView(); } },
    ],
  });
  void refreshSessions();
}

/** Whether the ended session's conversation was saved and can be continued in a new session. */
async function canContinue(sessionId) {
  try {
    const { sessions } = await fetchJson('/api/history');
    return sessions.some((entry) => entry.id === sessionId && entry.canContinue);
  } catch {
    return false;
  }
}

ui.endSession.addEventListener('click', () => {
  if (state.current && state.live) void endSession(state.current);
});
ui.backToCourses.addEventListener('click', () => {
  if (state.current?.courseId) picker.choose(state.current.courseId);
  showStartView();
});
setInterval(() => void refreshSessions(), 30_000);

// ---- start-up: what the server can do, the courses, and the learner's running session ----

async function loadInfo() {
  try {
    const info = await fetchJson('/api/info');
    if (info?.apiKeyConfigured === false) banner.show('no-key', { kind: 'warn', message: REASONS.no_api_key });
    // Keep the scrollback the server restores on a reattach, so a reload shows the same lines.
    if (Number.isInteger(info?.scrollbackLines)) terminal.term.options.scrollback = info.scrollbackLines;
    picker.setProfiles(info?.profiles);
  } catch {
    // An older server without /api/info: nothing known, nothing said.
  }
}

async function boot() {
  await Promise.all([loadInfo(), picker.load(), refreshSessions()]);
  const running = state.sessions.filter((s) => s.state === 'running' || s.state === 'starting');
  const remembered = localStorage.getItem(SESSION_KEY);
  const pick = running.find((s) => s.id === remembered) ?? running.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))[0];
  if (pick) return resume(pick);
  // The session this browser last used ended while nobody watched it (idle, its time limit, a restart): say why.
  const missed = remembered ? state.sessions.find((s) => s.id === remembered && s.reasonMessage) : undefined;
  localStorage.removeItem(SESSION_KEY);
  if (missed) status.set(missed.state === 'failed' ? 'failed' : 'ended', missed.reasonMessage);
  showStartView(missed ? `Your last session has ended. ${missed.reasonMessage}` : undefined);
}

// Past sessions, on the start page and in the side panel: continue a conversation, download or delete it.
const historyPanels = [$('start-view'), $('panel-sessions')].map((container) => mountHistory(container, { onContinue: (session) => open(session, session.wsUrl) }));

void boot();
