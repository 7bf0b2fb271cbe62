// CLI: a simulated standard day and its alarm-quality report (npm run standard-day).
import { processIo } from './cli-io.js';
import { standardDayCommand } from './standard-day.command.js';

process.exitCode = await standardDayCommand(process.argv.slice(2), processIo());
