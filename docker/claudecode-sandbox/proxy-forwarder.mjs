// Forwards 127.0.0.1:<port> inside the sandbox to the API proxy's unix socket (bind-mounted in).
// Bytes are piped both ways with backpressure; the proxy does all the checking.
import net from 'node:net';
import { writeFileSync } from 'node:fs';

const [socketPath, port, readyFile] = process.argv.slice(2);
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
server.listen(Number(port), '127.0.0.1', () => {
  if (readyFile) writeFileSync(readyFile, '');
});
