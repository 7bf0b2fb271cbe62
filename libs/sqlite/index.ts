export { openSqlite, closeSqlite, type SqliteDb, type SqliteSync, type SqliteTransaction } from './open-sqlite.js';
