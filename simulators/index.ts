export { startSimulator, type RunningSimulator, type SimulatorOptions } from './gateway.simulator.js';
export { normalBand, seededRandom, signalOf, type Signal } from './signals.js';
