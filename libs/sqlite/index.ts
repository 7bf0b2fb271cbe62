export { openSqlite, type SqliteDb } from './open-sqlite.js';
