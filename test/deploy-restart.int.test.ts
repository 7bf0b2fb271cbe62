import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';

// The monitor exits only on what it cannot contain (docs/safety.md §3): every shipped deployment must restart it.
describe('shipped deployments restart the monitor', () => {
  it('docker-compose.yml restarts the monitor service unless stopped, with the simulator off', () => {
    const compose = load(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, { restart?: string; environment?: Record<string, string> }> };
    expect(compose.services.monitor?.restart).toBe('unless-stopped');
    expect(compose.services.monitor?.environment?.SIMULATE).toBe('0');
  });

  it('the systemd unit restarts the monitor always, runs the built main, and keeps the simulator off', () => {
    const unit = readFileSync('deploy/systemd/sentinel.service', 'utf8');
    const settings = new Map(unit.split('\n').filter((l) => /^\w+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(settings.get('Restart')).toBe('always');
    expect(settings.get('ExecStart')).toContain('dist/apps/monitor/main.js');
    expect(settings.get('Environment')).toContain('SIMULATE=0');
    expect(unit).toMatch(/^\[Install\]\nWantedBy=multi-user.target$/m);
  });
});
