// The terminal WebSocket protocol, defined once for the server and the browser.
// Binary frames carry terminal bytes, both ways, unmodified. Text frames carry JSON control messages.

/** Close codes the server uses. 1000 is a clean end; the browser reconnects on anything else but these. */
export const CloseCode = Object.freeze({
  ENDED: 1000, // the session ended (program exited, deleted, expired)
  GOING_AWAY: 1001, // the server is shutting down
  POLICY: 1008, // malformed or forbidden traffic
  TOO_BIG: 1009, // a message over the size limit
  TAKEN_OVER: 4001, // another viewer attached to this session
  UNAUTHORIZED: 4003, // origin or identity not allowed
  NOT_FOUND: 4004, // no such session (or not yours)
  IDLE: 4008, // heartbeat lost
});

/** Close codes after which reconnecting cannot help. */
export const FINAL_CLOSE_CODES = Object.freeze([
  CloseCode.ENDED,
  CloseCode.TAKEN_OVER,
  CloseCode.UNAUTHORIZED,
  CloseCode.NOT_FOUND,
  CloseCode.POLICY,
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
});

export const MAX_COLS = 1000;
export const MAX_ROWS = 500;
