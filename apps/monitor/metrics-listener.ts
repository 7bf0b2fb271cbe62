import { createServer } from 'node:http';
import type { Metrics } from './metrics.js';

/** /metrics alone on its own port, without sign-in: bind it where only Prometheus reaches (METRICS_PORT). */
export async function serveMetrics(metrics: Metrics, wsClients: () => number, port: number, host: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.statusCode = 404;
      res.end('only /metrics here\n');
      return;
    }
    metrics.wsClients.set(wsClients());
    metrics.registry.metrics().then(
      (text) => {
        res.setHeader('content-type', 'text/plain; version=0.0.4');
        res.end(text);
      },
      () => {
        res.statusCode = 500;
        res.end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}/metrics`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
