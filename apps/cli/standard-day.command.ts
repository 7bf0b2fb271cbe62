import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { alarmQualityReport } from '../../simulators/standard-day/quality-report.js';
import { playStandardDay } from '../../simulators/standard-day/virtual-day.js';
import { EXIT_BAD_INPUT, UsageError, type CliIo } from './cli-io.js';

export const STANDARD_DAY_USAGE = `usage: npm run standard-day -- [--enterprises 50] [--hours 24] [--seed 42] [--date 2026-11-02] [--out docs/alarm-quality.md] [--json FILE]
  Plays a day of normal operation with staged hazards against a monitor on a virtual clock (embedded broker and
  store, in this process) and writes the alarm-quality report (Markdown, charts as SVG under img/ beside it) from
  the monitor's report, data-quality and alarm APIs. --json also writes the day's figures. Exit 0 when every
  scenario was staged and met its expectations, 1 when one was missed or found no room in the day.`;

const integer = (name: string, v: string, lo: number, hi: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new UsageError(`--${name}: expected an integer ${lo}-${hi}, got "${v}"`, true);
  return n;
};

/** \`npm run standard-day\`: plays a simulated day on a virtual clock and writes its alarm-quality report. */
export async function standardDayCommand(args: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { enterprises: { type: 'string', default: '50' }, hours: { type: 'string', default: '24' }, seed: { type: 'string', default: '42' }, date: { type: 'string', default: '2026-11-02' }, out: { type: 'string', default: 'docs/alarm-quality.md' }, json: { type: 'string' } },
    });
    const startAt = Date.parse(`${values.date}T00:00:00+08:00`);
    if (Number.isNaN(startAt)) throw new UsageError(`--date: expected a day as YYYY-MM-DD, got "${values.date}"`, true);
    const workDir = mkdtempSync(join(tmpdir(), 'sentinel-day-'));
    try {
      const day = await playStandardDay({
        enterprises: integer('enterprises', values.enterprises, 1, 2000),
        hours: integer('hours', values.hours, 1, 24),
        seed: integer('seed', values.seed, 0, 2 ** 31),
        configDir: resolve('config'),
        scenariosDir: resolve('simulators/scenarios'),
        extraSitesFile: resolve('simulators/standard-day/sites.yaml'),
        workDir,
        startAt,
        log: (line) => io.out(line),
      });
      if (values.json) {
        mkdirSync(dirname(resolve(values.json)), { recursive: true });
        writeFileSync(values.json, JSON.stringify(day, null, 1));
      }
      const command = ['npm run standard-day --', ...args].join(' ');
      const { markdown, charts } = alarmQualityReport(day, command, 'img');
      const out = resolve(values.out);
      mkdirSync(join(dirname(out), 'img'), { recursive: true });
      for (const c of charts) writeFileSync(join(dirname(out), 'img', c.file), c.svg);
      writeFileSync(out, markdown);
      const verdicts = day.hazards.flatMap((h) => h.verdicts);
      const missed = verdicts.filter((v) => !v.ok);
      for (const v of missed) io.out(`MISS ${v.scenario}: ${v.expectation} (${v.detail})`);
      io.out(`played ${values.hours} h in ${day.playedInS} s: ${day.published.messages} messages, ${day.alarms.length} alarms, ${verdicts.length - missed.length} of ${verdicts.length} expectations met; wrote ${out} and ${charts.length} charts`);
      if (day.unstaged.length > 0) io.out(`NOT STAGED (a longer day or more enterprises makes room): ${day.unstaged.join(', ')}`);
      return missed.length === 0 && day.unstaged.length === 0 ? 0 : 1;
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(err.message);
      io.err(STANDARD_DAY_USAGE);
      return EXIT_BAD_INPUT;
    }
    throw err;
  }
}
