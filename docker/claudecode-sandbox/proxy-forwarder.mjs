// Local runtime only: forwards 127.0.0.1:<port> inside the sandbox to the API proxy's unix socket
// (bind-mounted in). Bytes are piped both ways with backpressure; the proxy does all the checking.
// Usage: node proxy-forwarder.mjs <socket> <port> [<file to create once listening>]
import net from 'node:net';
import { writeFileSync } from 'node:fs';

const [socketPath, port, readyFile] = process.argv.slice(2);
if (!socketPath || !port) {
  process.stderr.write('usage: proxy-forwarder.mjs <socket> <port> [ready-file]\n');
  process.exit(64);
}
const server = net.createServer((client) => {
  const upstream = net.connect(socketPath);
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
});
server.on('error', (err) => {
  process.stderr.write(`proxy-forwarder: ${err.message}\n`);
  process.exit(1);
});
server.listen(Number(port), '127.0.0.1', () => {
  if (readyFile) writeFileSync(readyFile, '');
});
