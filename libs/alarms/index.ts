export { AlarmBook, type ActionResult } from './alarm-book.js';
export { act, closeIfDone, escalationDue, isActive, type Action, type Outcome, type Refusal } from './lifecycle.js';
