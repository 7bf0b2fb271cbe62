// CLI: the built-in users (npm run users -- add|list|passwd|set|disable|enable).
import { processIo } from './cli-io.js';
import { usersCommand } from './users.command.js';

process.exitCode = await usersCommand(process.argv.slice(2), processIo());
