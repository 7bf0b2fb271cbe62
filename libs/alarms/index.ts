export { AlarmBook, type ActionResult, type BookSnapshot } from './alarm-book.js';
export { act, closeIfDone, escalationDue, isActive, type Action, type Outcome, type Refusal } from './lifecycle.js';
export { assessRisk, colourOf, type RiskInput } from './risk.js';
export { RiskBoard, type RiskChange, type RiskSites } from './risk-board.js';
export { alarmReport, type EnterpriseReport, type IsaFigures, type ReportRange } from './reports.js';
