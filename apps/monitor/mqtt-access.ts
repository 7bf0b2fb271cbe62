import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, isDemoRegistry, type AppConfig } from '#libs/config/index.js';
import type { EmbeddedBrokerOptions } from '#libs/broker-aedes/index.js';
import { credentialKey, GatewayAuthority, GatewayCredentials } from '#libs/gateway-auth/index.js';
import type { LiveRegistry } from '#libs/registry/index.js';
import type { Metrics } from './metrics.js';

/** The password of every demo gateway (config/sites/demo.yaml), set when the demo registry runs: README lists it. */
export const DEMO_GATEWAY_PASSWORD = 'demo-gateway-password';
const MONITOR_USER = 'sentinel-monitor';
export interface MqttAccess {
  /** Options of the embedded broker: who may connect, publish and subscribe. */
  readonly broker: EmbeddedBrokerOptions;
  /** The monitor's own login at the broker (embedded: a random password of this boot; external: MQTT_USERNAME/PASSWORD). */
  readonly monitorLogin: { readonly username: string; readonly password: string } | null;
  /** The built-in simulator's password for a gateway (the demo's), or undefined when it has none. */
  readonly simulatorPassword: (gateway: { readonly enterpriseCode: string; readonly gatewayCode: string }) => string | undefined;
  /** Gives every gateway of the demo registry now in force the demo password if it has none (before the simulator starts). */
  readonly ensureDemoCredentials: () => Promise<void>;
}

function readPem(file: string, variable: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError([`environment variable ${variable}=${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)}); expected a PEM file`]);
  }
}

/**
 * Who may use MQTT: every gateway of the registry with its own password (GATEWAY_CREDENTIALS), publishing only its own
 * topics; the monitor alone subscribing. The demo registry's gateways get the documented demo password.
 */
export async function mqttAccess(config: AppConfig, registry: LiveRegistry, metrics: Metrics, log: Logger): Promise<MqttAccess> {
  const settings = config.mqttAuth ?? { allowAnonymous: false, username: null, password: null, credentialsFile: null, tls: null };
  if (config.mqttUrl !== null) {
    const login = settings.username === null ? null : { username: settings.username, password: settings.password ?? '' };
    return { broker: {}, monitorLogin: login, simulatorPassword: () => undefined, ensureDemoCredentials: () => Promise.resolve() };
  }
  const credentials = GatewayCredentials.load(settings.credentialsFile ?? join(config.dataDir, 'gateway-credentials.json'), { onProblem: (message) => log.error(message) });
  // Read from the site files at boot and again before each start of the simulator (the registry may be edited).
  let demo = isDemoRegistry(config.configDir);
  if (config.simulate && !demo && !settings.allowAnonymous) {
    throw new ConfigError([
      `environment variable SIMULATE=1 with the registry in ${config.configDir}, which is not the demo: the built-in simulator logs in as the demo gateways only; set MQTT_ALLOW_ANONYMOUS=1 for a load test on an isolated machine, or run npm run simulate -- --passwords FILE against the monitor`,
    ]);
  }
  const seedDemoCredentials = async (): Promise<void> => {
    if (!demo) return;
    for (const gateway of registry.registry.allGateways()) {
      const key = credentialKey(gateway);
      if (credentials.state(key) === 'missing') await credentials.setPassword(key, DEMO_GATEWAY_PASSWORD);
    }
  };
  await seedDemoCredentials();
  if (settings.allowAnonymous) log.warn('MQTT_ALLOW_ANONYMOUS=1: the embedded broker lets any client publish and subscribe without a password; for experiments only');
  const monitorLogin = { username: MONITOR_USER, password: randomBytes(24).toString('base64url') };
  const tls = settings.tls ?? null;
  return {
    broker: {
      auth: new GatewayAuthority((e, g) => registry.registry.findGateway(e, g), credentials),
      internalClient: monitorLogin,
      allowAnonymous: settings.allowAnonymous,
      onRefused: (event) => {
        metrics.mqttRefusals.inc({ kind: event.kind });
        log.warn({ mqttRefusal: event }, `MQTT ${event.kind} refused: ${event.reason}`);
      },
      ...(tls !== null && {
        tls: {
          port: tls.port,
          cert: readPem(tls.certFile, 'MQTT_TLS_CERT'),
          key: readPem(tls.keyFile, 'MQTT_TLS_KEY'),
          ...(tls.caFile !== null && { ca: readPem(tls.caFile, 'MQTT_TLS_CA'), requestClientCert: true }),
        },
      }),
    },
    monitorLogin,
    ensureDemoCredentials: async () => {
      demo = isDemoRegistry(config.configDir);
      await seedDemoCredentials();
    },
    simulatorPassword: (gateway) => {
      if (!demo) return undefined;
      const registered = registry.registry.findGateway(gateway.enterpriseCode, gateway.gatewayCode);
      return registered ? DEMO_GATEWAY_PASSWORD : undefined;
    },
  };
}
