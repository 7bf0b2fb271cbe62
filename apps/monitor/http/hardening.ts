import type { IncomingMessage, ServerResponse } from 'node:http';

type Next = (err?: unknown) => void;
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ statusCode: status, message }));
}

/**
 * State-changing requests carry JSON or nothing: an HTML form (urlencoded, multipart, text/plain) from another site
 * cannot make one, since a cross-origin JSON request needs a CORS preflight that is never granted.
 */
export function jsonOnlyWrites(req: IncomingMessage, res: ServerResponse, next: Next): void {
  if (!WRITES.has(req.method ?? '') || !hasBody(req)) return next();
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return next();
  refuse(res, 415, `send the body as application/json (got ${type || 'no content type'})`);
}

/** Whether a browser's Origin header names this server itself or an allowed origin; no Origin (not a browser) passes. */
export function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Refuses a state-changing request a browser sent from a page of another origin (403). */
export function sameOriginWrites(allowed: readonly string[], onRefused: (req: IncomingMessage) => void) {
  return (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    if (!WRITES.has(req.method ?? '') || originAllowed(req, allowed)) return next();
    onRefused(req);
    refuse(res, 403, `origin ${req.headers.origin ?? '?'} may not send requests here (ALLOWED_ORIGINS)`);
  };
}
