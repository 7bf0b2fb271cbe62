import { z } from 'zod';
import type { RiskWeights } from '#libs/contracts/index.js';
import { readOptionalConfigFile } from './yaml-files.js';

const points = z.number().finite().min(0);
const riskFileSchema = z.strictObject({
  grade: z.strictObject({ '1': points, '2': points, '3': points, '4': points, ungraded: points }),
  activeAlarm: z.strictObject({ critical: points, major: points, minor: points, warning: points }),
  sensorFault: points,
  gatewayOffline: points,
  overdueAcknowledgement: points,
  thresholds: z
    .strictObject({ red: points, orange: points, yellow: points })
    .refine((t) => t.red > t.orange && t.orange > t.yellow, 'red > orange > yellow'),
});

/** Used when config/risk.yaml is absent; the shipped file has the same values with their reasons. */
export const DEFAULT_RISK_WEIGHTS: RiskWeights = {
  grade: { '1': 40, '2': 30, '3': 20, '4': 10, ungraded: 10 },
  activeAlarm: { critical: 30, major: 15, minor: 5, warning: 5 },
  sensorFault: 5,
  gatewayOffline: 20,
  overdueAcknowledgement: 10,
  thresholds: { red: 70, orange: 50, yellow: 30 },
};

/** Reads `risk.yaml` under configDir (optional); throws ConfigError naming the file, key and expectation. */
export function loadRiskWeights(configDir: string): RiskWeights {
  return readOptionalConfigFile(configDir, 'risk.yaml', riskFileSchema) ?? DEFAULT_RISK_WEIGHTS;
}
