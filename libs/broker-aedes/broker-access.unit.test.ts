import { describe, expect, it } from 'vitest';
import { monitorMaySubscribe } from './broker-access.js';

describe('monitorMaySubscribe', () => {
  it('lets the monitor subscribe within sites/ only', () => {
    for (const ok of ['sites/#', 'sites/+/+/telemetry', 'sites/+/+/status', 'sites/91320594MA1WKTRP3E/#']) expect(monitorMaySubscribe(ok)).toBe(true);
    for (const no of ['#', '+/+/+/telemetry', '$SYS/#', '$SENTINEL/dropped', 'sites', 'site/#', '$share/g/sites/#']) expect(monitorMaySubscribe(no)).toBe(false);
  });
});
