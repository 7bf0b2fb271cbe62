export { Registry, loadRegistry, type EnterpriseFilter, type Location, type Page, type PointFilter } from './registry.js';
export { creditCodeCheckChar, creditCodeProblem } from './credit-code.js';
export { gradeOf, type GradingInputs } from './hazard-grade.js';
export { regionOf } from './region.js';
export { LiveRegistry, samePointSettings, type RegistrySwap, type ReloadOutcome } from './live-registry.js';
