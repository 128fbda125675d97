// The terminal WebSocket protocol, defined once for the server and the browser.
// Binary frames carry terminal bytes, both ways, unmodified. Text frames carry JSON control messages.

/** Close codes the server uses. 1000 is a clean end; the browser reconnects on anything else but these. */
// Refusals happen before the upgrade, as HTTP statuses (401 identity or ticket, 403 origin, 404 session),
// so no close code stands for them. A peer that stops answering pings is cut off without a close frame.
export const CloseCode = Object.freeze({
  ENDED: 1000, // the session ended (program exited, deleted, expired, failed)
  GOING_AWAY: 1001, // the server is shutting down or restarting
  PROTOCOL_ERROR: 1002, // a malformed WebSocket frame (closed by the server's WebSocket library)
  INVALID_DATA: 1007, // a text frame that is not UTF-8 (closed by the server's WebSocket library)
  TOO_BIG: 1009, // a message over the size limit
  TAKEN_OVER: 4001, // another viewer attached to this session
});

/** Close codes after which reconnecting cannot help. */
export const FINAL_CLOSE_CODES = Object.freeze([
  CloseCode.ENDED,
  CloseCode.TAKEN_OVER,
  CloseCode.PROTOCOL_ERROR,
  CloseCode.INVALID_DATA,
  CloseCode.TOO_BIG,
]);

/** Control message types the browser sends. */
export const ClientMessage = Object.freeze({ RESIZE: 'resize', PING: 'ping', PAUSE: 'pause', RESUME: 'resume' });

/** Control message types the server sends. */
export const ServerMessage = Object.freeze({
  STATUS: 'status',
  EXIT: 'exit',
  EVENT: 'event',
  ERROR: 'error',
  PONG: 'pong',
  WATCHERS: 'watchers', // to the owner: who watches the session read-only ({names: [...]}, empty when nobody)
  SIZE: 'size', // to a watcher: the session's terminal size ({cols, rows}); the screen is drawn for it
});

export const MAX_COLS = 1000;
export const MAX_ROWS = 500;
