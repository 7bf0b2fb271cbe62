// CLI: passwd and acl for an external mosquitto (npm run mosquitto-config -- --out <dir>).
import { processIo } from './cli-io.js';
import { mosquittoConfigCommand } from './mosquitto-config.command.js';

process.exitCode = await mosquittoConfigCommand(process.argv.slice(2), processIo());
