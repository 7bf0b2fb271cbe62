import type { GatewayIdentity } from './gateway-identity.js';

/** The only topics a gateway may publish (the layout libs/decode reads). */
export function gatewayTopics(gateway: GatewayIdentity): { readonly telemetry: string; readonly status: string } {
  const base = `sites/${gateway.enterpriseCode}/${gateway.gatewayCode}`;
  return { telemetry: `${base}/telemetry`, status: `${base}/status` };
}

/** Why `gateway` may not publish to `topic`, or null when it may. */
export function publishRefusal(gateway: GatewayIdentity, topic: string): string | null {
  const own = gatewayTopics(gateway);
  if (topic === own.telemetry || topic === own.status) return null;
  return `${gateway.enterpriseCode}/${gateway.gatewayCode} may publish only ${own.telemetry} and ${own.status}`;
}

