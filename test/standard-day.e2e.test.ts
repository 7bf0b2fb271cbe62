import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenarios } from '../simulators/scenario.js';
import type { DayResult } from '../simulators/standard-day/virtual-day.js';
import { buildMonitor } from './support/monitor-process.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'standard-day-test-'));

/** The compiled command in its own process (it puts the whole process on a virtual clock), as `npm run standard-day` runs it. */
async function standardDay(name: string): Promise<{ stdout: string; day: DayResult; markdown: string }> {
  const out = join(dir, name, 'alarm-quality.md');
  const json = join(dir, name, 'day.json');
  const { stdout } = await run(process.execPath, [resolve('dist/apps/cli/standard-day.js'), '--enterprises', '6', '--hours', '2', '--seed', '7', '--out', out, '--json', json], { maxBuffer: 16 * 2 ** 20 });
  return { stdout, day: JSON.parse(readFileSync(json, 'utf8')) as DayResult, markdown: readFileSync(out, 'utf8') };
}

const cell = (markdown: string, figure: string): string => {
  const line = markdown.split('\n').find((l) => l.startsWith(`| ${figure} |`));
  if (line === undefined) throw new Error(`no row "${figure}" in the report`);
  return line.split(' | ')[1]!;
};

describe('npm run standard-day (a short day: 6 enterprises, 2 hours, on the virtual clock)', () => {
  let first: Awaited<ReturnType<typeof standardDay>>;
  let second: Awaited<ReturnType<typeof standardDay>>;
  beforeAll(async () => {
    buildMonitor();
    first = await standardDay('a');
    second = await standardDay('b');
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stages every scenario among normal traffic and each raises what it must, in time, and nothing it must not', () => {
    const played = new Set(first.day.hazards.map((h) => h.hazard.scenario.name));
    expect([...played].sort()).toEqual(loadScenarios(resolve('simulators/scenarios')).map((s) => s.name).sort());
    const verdicts = first.day.hazards.flatMap((h) => h.verdicts);
    expect(verdicts.filter((v) => !v.ok)).toEqual([]);
    expect(first.stdout).toContain(`${verdicts.length} of ${verdicts.length} expectations met`);
    expect(first.day.published.readings).toBeGreaterThan(6 * 2 * 360 * 5);
  });

  it('writes the report from the APIs: its figures are the day\'s, with the charts beside it', () => {
    const { day, markdown } = first;
    expect(cell(markdown, 'alarms raised')).toBe(String(day.alarms.length));
    expect(day.alarms.length).toBeGreaterThanOrEqual(day.hazards.length);
    expect(cell(markdown, 'staged hazards detected (every alarm it must raise, in time)')).toBe(`${day.hazards.length} of ${day.hazards.length}`);
    expect(cell(markdown, 'alarms no staged hazard explains (false alarms)')).toBe('0');
    expect(cell(markdown, 'chattering alarms')).toBe(String(day.report.isa.chattering));
    // The flapping link's alarm chattered (latched, then released): the report counts it after the day.
    expect(day.report.isa.chattering).toBeGreaterThan(0);
    expect(cell(markdown, 'priority mix high / medium / low')).toBe(`${day.report.isa.severityMix.critical} / ${day.report.isa.severityMix.major} / ${Math.round((day.report.isa.severityMix.minor + day.report.isa.severityMix.warning) * 10) / 10} %`);
    for (const e of day.enterprises) expect(markdown).toContain(`\`${e.code}\``);
    // The gateway cut off for ten minutes shows as offline hours and lost completeness at its enterprise.
    const cut = day.hazards.find((h) => h.hazard.scenario.name === 'gateway-offline')!.hazard.scenario.enterprise;
    expect(day.report.enterprises.find((e) => e.enterpriseCode === cut)!.gatewayOfflineHours).toBeCloseTo(10 / 60, 1);
    for (const q of day.dataQuality) {
      const line = markdown.split('\n').find((l) => l.includes(`\`${q.enterpriseCode}\``))!;
      expect(line).toContain(`| ${(q.completeness * 100).toFixed(1)} % | ${((q.timeliness ?? 0) * 100).toFixed(1)} % |`);
    }
    expect(day.dataQuality.map((q) => q.windowMin)).toEqual(day.enterprises.map(() => 120));
    // The operator acknowledged alarms over the REST API; the report's times come from that.
    expect(day.operator.acknowledged).toBeGreaterThan(0);
    expect(day.report.enterprises.some((e) => e.meanMinutesToAcknowledge !== null)).toBe(true);
    const img = join(dir, 'a', 'img');
    expect(readdirSync(img).sort()).toEqual(['alarm-quality-data.svg', 'alarm-quality-detection.svg', 'alarm-quality-priority.svg', 'alarm-quality-rate.svg']);
    for (const f of readdirSync(img)) {
      expect(readFileSync(join(img, f), 'utf8')).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(markdown).toContain(`](img/${f})`);
    }
  });

  it('plays the same day for the same options: the same alarms at the same moments (in any order within a moment), the same report', () => {
    const brief = (d: DayResult): string[] => d.alarms.map((a) => `${a.enterpriseCode} ${a.condition} ${a.pointCode ?? a.originatorCode} ${a.level} ${a.detectedAt} ${a.clearedAt} ${a.acknowledged?.at} ${a.disposal?.at}`).sort();
    expect(brief(second.day)).toEqual(brief(first.day));
    expect(second.day.report).toEqual(first.day.report);
    expect(second.day.dataQuality).toEqual(first.day.dataQuality);
  });
});
