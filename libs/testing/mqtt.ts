import type { MqttClient } from 'mqtt';

/** Resolves with the first message on `client` whose topic and payload are the given ones. */
export function arrival(client: MqttClient, topic: string, payload: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (t: string, p: Buffer): void => {
      if (t !== topic || p.toString() !== payload) return;
      client.off('message', on);
      resolve();
    };
    client.on('message', on);
  });
}
