export { highLevel, lowLevel, rankOf, DelayedLevel, type HighLevel, type LowLevel } from './limit.rule.js';
export { RuleEngine, DEFAULT_ENGINE_OPTIONS, type EngineFault, type EngineOptions, type EngineStats, type Emit } from './rule-engine.js';
export { evaluateRules, type RuleInput, type EvaluateOptions } from './rules.operator.js';
export { conditionKey, parseConditionKey, type ParsedKey } from './condition.js';
export { SlopeWindow } from './slope-window.js';
export { ISA_CHATTER, type ChatterSettings } from './chatter.guard.js';
export { ISA_FLOOD, type FloodSettings } from './flood.guard.js';
export { boundedByArrival } from './arrival.js';
