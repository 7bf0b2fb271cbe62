// CLI: the gateways' MQTT credentials (npm run gateways -- passwd|list|disable).
import { processIo } from './cli-io.js';
import { gatewaysCommand } from './gateways.command.js';

process.exitCode = await gatewaysCommand(process.argv.slice(2), processIo());
