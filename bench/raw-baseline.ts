// The raw baseline for terminal benchmarks: node-pty + a plain ws server, no framing, no checks,
// no sandbox, no flow control. Runs as its own process; prints "ready <port>".
// Each connection spawns `sh -c "$COMMAND"` where COMMAND is the first message's text.
import { spawn } from '@lydell/node-pty';
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.once('message', (first) => {
    const pty = spawn('/bin/sh', ['-c', first.toString()], { name: 'xterm-256color', cols: 80, rows: 24, cwd: '/tmp', env: { PATH: '/usr/bin:/bin' }, encoding: null });
    pty.onData((data) => ws.send(data as unknown as Buffer, { binary: true }));
    pty.onExit(() => ws.close());
    ws.on('message', (data) => pty.write(data as unknown as string));
    ws.on('close', () => pty.kill('SIGKILL'));
  });
});
wss.on('listening', () => {
  const address = wss.address();
  console.log(`ready ${typeof address === 'object' && address ? address.port : address}`);
});
