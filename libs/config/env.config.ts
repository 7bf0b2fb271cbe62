import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';
import { z } from 'zod';
import { ConfigError } from './config-error.js';

const port = z.coerce.number().int().min(0).max(65535);

const envSchema = z.object({
  PORT: port.default(3000).describe('a TCP port number 0-65535'),
  HOST: z.string().min(1).default('0.0.0.0').describe('an interface address to listen on'),
  MQTT_URL: z
    .url({ protocol: /^mqtts?$/ })
    .optional()
    .describe('an mqtt:// or mqtts:// URL, or unset for the embedded broker'),
  MQTT_PORT: port.default(1883).describe('a TCP port number 0-65535 for the embedded broker'),
  MQTT_CLIENT_ID: z.string().min(1).default('sentinel-monitor').describe('an MQTT client id'),
  MQTT_MAX_PACKET_KB: z.coerce.number().int().min(1).max(262_144).default(256).describe('an integer 1-262144: the largest MQTT packet in KiB the embedded broker and the monitor accept'),
  INFLUX_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('an http:// or https:// URL of InfluxDB, or unset for the embedded store'),
  INFLUX_DB: z.string().min(1).default('sentinel').describe('an InfluxDB database name'),
  INFLUX_DOWNSAMPLE: z.enum(['0', '1']).default('1').describe('"1" to set up raw retention, 1-min and 15-min aggregates on InfluxDB 1.x, "0" to leave the database as it is'),
  INFLUX_TOKEN: z.string().optional().describe('an InfluxDB token (2.x/3.x), or unset'),
  RETENTION_DAYS: z.coerce.number().int().min(30).max(36_500).default(90).describe('whole days of raw readings to keep, at least 30 (Order No.40)'),
  SPOOL_MAX_MB: z.coerce.number().int().min(1).max(1_048_576).default(1024).describe('an integer number of MiB (1-1048576) for the InfluxDB outage buffer'),
  DATA_DIR: z.string().min(1).default('./data').describe('a directory for the embedded stores'),
  CONFIG_DIR: z.string().min(1).default('./config').describe('the directory holding sites/*.yaml and profiles/*.yaml'),
  CONFIG_WATCH: z.enum(['0', '1']).optional().describe('"1" to reload the registry when a file under CONFIG_DIR changes, "0" not to, or unset: "1" while the simulator runs, else "0"'),
  RELOAD_MAX_REMOVED_PCT: z.coerce.number().int().min(0).max(100).default(10).describe('an integer 0-100: the largest share (%) of registered points a reload may remove unless forced (POST /api/registry/reload?force=1)'),
  ADMIN_TOKEN: z.string().min(16).optional().describe('a bearer token of 16 or more characters for admin calls, or unset (admin calls from loopback only)'),
  SIMULATE: z.enum(['0', '1']).optional().describe('"1" to run the built-in simulator, "0" to turn it off, or unset: on only when CONFIG_DIR holds just the demo sites'),
  SIMULATE_PERIOD_MS: z.coerce.number().int().min(50).max(600_000).default(1000).describe('an integer 50-600000'),
  CHATTER_MAX_TRANSITIONS: z.coerce.number().int().min(0).max(1000).default(5).describe('an integer 0-1000: more transitions of one condition in 5 min is chattering (ISA-18.2: 5); 0 turns chatter protection off'),
  FLOOD_MAX_ALARMS: z.coerce.number().int().min(0).max(100_000).default(10).describe('an integer 0-100000: more raises in 10 min in one enterprise is a flood (ISA-18.2: 10); 0 turns flood grouping off'),
  GATEWAY_SILENCE_PERIODS: z.coerce.number().int().min(1).max(1000).default(3).describe('an integer 1-1000: reporting periods without a message before a gateway is offline'),
  LATE_WINDOW_S: z.coerce.number().int().min(0).max(86_400).default(86_400).describe('an integer 0-86400: seconds within which a late reading is checked for a missed excursion'),
  RULE_TICK_MS: z.coerce.number().int().min(100).max(60_000).default(5000).describe('an integer 100-60000: how often the rule clock checks silences, chatter, floods and power intervals'),
  DATA_COMPLETENESS_MIN: z.coerce.number().min(0).max(1).default(0.9).describe('a ratio 0-1: an enterprise whose readings over the window fall below this share of those its points\' periods call for gets a data_incomplete alarm; 0: never'),
  DATA_QUALITY_WINDOW_MIN: z.coerce.number().int().min(10).max(1440).default(60).describe('an integer 10-1440: minutes over which data completeness and timeliness are counted'),
  WATCHDOG_INTERVAL_S: z.coerce.number().int().min(1).max(3600).default(15).describe('an integer 1-3600: seconds between the heartbeats the monitor sends itself through the broker; one not back within three of them raises a monitoring_chain alarm'),
  CLOCK_SKEW_S: z.coerce.number().int().min(1).max(86_400).default(60).describe('an integer 1-86400: seconds a gateway clock may differ from the server before a clock_skew alarm'),
  ALARM_DB_SYNC: z.enum(['full', 'normal']).default('full').describe('"full" (every alarm commit fsynced: survives a power loss) or "normal" (survives a process crash only)'),
  HISTORY_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(365).describe('an integer 0-36500: days closed alarms, risk history and dead letters are kept (the audit log always); 0 keeps them all'),
  SENTINEL_ADMIN_PASSWORD: z.string().min(12).optional().describe('a password of 12 or more characters for the user admin, created at boot when no user exists; unset: a random one is printed once'),
  SESSION_TTL_MIN: z.coerce.number().int().min(5).max(43_200).default(720).describe('an integer 5-43200: minutes a login session lasts'),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5).describe('an integer 1-100: wrong passwords in a row before an account is locked'),
  LOGIN_LOCKOUT_MIN: z.coerce.number().int().min(1).max(1440).default(15).describe('an integer 1-1440: minutes a locked account stays locked'),
  LOGIN_RATE_PER_MIN: z.coerce.number().int().min(1).max(10_000).default(10).describe('an integer 1-10000: login attempts a client address may make per minute'),
  TRUSTED_PROXIES: z.string().optional().describe('comma-separated IP addresses of reverse proxies whose X-Forwarded-For is believed'),
  ALLOWED_ORIGINS: z.string().optional().describe('comma-separated origins (https://host:port) besides the server itself that may open /ws and send state-changing requests'),
  METRICS_PORT: port.optional().describe('a TCP port for an unauthenticated /metrics listener (bind it where only Prometheus reaches), or unset: /metrics on PORT needs a bearer token of role admin or metrics'),
  OIDC_ISSUER: z.url().optional().describe('the issuer URL of an OpenID Connect provider, or unset for built-in users only'),
  OIDC_CLIENT_ID: z.string().min(1).optional().describe('the client id registered at the OpenID Connect provider'),
  OIDC_CLIENT_SECRET: z.string().min(1).optional().describe('the client secret registered at the OpenID Connect provider'),
  OIDC_REDIRECT_URL: z.url().optional().describe('the public URL of /api/auth/oidc/callback as registered at the provider'),
  OIDC_ROLE_CLAIM: z.string().min(1).default('sentinel_role').describe('the ID token claim holding the role'),
  OIDC_JURISDICTION_CLAIM: z.string().min(1).default('sentinel_jurisdiction').describe('the ID token claim holding the jurisdiction (*, a division code, or enterprise codes separated by commas)'),
  MQTT_ALLOW_ANONYMOUS: z.enum(['0', '1']).default('0').describe('"1" to let any client use the embedded broker without a password (experiments only), "0" to authenticate every gateway'),
  MQTT_USERNAME: z.string().min(1).optional().describe("the monitor's user name at an external broker (MQTT_URL)"),
  MQTT_PASSWORD: z.string().min(1).optional().describe("the monitor's password at an external broker (MQTT_URL)"),
  MQTT_TLS_PORT: port.optional().describe('a TCP port for the embedded broker\'s TLS listener (mqtts, usually 8883), or unset for none'),
  MQTT_TLS_CERT: z.string().min(1).optional().describe('the PEM certificate file of the TLS listener'),
  MQTT_TLS_KEY: z.string().min(1).optional().describe('the PEM private key file of the TLS listener'),
  MQTT_TLS_CA: z.string().min(1).optional().describe('a PEM CA file: gateways presenting a certificate it signed, with CN <enterpriseCode>/<gatewayCode>, log in without a password'),
  GATEWAY_CREDENTIALS: z.string().min(1).optional().describe('the gateway password file (hashes) of the embedded broker; unset: DATA_DIR/gateway-credentials.json'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface AppConfig {
  readonly port: number;
  readonly host: string;
  /** Unset: start the embedded aedes broker on `mqttPort`. */
  readonly mqttUrl: string | null;
  readonly mqttPort: number;
  readonly mqttClientId: string;
  /** Largest MQTT packet (bytes) the embedded broker and the monitor's client accept; unset: their default (256 KiB). */
  readonly mqttMaxPacketBytes?: number;
  readonly influx: { readonly url: string; readonly db: string; readonly token: string | null; readonly downsample: boolean } | null;
  readonly dataDir: string;
  /** Bound of the disk buffer that holds readings while InfluxDB cannot take them. */
  readonly spoolMaxBytes: number;
  /** How long raw readings are kept (embedded store; InfluxDB retention policy when downsampling is set up). */
  readonly retentionDays: number;
  readonly configDir: string;
  readonly configWatch: boolean;
  /** Largest share (%) of registered points a reload may remove unless forced; unset: the registry's default (10). */
  readonly reloadMaxRemovedPct?: number;
  /** fsync of every alarm commit (`full`, default) or only at checkpoints (`normal`); unset: full. */
  readonly alarmDbSync?: 'full' | 'normal';
  /** Days closed alarms, risk history and dead letters are kept (the audit log always); 0 or unset keeps them all. */
  readonly historyRetentionDays?: number;
  /** Null: admin calls (registry reload) are accepted from loopback only. */
  readonly adminToken: string | null;
  readonly simulate: boolean;
  readonly simulatePeriodMs: number;
  /** Rule-core settings that are the same for every site (docs/rules.md); 0 turns chatter or flood handling off. */
  readonly rules: {
    readonly chatterMaxTransitions: number;
    readonly floodMaxAlarms: number;
    readonly gatewaySilencePeriods: number;
    readonly lateWindowS: number;
    readonly tickMs: number;
    /** Seconds a gateway clock may differ from the server's before `clock_skew`; unset: the engine's default (60). */
    readonly clockSkewS?: number;
    /** Seconds between the monitor's heartbeats through the broker; unset: 15. */
    readonly watchdogIntervalS?: number;
    /** Data completeness below which an enterprise gets a data_incomplete alarm (0: never), and its window; unset: 0.9 over 60 min. */
    readonly dataCompletenessMin?: number;
    readonly dataQualityWindowMin?: number;
    /** The data-quality window's bucket (default a minute); set shorter by tests only, to run the same logic in seconds. */
    readonly dataQualityBucketMs?: number;
  };
  readonly logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** Who may use the API and the page; unset fields take the defaults of docs/security.md. */
  readonly auth?: AuthConfig;
  /** How gateways and the monitor log in to MQTT; unset: the embedded broker authenticates every gateway. */
  readonly mqttAuth?: MqttAuthConfig;
}

export interface AuthConfig {
  readonly adminPassword?: string | null;
  readonly sessionTtlMin?: number;
  readonly loginMaxFailures?: number;
  readonly loginLockoutMin?: number;
  readonly loginPerMinute?: number;
  readonly trustedProxies?: readonly string[];
  readonly allowedOrigins?: readonly string[];
  readonly metricsPort?: number | null;
  readonly oidc?: OidcConfig | null;
}

export interface OidcConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUrl: string;
  readonly roleClaim: string;
  readonly jurisdictionClaim: string;
}

export interface MqttAuthConfig {
  readonly allowAnonymous: boolean;
  readonly username: string | null;
  readonly password: string | null;
  /** Null: DATA_DIR/gateway-credentials.json. */
  readonly credentialsFile: string | null;
  /** The embedded broker's mqtts listener; with `caFile`, client certificates signed by it log gateways in (mutual TLS). */
  readonly tls?: { readonly port: number; readonly certFile: string; readonly keyFile: string; readonly caFile: string | null } | null;
}

/** The only reader of process.env. Throws ConfigError naming each bad variable and what it expects. */
export function loadEnvConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const blankless = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(blankless);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = issue.path.join('.');
        const expected = envSchema.shape[key as keyof typeof envSchema.shape]?.description;
        return `environment variable ${key}=${JSON.stringify(env[key])}: ${issue.message}${expected ? `; expected ${expected}` : ''}`;
      }),
    );
  }
  const e = parsed.data;
  const configDir = resolve(e.CONFIG_DIR);
  const simulate = e.SIMULATE === undefined ? isDemoRegistry(configDir) : e.SIMULATE === '1';
  return {
    port: e.PORT,
    host: e.HOST,
    mqttUrl: e.MQTT_URL ?? null,
    mqttPort: e.MQTT_PORT,
    mqttClientId: e.MQTT_CLIENT_ID,
    mqttMaxPacketBytes: e.MQTT_MAX_PACKET_KB * 1024,
    influx: e.INFLUX_URL ? { url: e.INFLUX_URL, db: e.INFLUX_DB, token: e.INFLUX_TOKEN ?? null, downsample: e.INFLUX_DOWNSAMPLE === '1' } : null,
    dataDir: resolve(e.DATA_DIR),
    spoolMaxBytes: e.SPOOL_MAX_MB * 2 ** 20,
    retentionDays: e.RETENTION_DAYS,
    configDir,
    configWatch: e.CONFIG_WATCH === undefined ? simulate : e.CONFIG_WATCH === '1',
    reloadMaxRemovedPct: e.RELOAD_MAX_REMOVED_PCT,
    alarmDbSync: e.ALARM_DB_SYNC,
    historyRetentionDays: e.HISTORY_RETENTION_DAYS,
    adminToken: e.ADMIN_TOKEN ?? null,
    simulate,
    simulatePeriodMs: e.SIMULATE_PERIOD_MS,
    rules: {
      chatterMaxTransitions: e.CHATTER_MAX_TRANSITIONS,
      floodMaxAlarms: e.FLOOD_MAX_ALARMS,
      gatewaySilencePeriods: e.GATEWAY_SILENCE_PERIODS,
      lateWindowS: e.LATE_WINDOW_S,
      tickMs: e.RULE_TICK_MS,
      clockSkewS: e.CLOCK_SKEW_S,
      watchdogIntervalS: e.WATCHDOG_INTERVAL_S,
      dataCompletenessMin: e.DATA_COMPLETENESS_MIN,
      dataQualityWindowMin: e.DATA_QUALITY_WINDOW_MIN,
    },
    logLevel: e.LOG_LEVEL,
    auth: {
      adminPassword: e.SENTINEL_ADMIN_PASSWORD ?? null,
      sessionTtlMin: e.SESSION_TTL_MIN,
      loginMaxFailures: e.LOGIN_MAX_FAILURES,
      loginLockoutMin: e.LOGIN_LOCKOUT_MIN,
      loginPerMinute: e.LOGIN_RATE_PER_MIN,
      trustedProxies: list(e.TRUSTED_PROXIES),
      allowedOrigins: list(e.ALLOWED_ORIGINS),
      metricsPort: e.METRICS_PORT ?? null,
      oidc: oidcOf(e),
    },
    mqttAuth: {
      allowAnonymous: e.MQTT_ALLOW_ANONYMOUS === '1',
      username: e.MQTT_USERNAME ?? null,
      password: e.MQTT_PASSWORD ?? null,
      credentialsFile: e.GATEWAY_CREDENTIALS === undefined ? null : resolve(e.GATEWAY_CREDENTIALS),
      tls: tlsOf(e),
    },
  };
}

function list(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** The TLS listener is on when its port is set; then its certificate and key must be set too. */
function tlsOf(e: z.infer<typeof envSchema>): MqttAuthConfig['tls'] {
  if (e.MQTT_TLS_PORT === undefined) return null;
  const missing = (['MQTT_TLS_CERT', 'MQTT_TLS_KEY'] as const).filter((k) => e[k] === undefined);
  if (missing.length > 0) throw new ConfigError(missing.map((k) => `environment variable ${k} is unset; expected ${envSchema.shape[k].description} (MQTT_TLS_PORT is set)`));
  return { port: e.MQTT_TLS_PORT, certFile: resolve(e.MQTT_TLS_CERT!), keyFile: resolve(e.MQTT_TLS_KEY!), caFile: e.MQTT_TLS_CA === undefined ? null : resolve(e.MQTT_TLS_CA) };
}

/** OpenID Connect is on when the issuer is set; then the client settings must be set too. */
function oidcOf(e: z.infer<typeof envSchema>): OidcConfig | null {
  if (e.OIDC_ISSUER === undefined) return null;
  const missing = (['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_REDIRECT_URL'] as const).filter((k) => e[k] === undefined);
  if (missing.length > 0) throw new ConfigError(missing.map((k) => `environment variable ${k} is unset; expected ${envSchema.shape[k].description} (OIDC_ISSUER is set)`));
  return { issuer: e.OIDC_ISSUER, clientId: e.OIDC_CLIENT_ID!, clientSecret: e.OIDC_CLIENT_SECRET!, redirectUrl: e.OIDC_REDIRECT_URL!, roleClaim: e.OIDC_ROLE_CLAIM, jurisdictionClaim: e.OIDC_JURISDICTION_CLAIM };
}

/** The enterprises of the shipped demo (config/sites/demo.yaml): fictitious credit codes no real site is registered under. */
const DEMO_ENTERPRISES: ReadonlySet<string> = new Set(['91320594MA1WKTRP3E', '91370800MA3CD7LN28']);
/** The demo sites are a few KiB; a bigger folder is a real registry, not worth parsing just to tell. */
const DEMO_MAX_BYTES = 256 * 1024;
const enterpriseCodes = z.object({ enterprises: z.array(z.object({ code: z.string() })) });

/**
 * Whether every site file under `configDir` declares only demo enterprises, so that the simulator cannot publish
 * onto a real point. Decided by content, not by path: a customer's sites added to (or edited into) ./config count.
 */
export function isDemoRegistry(configDir: string): boolean {
  const codes = siteEnterpriseCodes(join(configDir, 'sites'));
  return codes !== null && codes.size > 0 && [...codes].every((code) => DEMO_ENTERPRISES.has(code));
}

/** The enterprise codes the site files in `dir` declare, or null when they cannot be told cheaply (too big, unreadable, malformed). */
function siteEnterpriseCodes(dir: string): Set<string> | null {
  const codes = new Set<string>();
  try {
    let bytes = 0;
    for (const name of readdirSync(dir).filter((n) => /\.(ya?ml|json)$/.test(n))) {
      const path = join(dir, name);
      bytes += statSync(path).size;
      if (bytes > DEMO_MAX_BYTES) return null;
      const text = readFileSync(path, 'utf8');
      const parsed = enterpriseCodes.safeParse(name.endsWith('.json') ? JSON.parse(text) : yaml.load(text));
      if (!parsed.success) return null;
      for (const e of parsed.data.enterprises) codes.add(e.code);
    }
  } catch {
    return null;
  }
  return codes;
}
