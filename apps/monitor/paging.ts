import { BadRequestException } from '@nestjs/common';
import type { ServerResponse } from 'node:http';

export interface PageRequest {
  readonly offset: number;
  readonly limit: number;
}

/** `?offset` (default 0) and `?limit` (default `fallback`, at most `max`), with a 400 naming a bad one. */
export function pageOf(offset: string | undefined, limit: string | undefined, fallback: number, max: number): PageRequest {
  return { offset: integerParam('offset', offset, 0, 0, Number.MAX_SAFE_INTEGER), limit: integerParam('limit', limit, fallback, 1, max) };
}

export function integerParam(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new BadRequestException(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

/** Lists stay plain JSON arrays; the total and the next page travel in X-Total-Count and Link headers. */
export function setPageHeaders(res: ServerResponse, path: string, query: Record<string, string | undefined>, page: PageRequest, total: number): void {
  res.setHeader('X-Total-Count', String(total));
  const nextOffset = page.offset + page.limit;
  if (nextOffset < total) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && k !== 'offset' && k !== 'limit') params.set(k, v);
    params.set('offset', String(nextOffset));
    params.set('limit', String(page.limit));
    res.setHeader('Link', `<${path}?${params.toString()}>; rel="next"`);
  }
}

export function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw new BadRequestException(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

export function regionParam(raw: string | undefined): string | undefined {
  if (raw !== undefined && !/^[1-9]\d{5}$/.test(raw)) throw new BadRequestException(`regionCode must be a 6-digit division code (province, city or county), got "${raw}"`);
  return raw;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** An instant as epoch ms or RFC 3339, with a 400 naming a bad one. */
export function instant(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (/^\d+$/.test(raw)) return Number(raw);
  if (RFC3339.test(raw)) return Date.parse(raw);
  throw new BadRequestException(`${name} must be epoch milliseconds or an RFC 3339 date-time, got "${raw}"`);
}
