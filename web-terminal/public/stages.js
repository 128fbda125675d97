// The stage panel beside the terminal: a course's stages (done / current / locked), the current stage's goal,
// an answer box for stages with a server-verified check, and a progress bar. Plain DOM, no framework.
//
// State always comes from the API (GET /api/courses/:id/stages + GET /api/progress/:id), so it survives a
// reload; `handleEvent` applies live `stage_complete` / `course_complete` events from the terminal WebSocket.
//
// `fetchJson` is api.js's: `fetchJson(url, { method, body })` with `body` a plain value (encoded once there);
// it resolves with the parsed JSON of a 2xx answer and rejects with an Error carrying `status`, `code` and the
// server's plain `message` (from `{"error":{"code","message"}}`). Course text is only ever set as text.

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

/**
 * @param {HTMLElement} container
 * @param {{ fetchJson: (url: string, init?: RequestInit) => Promise<any>, courseId: string, sessionId?: string | null }} options
 * @returns {{ handleEvent(evt: any): boolean, refresh(): Promise<void>, setSession(id: string | null): void, destroy(): void }}
 */
let panels = 0; // element ids stay unique when a page shows more than one panel

export function mountStagePanel(container, { fetchJson, courseId, sessionId: initialSession = null }) {
  let sessionId = initialSession;
  const panelId = ++panels;
  const state = {
    title: courseId,
    stages: [],
    /** stage number -> completedAt */
    done: new Map(),
    courseComplete: false,
    /** The stage whose details are shown; null follows the current stage. */
    selected: null,
    error: null,
    loading: true,
    /** The last completion, shown until the next one: "Stage 1 complete. Next: …". */
    celebration: null,
  };
  const forms = new Map(); // stage number -> { answer text, message, busy } kept across renders

  const root = el('section', 'stage-panel');
  root.setAttribute('aria-label', 'Course stages');
  const live = el('div', 'stage-panel__live');
  live.setAttribute('aria-live', 'polite');
  container.replaceChildren(root, live);

  const currentStage = () => state.stages.find((s) => !state.done.has(s.number))?.number ?? null;
  const stageState = (number) => {
    if (state.done.has(number)) return 'done';
    return number === currentStage() ? 'current' : 'locked';
  };
  const announce = (text) => {
    live.textContent = text;
  };

  function renderAnswerForm(stage) {
    const saved = forms.get(stage.number) ?? { answer: '', message: '', kind: '', busy: false };
    forms.set(stage.number, saved);
    const form = el('form', 'stage-panel__answer');
    const label = el('label', 'stage-panel__answer-label', 'Your answer');
    const input = el('input', 'stage-panel__answer-input');
    input.type = 'text';
    input.maxLength = 1000;
    input.autocomplete = 'off';
    input.value = saved.answer;
    input.id = `stage-answer-${panelId}-${stage.number}`;
    label.htmlFor = input.id;
    input.addEventListener('input', () => {
      saved.answer = input.value;
    });
    const button = el('button', 'stage-panel__answer-submit', saved.busy ? 'Checking…' : 'Check');
    button.type = 'submit';
    button.disabled = saved.busy || !sessionId;
    const message = el('p', `stage-panel__answer-message ${saved.kind ? `is-${saved.kind}` : ''}`, saved.message);
    message.setAttribute('role', 'status');
    form.append(label, input, button, message);
    if (!sessionId && !saved.message) message.textContent = 'Start a session on this course to submit answers.';
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const answer = input.value.trim();
      if (!answer || saved.busy || !sessionId) return;
      Object.assign(saved, { busy: true, message: '', kind: '' });
      render();
      try {
        const result = await fetchJson(`/api/sessions/${encodeURIComponent(sessionId)}/stages/${stage.number}/answer`, {
          method: 'POST',
          body: { answer },
        });
        Object.assign(saved, { busy: false, answer: '', message: 'Correct!', kind: 'ok' });
        markDone(stage.number, result.completedAt);
        if (result.courseComplete) state.courseComplete = true;
        state.selected = null;
      } catch (err) {
        // The API's message is the catalog's plain sentence (wrong answer, too many tries); anything else is ours.
        Object.assign(saved, { busy: false, message: err?.code ? err.message : 'Could not check the answer right now.', kind: 'error' });
      }
      render();
      announce(saved.kind === 'ok' && state.celebration ? `Correct! ${state.celebration}` : saved.message);
    });
    return form;
  }

  function renderDetails(stage) {
    const details = el('div', 'stage-panel__details');
    details.append(el('h3', 'stage-panel__stage-title', `Stage ${stage.number}: ${stage.title}`));
    details.append(el('p', 'stage-panel__goal', stage.goal));
    if (stage.hint) {
      const hint = el('details', 'stage-panel__hint');
      hint.append(el('summary', '', 'Hint'), el('p', '', stage.hint));
      details.append(hint);
    }
    const status = stageState(stage.number);
    if (status === 'done') {
      const at = state.done.get(stage.number);
      details.append(el('p', 'stage-panel__done-note', at ? `Completed ${new Date(at).toLocaleString()}` : 'Completed'));
    } else if (stage.hasCheck) {
      details.append(renderAnswerForm(stage));
    } else {
      details.append(el('p', 'stage-panel__how', 'This stage completes in the terminal, once you have shown you understand it.'));
    }
    return details;
  }

  function render() {
    const children = [el('h2', 'stage-panel__title', state.title)];
    if (state.loading) children.push(el('p', 'stage-panel__muted', 'Loading stages…'));
    else if (state.error) children.push(el('p', 'stage-panel__error', state.error));
    else {
      const total = state.stages.length;
      const doneCount = state.stages.filter((s) => state.done.has(s.number)).length;
      const bar = el('div', 'stage-panel__progress');
      bar.setAttribute('role', 'progressbar');
      bar.setAttribute('aria-valuemin', '0');
      bar.setAttribute('aria-valuemax', String(total));
      bar.setAttribute('aria-valuenow', String(doneCount));
      bar.setAttribute('aria-label', 'Course progress');
      const fill = el('div', 'stage-panel__progress-fill');
      fill.style.width = `${total ? Math.round((doneCount / total) * 100) : 0}%`;
      bar.append(fill);
      children.push(bar, el('p', 'stage-panel__count', `${doneCount} of ${total} stages done`));
      if (state.courseComplete) children.push(el('p', 'stage-panel__complete', 'Course complete. Well done!'));
      else if (state.celebration) children.push(el('p', 'stage-panel__complete', state.celebration));

      const list = el('ol', 'stage-panel__list');
      const shown = state.selected ?? currentStage();
      for (const stage of state.stages) {
        const status = stageState(stage.number);
        const item = el('li', `stage-panel__stage is-${status}${stage.number === shown ? ' is-selected' : ''}`);
        const button = el('button', 'stage-panel__stage-button');
        button.type = 'button';
        button.disabled = status === 'locked';
        button.setAttribute('aria-current', status === 'current' ? 'step' : 'false');
        const mark = el('span', 'stage-panel__mark', status === 'done' ? '✓' : String(stage.number));
        mark.setAttribute('aria-hidden', 'true');
        const label = el('span', 'stage-panel__stage-label', stage.title);
        const sr = el('span', 'stage-panel__sr', ` (${status}${stage.hasCheck ? ', answer required' : ''})`);
        button.append(mark, label, sr);
        button.addEventListener('click', () => {
          state.selected = stage.number === currentStage() ? null : stage.number;
          render();
        });
        item.append(button);
        list.append(item);
      }
      children.push(list);
      const detailStage = state.stages.find((s) => s.number === shown);
      if (detailStage) children.push(renderDetails(detailStage));
    }
    root.replaceChildren(...children);
  }

  function markDone(number, completedAt) {
    if (state.done.has(number)) return;
    state.done.set(number, completedAt ?? new Date().toISOString());
    const done = state.stages.find((s) => s.number === number);
    const next = state.stages.find((s) => s.number === currentStage());
    state.celebration = `Stage ${number}${done ? ` (${done.title})` : ''} complete.${next ? ` Next: ${next.title}.` : ''}`;
  }

  async function refresh() {
    try {
      const [stages, progress, courses] = await Promise.all([
        fetchJson(`/api/courses/${encodeURIComponent(courseId)}/stages`),
        fetchJson(`/api/progress/${encodeURIComponent(courseId)}`),
        fetchJson('/api/courses').catch(() => null),
      ]);
      state.stages = stages.stages;
      state.done = new Map(progress.completedStages.map((s) => [s.stage, s.completedAt]));
      state.courseComplete = progress.isCourseComplete;
      state.title = courses?.courses?.find((c) => c.id === courseId)?.title ?? courseId;
      state.error = null;
    } catch (err) {
      state.error = err?.status === 404 ? 'This course is not available.' : 'Could not load the course stages.';
    }
    state.loading = false;
    render();
  }

  /** Applies a WebSocket control message; returns true when it was a stage event for this course. */
  function handleEvent(evt) {
    if (!evt || evt.type !== 'event' || evt.courseId !== courseId) return false;
    if (evt.name === 'stage_complete' && Number.isInteger(evt.stage)) {
      markDone(evt.stage, evt.completedAt);
      if (state.selected === evt.stage) state.selected = null;
      announce(state.celebration ?? `Stage ${evt.stage} complete.`);
    } else if (evt.name === 'course_complete') {
      state.courseComplete = true;
      announce('Course complete.');
    } else return false;
    render();
    return true;
  }

  render();
  void refresh();
  return {
    handleEvent,
    refresh,
    /** The session answers go to; null (e.g. once it ended) disables the check. */
    setSession(id) {
      sessionId = id;
      render();
    },
    destroy() {
      container.replaceChildren();
    },
  };
}
