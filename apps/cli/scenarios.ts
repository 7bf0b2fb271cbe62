// CLI: the staged hazards against a running monitor (npm run scenarios).
import { processIo } from './cli-io.js';
import { scenariosCommand } from './scenarios.command.js';

process.exitCode = await scenariosCommand(process.argv.slice(2), processIo());
