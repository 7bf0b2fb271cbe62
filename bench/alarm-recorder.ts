// The bench's WebSocket alarm recorder, in a worker thread of its own: each alarm frame is stamped when it arrives,
// not when the publisher's loop (same process) gets round to it. Posts 'open', then { key, at } per alarm frame,
// `at` on the clock all threads share (performance.timeOrigin + performance.now()).
import { parentPort, workerData } from 'node:worker_threads';
import { WebSocket } from 'ws';

export interface AlarmArrival {
  readonly key: string;
  readonly at: number;
}

export const absoluteNow = (): number => performance.timeOrigin + performance.now();

if (parentPort !== null) {
  const port = parentPort;
  const ws = new WebSocket((workerData as { url: string }).url);
  ws.on('open', () => port.postMessage('open'));
  ws.on('error', (err) => port.postMessage({ error: String(err) }));
  ws.on('message', (data: Buffer) => {
    const at = absoluteNow();
    const f = JSON.parse(data.toString()) as { type?: string; alarm?: { pointCode?: string | null; updatedAt?: string } };
    if (f.type !== 'alarm' || !f.alarm?.pointCode || f.alarm.updatedAt === undefined) return;
    const arrival: AlarmArrival = { key: `${f.alarm.pointCode}@${Date.parse(f.alarm.updatedAt)}`, at };
    port.postMessage(arrival);
  });
  port.on('message', () => {
    ws.close();
    port.close();
  });
}
