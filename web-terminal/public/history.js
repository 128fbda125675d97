// The page's session history: the learner's past sessions (course, when, how long, stages completed), each
// with Continue (a new session resuming its conversation), Download (the conversation as Markdown) and
// Delete (the saved conversation). Plain DOM in its own module; app.js mounts it and decides what
// "continue" shows (it attaches the terminal to the new session).

import { fetchBlob, fetchJson } from './api.js';

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

const CONFIRM_MS = 4000;

/** "45 s", "12 min", "1 h 5 min". */
export function formatDuration(seconds) {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function describe(entry) {
  const when = new Date(entry.createdAt).toLocaleString();
  const parts = [when, formatDuration(entry.durationSeconds)];
  if (entry.stagesCompleted.length) parts.push(`stages ${entry.stagesCompleted.join(', ')} completed`);
  parts.push(entry.active ? 'running' : entry.state);
  return parts.join(' · ');
}

/**
 * @param {HTMLElement} container where the panel goes (its heading and list are appended)
 * @param {{ onContinue: (session: any) => void }} options `session` is the POST /api/sessions answer (with wsUrl)
 * @returns {{ refresh(): Promise<void> }}
 */
export function mountHistory(container, { onContinue }) {
  if (!document.querySelector('link[href="/history.css"]')) {
    const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: '/history.css' });
    document.head.append(link);
  }
  const section = el('section', 'history-panel');
  section.setAttribute('aria-label', 'Session history');
  const heading = el('h2', '', 'History');
  const list = el('ul', 'history');
  const message = el('p', 'muted');
  message.setAttribute('aria-live', 'polite');
  section.append(heading, list, message);
  container.append(section);

  const say = (text) => {
    message.textContent = text;
  };

  async function run(button, label, action) {
    button.disabled = true;
    try {
      await action();
    } catch (err) {
      say(`${label} failed: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  }

  function actionsFor(entry) {
    const actions = el('div', 'history__actions');
    if (entry.canContinue && !entry.active) {
      const cont = el('button', '', 'Continue');
      cont.type = 'button';
      cont.addEventListener('click', () => run(cont, 'Continue', async () => {
        const session = await fetchJson('/api/sessions', { method: 'POST', body: { resume: entry.id } });
        say('');
        onContinue(session);
        await refresh();
      }));
      actions.append(cont);
    }
    if (entry.conversation) {
      const download = el('button', '', 'Download');
      download.type = 'button';
      download.title = 'The conversation as Markdown';
      download.addEventListener('click', () => run(download, 'Download', async () => {
        const blob = await fetchBlob(`/api/conversations/${entry.id}/markdown`);
        const url = URL.createObjectURL(blob);
        const a = Object.assign(document.createElement('a'), { href: url, download: `conversation-${entry.id}.md` });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
      }));
      const del = el('button', 'danger', 'Delete');
      del.type = 'button';
      del.title = 'Delete the saved conversation';
      let armed = null;
      del.addEventListener('click', () => {
        // A second click within a few seconds confirms: deleting cannot be undone.
        if (!armed) {
          del.textContent = 'Really delete?';
          armed = setTimeout(() => {
            armed = null;
            del.textContent = 'Delete';
          }, CONFIRM_MS);
          return;
        }
        clearTimeout(armed);
        armed = null;
        void run(del, 'Delete', async () => {
          await fetchJson(`/api/conversations/${entry.id}`, { method: 'DELETE' });
          say('Conversation deleted.');
          await refresh();
        });
      });
      actions.append(download, del);
    }
    return actions;
  }

  async function refresh() {
    try {
      const { sessions } = await fetchJson('/api/history');
      list.replaceChildren();
      if (sessions.length === 0) list.append(el('li', 'muted', 'no past sessions'));
      for (const entry of sessions) {
        const li = el('li');
        li.dataset.sessionId = entry.id;
        li.append(el('div', 'history__title', entry.courseId ?? 'No course'), el('div', 'history__meta', describe(entry)));
        if (!entry.conversation && !entry.active) li.append(el('div', 'history__meta', 'no saved conversation'));
        li.append(actionsFor(entry));
        list.append(li);
      }
    } catch (err) {
      say(`Could not load the history: ${err.message}`);
    }
  }

  void refresh();
  return { refresh };
}
