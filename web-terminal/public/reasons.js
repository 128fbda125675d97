// The reason catalog: every reason a session can end, fail or be refused for, with the one sentence a
// learner reads for it. Defined once for the server (API `message` fields, socket status messages)
// and the page. Codes are short snake_case labels, also used in logs and metrics.

export const REASONS = Object.freeze({
  // How a session ended.
  deleted: 'The session was ended.',
  expired: 'The session reached its time limit.',
  idle: 'The session was closed because nobody used it for a while.',
  exited: 'The program in the session exited.',
  shutdown: 'The server is restarting; the session was ended.',
  // Why a session could not start or stopped working.
  aborted: 'The session was ended before it finished starting.',
  start_failed: 'The session could not be started.',
  start_timeout: 'The session took too long to start.',
  spawn_failed: 'The sandbox could not be started on this server.',
  sandbox_unavailable: 'This server cannot create sandboxes right now.',
  api_error: 'The cluster could not be reached to run the session.',
  not_found: 'The session\'s sandbox no longer exists.',
  container_crashed: 'The session\'s sandbox stopped unexpectedly.',
  oom_killed: 'The session ran out of memory and was stopped.',
  deadline_exceeded: 'The session reached its time limit.',
  image_pull_failed: 'The sandbox image could not be loaded on the server.',
  unschedulable: 'The cluster has no room for another session right now.',
  resume_failed: 'The earlier conversation could not be handed to the new session.',
  service_restarted: 'The server stopped while the session was running.',
  mount_failed: 'A storage volume of the session could not be attached.',
  quota_exceeded: 'The cluster\'s quota for sessions is used up right now.',
  cluster_unresponsive: 'The cluster did not answer in time to start the session.',
  standby: 'This server is on standby while another one manages the sessions.',
  // Progress while a session's sandbox starts (the cluster's own words may follow).
  pod_scheduled: 'A place on the cluster was found for the session.',
  image_pulling: 'Downloading the sandbox image.',
  image_pulled: 'The sandbox image is ready.',
  container_started: 'The sandbox is starting.',
  // Why a new session was refused.
  session_limit: 'All session places are in use right now.',
  user_session_limit: 'You already have as many sessions as you may have at once.',
  rate_limited: 'You started too many sessions in the last minute.',
  runtime_unavailable: 'This server cannot create sandboxes right now.',
  shutting_down: 'The server is restarting.',
  // What the API proxy saw from the model's API for this session.
  no_api_key: 'No API key is configured on this server, so Claude cannot answer.',
  upstream_unauthorized: 'The server\'s API key was refused, so Claude cannot answer.',
  upstream_forbidden: 'The server\'s API key may not use this model or feature.',
  upstream_rate_limited: 'The API is rate-limiting this server; Claude\'s answers are delayed.',
  upstream_overloaded: 'The API is overloaded or failing; Claude\'s answers are delayed.',
  budget_exhausted: 'This session has used its share of the API budget.',
  // What the page and the answer check tell the learner.
  input_overflow: 'You typed more than can be kept while the session starts; the rest was not sent.',
  taken_over: 'This session is now open in another tab or window.',
  connection_lost: 'The connection to the server was lost.',
  wrong_answer: 'That is not the expected answer. Talk it through in the terminal and try again.',
  too_many_answers: 'You tried many answers in the last minute; wait a moment and try again.',
});

/** The sentence for each session state, as the page's status line reads it. */
export const STATES = Object.freeze({
  starting: 'Your session is starting.',
  running: 'Your session is running.',
  reconnecting: 'Reconnecting to your session.',
  ended: 'Your session has ended.',
  failed: 'Your session stopped because of a problem.',
});

/** The sentence for a session state. */
export function describeState(state) {
  return Object.hasOwn(STATES, state) ? STATES[state] : '';
}

/** The sentence for a reason code; unknown codes read as words rather than failing. */
export function describeReason(code) {
  if (code && Object.hasOwn(REASONS, code)) return REASONS[code];
  return code ? `${String(code).replaceAll('_', ' ')}.` : '';
}
