import type { Gateway } from '#libs/contracts/index.js';

/** Who a gateway is on the broker: its MQTT username is `<enterpriseCode>/<gatewayCode>`. */
export interface GatewayIdentity {
  readonly enterpriseCode: string;
  readonly gatewayCode: string;
}

export type GatewayLookup = (enterpriseCode: string, gatewayCode: string) => Gateway | undefined;

const USERNAME = /^([^/+#\s]+)\/([^/+#\s]+)$/;

/** `<enterpriseCode>/<gatewayCode>` → its parts; null for anything else (wildcards and blanks included). */
export function parseGatewayUsername(username: string): GatewayIdentity | null {
  const m = USERNAME.exec(username);
  return m ? { enterpriseCode: m[1]!, gatewayCode: m[2]! } : null;
}

export function gatewayUsername(gateway: GatewayIdentity): string {
  return `${gateway.enterpriseCode}/${gateway.gatewayCode}`;
}

/** The gateway's entry in the credentials file: its `credentialsRef`, else its username. */
export function credentialKey(gateway: Gateway): string {
  return gateway.credentialsRef ?? `${gateway.enterpriseCode}/${gateway.code}`;
}

export function identityOf(gateway: Gateway): GatewayIdentity {
  return { enterpriseCode: gateway.enterpriseCode, gatewayCode: gateway.code };
}
