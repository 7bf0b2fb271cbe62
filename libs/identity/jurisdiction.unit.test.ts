import { describe, expect, it } from 'vitest';
import { jurisdictionWithin, parseJurisdiction, regionContains } from './jurisdiction.js';

describe('jurisdictions', () => {
  it('parses the command-line forms', () => {
    expect(parseJurisdiction('*')).toEqual({ all: true });
    expect(parseJurisdiction('370811')).toEqual({ regionCode: '370811' });
    expect(parseJurisdiction('91370800MA3CD7LN28, 91320594MA1WKTRP3E')).toEqual({ enterpriseCodes: ['91370800MA3CD7LN28', '91320594MA1WKTRP3E'] });
    expect(parseJurisdiction('not a code!')).toBeNull();
    expect(parseJurisdiction('')).toBeNull();
  });

  it('nests divisions by GB/T 2260 levels', () => {
    expect(regionContains('370000', '370811')).toBe(true);
    expect(regionContains('370800', '370811')).toBe(true);
    expect(regionContains('370800', '370900')).toBe(false);
    expect(regionContains('370811', '370811')).toBe(true);
    expect(regionContains('370811', '370812')).toBe(false);
  });

  it('tells whether a token stays within its creator', () => {
    const regionOf = (code: string) => ({ E1: '370811', E2: '320594' })[code];
    expect(jurisdictionWithin({ regionCode: '370811' }, { regionCode: '370800' }, regionOf)).toBe(true);
    expect(jurisdictionWithin({ regionCode: '370000' }, { regionCode: '370800' }, regionOf)).toBe(false);
    expect(jurisdictionWithin({ enterpriseCodes: ['E1'] }, { regionCode: '370800' }, regionOf)).toBe(true);
    expect(jurisdictionWithin({ enterpriseCodes: ['E1', 'E2'] }, { regionCode: '370800' }, regionOf)).toBe(false);
    expect(jurisdictionWithin({ all: true }, { regionCode: '370800' }, regionOf)).toBe(false);
    expect(jurisdictionWithin({ all: true }, { all: true }, regionOf)).toBe(true);
    expect(jurisdictionWithin({ regionCode: '370800' }, { enterpriseCodes: ['E1'] }, regionOf)).toBe(false);
  });
});
