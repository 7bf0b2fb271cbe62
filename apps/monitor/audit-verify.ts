// `npm run audit:verify`: checks the hash chain of the audit log in DATA_DIR/alarms.db; exit code 0 when intact, 1 when not.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadEnvConfig } from '#libs/config/index.js';
import { SqliteAuditLog } from '#libs/store-embedded/index.js';

function main(): number {
  const config = loadEnvConfig();
  const file = join(config.dataDir, 'alarms.db');
  if (!existsSync(file)) {
    console.error(`${file}: no audit log (set DATA_DIR to the monitor's data folder)`);
    return 1;
  }
  const log = new SqliteAuditLog(file);
  try {
    const v = log.verify();
    if (v.ok) {
      console.log(`audit log intact: ${v.entries} entries; head ${v.head} (keep it elsewhere: a later run showing a different head for the same count means the tail was cut)`);
      return 0;
    }
    console.error(`audit log BROKEN at entry ${v.problem?.seq}: ${v.problem?.reason}; the ${v.entries} entries before it check out (head ${v.head})`);
    return 1;
  } finally {
    log.close();
  }
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : String(err));
  process.exitCode = 2;
}
