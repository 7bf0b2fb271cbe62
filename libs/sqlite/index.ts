export { openSqlite, closeSqlite, type SqliteDb } from './open-sqlite.js';
