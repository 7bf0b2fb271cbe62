export { limitAlarms, rekeyLimitStates, highLevel, lowLevel, type LimitState, type HighLevel, type LowLevel } from './limit.rule.js';
