// Course first: the list of courses, and the chosen one's title, description, stages and progress before
// anything starts; where the operator allows more than one sandbox profile (e.g. a GPU), which one.
// Starting is the caller's job (onStart).
import { el } from './dom.js';
import { mountStagePanel } from './stages.js';

const CHOICE_KEY = 'claudecode.course';
const PROFILE_KEY = 'claudecode.profile';
/** How the page names the profiles it knows; another is shown by its name. */
const PROFILE_LABELS = { default: 'Standard', gpu: 'With a GPU' };
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
  /** The profiles POST /api/sessions accepts (GET /api/info), and the learner's choice among them. */
  let profiles = ['default'];
  let profile = localStorage.getItem(PROFILE_KEY) ?? 'default';

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

  /** Radio buttons for the sandbox profile, or nothing when there is no choice to make. */
  function profileChooser() {
    if (profiles.length < 2) return null;
    return el(
      'fieldset',
      { className: 'profile-choice' },
      el('legend', {}, 'Machine'),
      ...profiles.map((name) =>
        el(
          'label',
          { className: 'profile-choice__option' },
          el('input', {
            type: 'radio', name: 'profile', value: name, checked: name === profile,
            onchange: () => {
              profile = name;
              localStorage.setItem(PROFILE_KEY, name);
            },
          }),
          ` ${PROFILE_LABELS[name] ?? name}`,
        ),
      ),
    );
  }

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
      profileChooser(),
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
    /** The profiles the server allows (GET /api/info); the chooser shows when there is more than one. */
    setProfiles(list) {
      profiles = Array.isArray(list) && list.length > 0 ? list : ['default'];
      if (!profiles.includes(profile)) profile = profiles[0];
      if (courses.length || chosen === '') renderDetail();
    },
    /** The profile new sessions ask for, or null for the server's default. */
    profile: () => (profile === 'default' || !profiles.includes(profile) ? null : profile),
    /** Renders the chosen course again (its progress is read afresh). */
    refresh: () => {
      if (courses.length || chosen === '') renderDetail();
    },
    focusStart: () => startButton?.focus(),
  };
}
