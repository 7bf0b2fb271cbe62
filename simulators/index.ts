export { startSimulator, normalBand, seededRandom, type RunningSimulator, type SimulatorOptions } from './gateway.simulator.js';
