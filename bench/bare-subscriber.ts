// The floor of the bench: a bare MQTT.js subscriber that parses each message and counts its readings, storing
// nothing and evaluating nothing. `node dist/bench/bare-subscriber.js <mqttUrl> <httpPort>`; GET / answers the count.
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { connect } from 'mqtt';

const [url, port] = process.argv.slice(2);
if (!url || !port) {
  console.error('usage: bare-subscriber <mqttUrl> <httpPort>');
  process.exit(2);
}
let readings = 0;
const client = connect(url, { clientId: `bench-bare-${process.pid}`, clean: false });
client.on('connect', () => {
  (client.stream as Socket).setNoDelay?.(true);
  client.subscribe('sites/+/+/telemetry', { qos: 1 });
});
client.on('message', (_topic, payload) => {
  const message = JSON.parse(payload.toString()) as { readings?: unknown[] };
  readings += message.readings?.length ?? 0;
});
createServer((_req, res) => res.end(JSON.stringify({ readings, connected: client.connected }))).listen(Number(port), '127.0.0.1');
