// CLI: the conformance check of one real gateway (npm run gateway-check -- --broker … --enterprise … --gateway …).
import { processIo } from './cli-io.js';
import { gatewayCheckCommand } from './gateway-check.command.js';

process.exitCode = await gatewayCheckCommand(process.argv.slice(2), processIo());
