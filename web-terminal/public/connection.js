// One terminal connection: binary frames to and from xterm.js, JSON control frames, reconnect on
// unexpected drops, and flow control (pause the server while xterm is behind on rendering).
import { ClientMessage, CloseCode, FINAL_CLOSE_CODES, ServerMessage } from './protocol.js';
import { describeReason } from './reasons.js';

const HIGH_WATER = 512 * 1024;
const LOW_WATER = 64 * 1024;
/** Keystrokes typed while the socket is still opening are kept (this much) and sent once it opens. */
const MAX_EARLY_INPUT = 16 * 1024;

const encoder = new TextEncoder();

/** Calls `listener` with the bytes of every key typed into `term`; returns what stops it. */
function onKeys(term, listener) {
  const data = term.onData((text) => listener(encoder.encode(text)));
  const binary = term.onBinary((text) => listener(Uint8Array.from(text, (c) => c.charCodeAt(0))));
  return { dispose: () => { data.dispose(); binary.dispose(); } };
}

/** Keys kept until a socket can take them, at most MAX_EARLY_INPUT bytes; a chunk past that is refused (`onOverflow`). */
function keyBuffer(onOverflow) {
  let chunks = [];
  let bytes = 0;
  return {
    keep(chunk) {
      if (bytes + chunk.length > MAX_EARLY_INPUT) return onOverflow();
      chunks.push(chunk);
      bytes += chunk.length;
    },
    take() {
      const all = chunks;
      chunks = [];
      bytes = 0;
      return all;
    },
  };
}

/**
 * Keeps the keys typed while a session is being created, before it has a socket. `take()` stops keeping and
 * hands them over, for `connectTerminal`'s `earlyInput`.
 */
export function keepEarlyInput(term, onOverflow) {
  const kept = keyBuffer(onOverflow);
  const keys = onKeys(term, kept.keep);
  return {
    take() {
      keys.dispose();
      return kept.take();
    },
  };
}

export function connectTerminal({ term, getWsUrl, onStatus, onEvent, onEnded, onWatchers, onSize, earlyInput = [] }) {
  let ws = null;
  let closedByUs = false;
  let attempts = 0;
  let pendingBytes = 0;
  let paused = false;
  const early = keyBuffer(() => onStatus('error', describeReason('input_overflow'), { code: 'input_overflow' }));
  for (const chunk of earlyInput) early.keep(chunk);

  const send = (data) => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(data);
  };
  const control = (msg) => send(JSON.stringify(msg));
  const sendInput = (bytes) => {
    if (ws && ws.readyState === WebSocket.OPEN) return ws.send(bytes);
    early.keep(bytes);
  };

  const keys = onKeys(term, sendInput);
  const onResize = term.onResize(({ cols, rows }) => control({ type: ClientMessage.RESIZE, cols, rows }));

  async function open() {
    const path = await getWsUrl();
    if (closedByUs) return; // the viewer was closed while the URL was being fetched
    const url = new URL(path, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    ws = socket;
    socket.onopen = () => {
      attempts = 0;
      pendingBytes = 0;
      paused = false;
      control({ type: ClientMessage.RESIZE, cols: term.cols, rows: term.rows });
      for (const bytes of early.take()) socket.send(bytes);
    };
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') return handleControl(JSON.parse(event.data));
      const bytes = new Uint8Array(event.data);
      pendingBytes += bytes.length;
      if (!paused && pendingBytes > HIGH_WATER) {
        paused = true;
        control({ type: ClientMessage.PAUSE });
      }
      term.write(bytes, () => {
        pendingBytes -= bytes.length;
        if (paused && pendingBytes < LOW_WATER) {
          paused = false;
          control({ type: ClientMessage.RESUME });
        }
      });
    };
    socket.onclose = (event) => {
      if (ws !== socket) return;
      ws = null;
      if (closedByUs) return;
      if (FINAL_CLOSE_CODES.includes(event.code)) {
        const why = {
          [CloseCode.TAKEN_OVER]: describeReason('taken_over'),
          [CloseCode.TOO_BIG]: 'The connection was closed: a message was too large.',
          [CloseCode.PROTOCOL_ERROR]: 'The connection was closed by the server.',
          [CloseCode.INVALID_DATA]: 'The connection was closed by the server.',
        }[event.code];
        onWatchers?.([]);
        onEnded({ code: event.code, message: why ?? '' });
        return;
      }
      reconnect();
    };
  }

  function handleControl(msg) {
    if (msg.type === ServerMessage.STATUS) onStatus(msg.state, msg.message || msg.phase || '', msg);
    else if (msg.type === ServerMessage.EXIT) onStatus('ended', msg.code === null ? (msg.reason || '') : `exit code ${msg.code}`, msg);
    else if (msg.type === ServerMessage.EVENT) onEvent(msg);
    else if (msg.type === ServerMessage.ERROR) onStatus('error', msg.message, msg);
    else if (msg.type === ServerMessage.WATCHERS) onWatchers?.(msg.names);
    else if (msg.type === ServerMessage.SIZE) onSize?.(msg);
  }

  function reconnect() {
    attempts += 1;
    if (attempts > 8) {
      onEnded({ code: 0, message: describeReason('connection_lost') });
      return;
    }
    onStatus('reconnecting', `attempt ${attempts}`);
    const delay = Math.min(8000, 250 * 2 ** (attempts - 1));
    setTimeout(() => {
      if (closedByUs) return;
      open().catch((err) => {
        // The session is gone or over (404/409 from the attach call): reconnecting cannot help.
        if (err && (err.status === 404 || err.status === 409)) onEnded({ code: CloseCode.ENDED, message: '' });
        else reconnect();
      });
    }, delay);
  }

  open().catch((err) => onEnded({ code: err?.status === 404 || err?.status === 409 ? CloseCode.ENDED : 0, message: err?.message ?? describeReason('connection_lost') }));

  return {
    close() {
      closedByUs = true;
      keys.dispose();
      onResize.dispose();
      if (ws) ws.close(1000, 'viewer closed');
    },
  };
}
