import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Subject } from '#libs/contracts/index.js';
import type { Access } from './access.js';
import type { Permission } from './permissions.js';

export const PUBLIC = 'sentinel:public';
export const PERMIT = 'sentinel:permit';

/**
 * What a route's target is, for the jurisdiction check: an alarm (`:id`), an enterprise (`:enterpriseCode`, or
 * `:code` of /enterprises/:code), or nothing beyond the enterprise a query names.
 */
export type TargetKind = 'alarm' | 'enterprise' | 'none';
export interface PermitSpec {
  readonly permission: Permission | ((params: Readonly<Record<string, string>>) => Permission | undefined);
  readonly target: TargetKind;
}

/** The permission a route needs; a route without one is refused to everyone (fail closed). */
export const Permit = (permission: PermitSpec['permission'], target: TargetKind = 'none') => SetMetadata(PERMIT, { permission, target } satisfies PermitSpec);

/** A route anyone may call: login and health. */
export const Public = () => SetMetadata(PUBLIC, true);

/** What the guard learnt of a request, for the handler. */
export interface Caller {
  readonly subject: Subject;
  readonly access: Access;
  /** Client address (X-Forwarded-For from trusted proxies only). */
  readonly address: string;
  /** Client address and session or token, as the audit records it. */
  readonly origin: string;
}

export type AuthenticatedRequest = IncomingMessage & { caller?: Caller };

export const CallerOf = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const caller = ctx.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) throw new Error('route reached without the auth guard');
  return caller;
});
