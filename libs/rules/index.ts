export { limitAlarms, highLevel, lowLevel, type LimitState, type HighLevel, type LowLevel } from './limit.rule.js';
