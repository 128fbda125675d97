// The learner's side of the live view: while anyone watches this session read-only (an instructor),
// a badge says so and who. The server tells the page on every attach and whenever it changes.
const BADGE_ID = 'watchers';

function ensureStyles() {
  if (document.querySelector('link[href="/watch.css"]')) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = '/watch.css';
  document.head.append(link);
}

/** Shows who watches (distinct display names); an empty list removes the badge. */
export function showWatchers(names) {
  let badge = document.getElementById(BADGE_ID);
  if (!Array.isArray(names) || names.length === 0) {
    badge?.remove();
    return;
  }
  if (!badge) {
    ensureStyles();
    badge = document.createElement('div');
    badge.id = BADGE_ID;
    badge.className = 'watchers-badge';
    badge.setAttribute('role', 'status');
    badge.setAttribute('aria-live', 'polite');
    badge.title = 'An instructor sees your terminal, read-only. They cannot type into it.';
    (document.querySelector('.statusbar') ?? document.body).append(badge);
  }
  badge.textContent = `◉ Watched by ${names.join(', ')}`;
}
