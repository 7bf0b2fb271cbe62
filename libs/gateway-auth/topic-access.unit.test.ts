import { describe, expect, it } from 'vitest';
import { aGateway } from '#libs/testing/builders.js';
import { credentialKey, parseGatewayUsername } from './gateway-identity.js';
import { gatewayTopics, publishRefusal } from './topic-access.js';

const GW = { enterpriseCode: '91320594MA1WKTRP3E', gatewayCode: 'GW01' };

describe('gateway topics', () => {
  it('lets a gateway publish its own telemetry and status only', () => {
    expect(gatewayTopics(GW)).toEqual({ telemetry: 'sites/91320594MA1WKTRP3E/GW01/telemetry', status: 'sites/91320594MA1WKTRP3E/GW01/status' });
    expect(publishRefusal(GW, 'sites/91320594MA1WKTRP3E/GW01/telemetry')).toBeNull();
    expect(publishRefusal(GW, 'sites/91320594MA1WKTRP3E/GW01/status')).toBeNull();
    for (const topic of [
      'sites/91370800MA3CD7LN28/GW01/telemetry',
      'sites/91320594MA1WKTRP3E/GW02/telemetry',
      'sites/91320594MA1WKTRP3E/GW01/telemetry/extra',
      'sites/91320594MA1WKTRP3E/GW01/config',
      'sites/91320594MA1WKTRP3E/GW01',
      'SITES/91320594MA1WKTRP3E/GW01/telemetry',
      '$SYS/broker/uptime',
    ]) {
      expect(publishRefusal(GW, topic)).toBe('91320594MA1WKTRP3E/GW01 may publish only sites/91320594MA1WKTRP3E/GW01/telemetry and sites/91320594MA1WKTRP3E/GW01/status');
    }
  });
});

describe('gateway usernames and credential keys', () => {
  it('reads <enterpriseCode>/<gatewayCode> and nothing else', () => {
    expect(parseGatewayUsername('91320594MA1WKTRP3E/GW01')).toEqual(GW);
    for (const bad of ['', 'GW01', '/GW01', '91320594MA1WKTRP3E/', 'a/b/c', 'a/+', '#/b', 'a b/c', 'sentinel-monitor']) expect(parseGatewayUsername(bad)).toBeNull();
  });

  it('keys a gateway by its credentialsRef, else by its username', () => {
    expect(credentialKey(aGateway({ credentialsRef: 'suzhou-gw01' }))).toBe('suzhou-gw01');
    expect(credentialKey(aGateway({ credentialsRef: null }))).toBe('91320594MA1WKTRP3E/GW01');
  });
});
