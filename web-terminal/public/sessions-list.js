// The learner's sessions: course, start time, time left, and Resume / End each. Only sessions that are
// still starting or running are listed; ended ones are not clutter.
import { el } from './dom.js';

const isActive = (s) => s.state === 'starting' || s.state === 'running';

/** "42 min left", "1 h 5 min left", "less than a minute left" */
export function timeLeft(expiresAt, now = Date.now()) {
  const minutes = Math.floor((Date.parse(expiresAt) - now) / 60_000);
  if (minutes < 1) return 'less than a minute left';
  if (minutes < 60) return `${minutes} min left`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}

const startedAt = (createdAt) => new Date(createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/**
 * @param {HTMLUListElement} list
 * @param {{ sessions: any[], courseTitle: (id: string | null) => string, currentId: string | null,
 *           onResume: (session: any) => void, onEnd: (session: any) => void }} options
 * @returns {number} how many sessions are listed
 */
export function renderSessions(list, { sessions, courseTitle, currentId, onResume, onEnd }) {
  const active = sessions.filter(isActive).sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  if (active.length === 0) {
    list.replaceChildren(el('li', { className: 'muted' }, 'No session is running.'));
    return 0;
  }
  list.replaceChildren(
    ...active.map((s) => {
      const title = courseTitle(s.courseId);
      const here = s.id === currentId;
      const details = `started ${startedAt(s.createdAt)} · ${timeLeft(s.expiresAt)}${s.state === 'starting' ? ' · starting' : ''}${here ? ' · open here' : ''}`;
      return el(
        'li',
        { className: here ? 'current' : '' },
        el('span', { className: 'sessions__label' }, el('strong', {}, title), el('span', { className: 'muted' }, details)),
        el(
          'span',
          { className: 'sessions__actions' },
          here ? null : el('button', { type: 'button', 'aria-label': `Resume ${title}, started ${startedAt(s.createdAt)}`, onclick: () => onResume(s) }, 'Resume'),
          el('button', { type: 'button', 'aria-label': `End ${title}, started ${startedAt(s.createdAt)}`, onclick: () => onEnd(s) }, 'End'),
        ),
      );
    }),
  );
  return active.length;
}
