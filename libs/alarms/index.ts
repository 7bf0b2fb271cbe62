export { AlarmBook } from './alarm-book.js';
