import { pino } from 'pino';
import { ConfigError, loadEnvConfig } from '#libs/config/index.js';
import { startMonitor } from './monitor.js';

function isAddressInUse(err: unknown): err is Error & { port?: number } {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
}

try {
  const config = loadEnvConfig();
  const log = pino({ level: config.logLevel });
  // Last line of fault containment: what escaped every handler leaves the process in an unknown state, so it is
  // logged and the process exits for its supervisor (systemd, compose) to restart it. A rejected promise nobody
  // awaited is contained by nature: logged, and the process goes on.
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception; exiting for the supervisor to restart the monitor');
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection contained'));
  const monitor = await startMonitor(config, { log });
  const port = new URL(monitor.url).port;
  const admin = monitor.initialAdmin;
  const signIn =
    admin === null
      ? 'with your user (npm run users -- list; a forgotten admin password: npm run users -- passwd admin --password-stdin)'
      : admin.password === null
        ? `as ${admin.username} with the password in SENTINEL_ADMIN_PASSWORD`
        : `as ${admin.username} with the password ${admin.password} (shown only now: note it, or change it with npm run users -- passwd admin --password-stdin)`;
  console.error(
    `\nSentinel is running.\n  command centre: http://localhost:${port}/\n  sign in:        ${signIn}\n  MQTT:           ${monitor.mqttUrl}${config.mqttUrl ? '' : ' (embedded broker)'}\n` +
      `  series store:   ${config.influx ? `InfluxDB ${config.influx.url} db=${config.influx.db}` : `embedded, ${config.dataDir}`}\n` +
      `  simulator:      ${config.simulate ? 'publishing the demo sites (SIMULATE=0 turns it off)' : 'off (on by itself only for the demo sites; SIMULATE=1 forces it)'}\n`,
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    void monitor.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  if (isAddressInUse(err)) {
    console.error(`Port ${err.port ?? '?'} is already in use. Choose another with PORT (HTTP) or MQTT_PORT (embedded broker), or set MQTT_URL to use a running broker.`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
}
