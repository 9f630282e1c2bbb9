// Serves Client ID Metadata Documents from a real node:http server on 127.0.0.1 (a worker on
// loopback may fetch loopback documents; see src/oauth/cimd.rs).

import { createServer } from 'node:http';

/** A document server on 127.0.0.1: `routes` maps a path to a handler, `hits` counts requests. */
export async function startDocumentServer() {
  const routes = new Map();
  const hits = new Map();
  const server = createServer((req, res) => {
    hits.set(req.url, (hits.get(req.url) ?? 0) + 1);
    const route = routes.get(req.url);
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no such document');
      return;
    }
    route(req, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    routes,
    hits: (path) => hits.get(path) ?? 0,
    /** Serves `body` (an object is sent as JSON) at `path`. */
    serve(path, body, { status = 200, headers = {} } = {}) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      routes.set(path, (req, res) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(text);
      });
      return `${base}${path}`;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
