import { describe, expect, it } from 'vitest';
import { regionOf, regionWithin } from './region.js';

describe('administrative divisions from a 6-digit code', () => {
  it('derives province, city and county, leaving out the levels a higher-level code does not name', () => {
    expect(regionOf('370811')).toEqual({ code: '370811', province: '370000', city: '370800', county: '370811' });
    expect(regionOf('370800')).toEqual({ code: '370800', province: '370000', city: '370800', county: null });
    expect(regionOf('320000')).toEqual({ code: '320000', province: '320000', city: null, county: null });
  });

  it('places a county within its city and province only', () => {
    const county = regionOf('370811');
    expect(['370000', '370800', '370811'].map((c) => regionWithin(county, c))).toEqual([true, true, true]);
    expect(['320000', '370900', '370812'].map((c) => regionWithin(county, c))).toEqual([false, false, false]);
  });
});
