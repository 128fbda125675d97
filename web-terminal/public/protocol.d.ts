export declare const CloseCode: Readonly<{
  ENDED: 1000; GOING_AWAY: 1001; PROTOCOL_ERROR: 1002; INVALID_DATA: 1007; TOO_BIG: 1009; TAKEN_OVER: 4001;
}>;
export declare const FINAL_CLOSE_CODES: readonly number[];
export declare const ClientMessage: Readonly<{ RESIZE: 'resize'; PING: 'ping'; PAUSE: 'pause'; RESUME: 'resume' }>;
export declare const ServerMessage: Readonly<{ STATUS: 'status'; EXIT: 'exit'; EVENT: 'event'; ERROR: 'error'; PONG: 'pong'; WATCHERS: 'watchers'; SIZE: 'size' }>;
export declare const MAX_COLS: number;
export declare const MAX_ROWS: number;
