import { SESSION_ENDED } from './labels.js';

/** Thrown by api() when the server answers 401: the page has already gone back to the sign-in form. */
export class SignedOut extends Error {}

let signedOut: (message: string) => void = () => undefined;
/** What the page does when a request finds the session gone. */
export function onSignedOut(handler: (message: string) => void): void {
  signedOut = handler;
}

/** Same-origin fetch: the HttpOnly session cookie goes along; the page never holds a token. */
export async function api(url: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(url, init);
  if (res.status === 401) {
    signedOut(SESSION_ENDED);
    throw new SignedOut('signed out');
  }
  return res;
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await api(url);
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as T;
}

export interface Answer<T> {
  readonly ok: boolean;
  readonly status: number;
  readonly body: T | { message?: string } | null;
}

export async function postJson<T>(url: string, body: unknown): Promise<Answer<T>> {
  const res = await api(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const parsed = (await res.json().catch(() => null)) as T | { message?: string } | null;
  return { ok: res.ok, status: res.status, body: parsed };
}

/** What the server said when it refused an action, in words. */
export function refusalText(status: number, body: unknown): string {
  const why: Record<number, string> = { 400: '请求有误 bad request', 403: '无权操作 not allowed', 404: '不存在 not found', 409: '状态已变 conflict', 503: '暂不可用 unavailable' };
  const message = typeof body === 'object' && body !== null && 'message' in body ? body.message : undefined;
  const text = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : '';
  return (why[status] ?? `HTTP ${status}`) + (text ? `: ${text}` : '');
}

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
