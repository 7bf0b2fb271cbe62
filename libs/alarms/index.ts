export { AlarmBook, severityOf } from './alarm-book.js';
