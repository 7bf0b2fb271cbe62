export { openSqlite, closeSqlite, type SqliteDb, type SqliteSync } from './open-sqlite.js';
