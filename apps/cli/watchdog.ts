// CLI: the external watchdog of the monitor (npm run watchdog -- --url http://monitor:3000).
import { processIo } from './cli-io.js';
import { watchdogCommand } from './watchdog.command.js';

const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
process.once('SIGINT', () => stop.abort());
process.exitCode = await watchdogCommand(process.argv.slice(2), processIo(), stop.signal);
