// Course first: the list of courses, and the chosen one's title, description, stages and progress before
// anything starts. Starting is the caller's job (onStart).
import { el } from './dom.js';
import { mountStagePanel } from './stages.js';

const CHOICE_KEY = 'claudecode.course';
const NO_COURSE = { id: '', title: 'Just a terminal', description: 'Claude Code in a read-only sandbox, without course material.', stageCount: 0 };

/**
 * @param {{ list: HTMLElement, detail: HTMLElement, fetchJson: Function, onStart: (courseId: string | null) => void }} options
 */
export function mountCoursePicker({ list, detail, fetchJson, onStart }) {
  let courses = [];
  let chosen = localStorage.getItem(CHOICE_KEY);
  let busy = false;
  let startButton = null;
  /** Stages done in the chosen course (the button says "Continue" once the learner has begun). */
  let doneCount = 0;

  const current = () => courses.find((c) => c.id === chosen) ?? NO_COURSE;

  function renderList() {
    const options = [...courses, NO_COURSE];
    list.replaceChildren(
      el('h2', { className: 'visually-hidden', id: 'course-list-title' }, 'Courses'),
      el(
        'ul',
        { 'aria-labelledby': 'course-list-title' },
        ...options.map((c) =>
          el(
            'li',
            {},
            el(
              'button',
              {
                type: 'button',
                className: 'course-choice',
                'aria-pressed': String(c.id === current().id),
                onclick: () => choose(c.id),
              },
              el('span', { className: 'course-choice__title' }, c.title),
              el('span', { className: 'course-choice__meta' }, c.stageCount ? `${c.stageCount} stages` : 'no stages'),
            ),
          ),
        ),
      ),
    );
  }

  const startLabel = () => {
    if (busy) return 'Starting…';
    if (!current().id) return 'Start a terminal';
    return doneCount > 0 && doneCount < current().stageCount ? 'Continue this course' : 'Start this course';
  };

  function renderDetail() {
    const course = current();
    doneCount = 0;
    startButton = el(
      'button',
      { type: 'button', className: 'primary start-button', id: 'start-course', disabled: busy, onclick: () => onStart(course.id || null) },
      startLabel(),
    );
    if (course.id) {
      fetchJson(`/api/progress/${encodeURIComponent(course.id)}`)
        .then((progress) => {
          if (current().id !== course.id) return;
          doneCount = progress.completedStages.length;
          if (startButton) startButton.textContent = startLabel();
        })
        .catch(() => {});
    }
    const stages = el('div', { className: 'course-detail__stages' });
    detail.replaceChildren(
      el('h2', { className: 'course-detail__title' }, course.title),
      el('p', { className: 'course-detail__description' }, course.description),
      startButton,
      stages,
    );
    // The stages and the learner's progress, read-only until a session runs (no answer box works yet).
    if (course.id) mountStagePanel(stages, { fetchJson, courseId: course.id, sessionId: null });
  }

  function choose(id) {
    chosen = id;
    localStorage.setItem(CHOICE_KEY, id);
    renderList();
    renderDetail();
  }

  async function load() {
    try {
      courses = (await fetchJson('/api/courses')).courses;
    } catch {
      courses = [];
    }
    if (chosen === null || (chosen !== '' && !courses.some((c) => c.id === chosen))) chosen = courses[0]?.id ?? '';
    renderList();
    renderDetail();
  }

  return {
    load,
    courseTitle: (id) => (id ? (courses.find((c) => c.id === id)?.title ?? id) : NO_COURSE.title),
    setBusy(value) {
      busy = value;
      if (startButton) {
        startButton.disabled = value;
        startButton.textContent = startLabel();
      }
    },
    choose,
    /** Renders the chosen course again (its progress is read afresh). */
    refresh: () => {
      if (courses.length || chosen === '') renderDetail();
    },
    focusStart: () => startButton?.focus(),
  };
}
