// The HTTP listener around `handle`: Node's server never routes CONNECT to the request handler, so it is
// refused here on the raw socket; malformed requests get a bare 400.
import http from 'node:http';

export function createProxyServer(handle: http.RequestListener): http.Server {
  const server = http.createServer({ noDelay: true, keepAliveTimeout: 65_000 }, handle);
  server.on('connect', (_req, socket) => {
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
