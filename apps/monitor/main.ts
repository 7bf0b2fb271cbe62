import { pino } from 'pino';
import { ConfigError, loadEnvConfig } from '#libs/config/index.js';
import { startMonitor } from './monitor.js';

try {
  const config = loadEnvConfig();
  const log = pino({ level: config.logLevel });
  const monitor = await startMonitor(config, { log });
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
  console.error(err);
  process.exit(1);
}
