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
