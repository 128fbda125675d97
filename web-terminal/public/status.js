// The status line (one sentence for the session's state) and the banner (messages that need the learner:
// no API key, the API refusing, a tab taken over, a session that ended), each with its own slot.
import { el } from './dom.js';

export function createStatusLine({ dot, text }) {
  return {
    /** kind: idle | starting | running | warn | reconnecting | ended | failed */
    set(kind, sentence) {
      dot.className = `dot ${kind}`;
      text.textContent = sentence;
    },
    get text() {
      return text.textContent;
    },
  };
}

/**
 * Several parts of the page may each show one message at a time (a slot). A message may carry actions:
 * [{ label, onClick, primary? }]. kind: info | warn | error.
 */
export function createBanner({ root, text, actions }) {
  const slots = new Map();
  function render() {
    const shown = [...slots.values()];
    root.hidden = shown.length === 0;
    // Errors first, then warnings, then the rest: the most urgent sentence leads.
    const rank = { error: 0, warn: 1, info: 2 };
    shown.sort((a, b) => (rank[a.kind] ?? 3) - (rank[b.kind] ?? 3));
    root.className = `banner banner--${shown[0]?.kind ?? 'info'}`;
    root.setAttribute('role', shown.some((m) => m.kind !== 'info') ? 'alert' : 'status');
    text.replaceChildren(...shown.map((m) => el('span', { className: 'banner__line' }, m.message)));
    actions.replaceChildren(
      ...shown.flatMap((m) => (m.actions ?? []).map((a) => el('button', { type: 'button', className: a.primary ? 'primary' : '', onclick: a.onClick }, a.label))),
    );
  }
  return {
    show(slot, message) {
      slots.set(slot, message);
      render();
    },
    hide(slot) {
      if (slots.delete(slot)) render();
    },
    has(slot) {
      return slots.has(slot);
    },
  };
}
