import { describe, expect, it } from 'vitest';
import { startMonitor } from '#apps/monitor/monitor.js';
import { testConfig } from './support/monitor-config.js';
import { login, TEST_ADMIN_PASSWORD } from './support/auth.js';

describe('the first admin', () => {
  it('gets a random password at the first boot without SENTINEL_ADMIN_PASSWORD, told once; later boots create nobody', async () => {
    const config = testConfig({ auth: { adminPassword: null } });
    const first = await startMonitor(config);
    const created = first.initialAdmin;
    try {
      expect(created).toMatchObject({ username: 'admin', password: expect.stringMatching(/^[\w-]{16}$/) as unknown });
      const answer = await login(first.url, 'admin', created!.password!);
      expect(answer.user).toEqual({ username: 'admin', role: 'admin', jurisdiction: { all: true } });
    } finally {
      await first.close();
    }
    const second = await startMonitor({ ...config, mqttClientId: `${config.mqttClientId}-2`, auth: { adminPassword: TEST_ADMIN_PASSWORD } });
    try {
      expect(second.initialAdmin).toBeNull();
      // The password given now does not replace the one set at the first boot.
      await expect(login(second.url, 'admin', TEST_ADMIN_PASSWORD)).rejects.toThrow(/401/);
      expect((await login(second.url, 'admin', created!.password!)).user.username).toBe('admin');
    } finally {
      await second.close();
    }
  });

  it('takes SENTINEL_ADMIN_PASSWORD when given, and says so without printing it', async () => {
    const monitor = await startMonitor(testConfig());
    try {
      expect(monitor.initialAdmin).toEqual({ username: 'admin', password: null });
      expect((await login(monitor.url)).user.role).toBe('admin');
    } finally {
      await monitor.close();
    }
  });
});
