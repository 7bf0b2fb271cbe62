import { BadRequestException, type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Alarm } from '#libs/contracts/index.js';
import { RUNTIME, type MonitorRuntime } from '../runtime.js';
import { originOf } from './auth.service.js';
import { type AuthenticatedRequest, PERMIT, type PermitSpec, PUBLIC } from './decorators.js';
import { refusal, type Target } from './permissions.js';

type Req = AuthenticatedRequest & { clientAddress?: string; params: Record<string, string>; query: Record<string, unknown>; method: string; path: string };

/**
 * The front door of every route: authenticates the caller, then asks `refusal` (permissions.ts) whether its role
 * and jurisdiction allow the route's act on the route's target. Handlers only filter lists by the caller's Access.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(RUNTIME) private readonly rt: MonitorRuntime,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const handlers = [ctx.getHandler(), ctx.getClass()];
    const req = ctx.switchToHttp().getRequest<Req>();
    const auth = this.rt.auth;
    const address = auth.clientAddress(req);
    req.clientAddress = address;
    const repeated = Object.entries(req.query).find(([, v]) => typeof v !== 'string');
    if (repeated) throw new BadRequestException(`query parameter ${repeated[0]}: give it once, as plain text`);
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, handlers)) return true;
    const subject = auth.authenticate(req);
    if (subject === null) {
      auth.auditRefusal(null, address, { status: 401, method: req.method, path: req.path });
      throw new UnauthorizedException({
        statusCode: 401,
        message: 'sign in first: POST /api/auth/login, then send Authorization: Bearer <token>',
        signIn: { password: true, oidc: (this.rt.config.auth?.oidc ?? null) !== null },
      });
    }
    const access = auth.accessOf(subject);
    req.caller = { subject, access, address, origin: originOf(address, subject) };
    const spec = this.reflector.getAllAndOverride<PermitSpec | undefined>(PERMIT, handlers);
    const permission = spec === undefined ? undefined : typeof spec.permission === 'function' ? (spec.permission(req.params) ?? 'read') : spec.permission;
    const target = spec === undefined ? undefined : this.targetOf(spec, req);
    const reason = permission === undefined ? 'this route declares no permission' : (refusal(access, permission, target) ?? this.queryRefusal(req));
    if (reason === null) return true;
    auth.auditRefusal(subject, address, { status: 403, method: req.method, path: req.path, reason }, target && 'alarm' in target ? target.alarm.id : '');
    throw new ForbiddenException(reason);
  }

  /** Decided by the codes in the path, never by whether the thing exists: a 403 says no more than the URL did. */
  private targetOf(spec: PermitSpec, req: Req): Target | undefined {
    const { params } = req;
    if (spec.target === 'enterprise') {
      const code = params.enterpriseCode ?? params.code;
      return code === undefined ? undefined : { enterpriseCode: code };
    }
    if (spec.target === 'alarm' && params.id !== undefined) {
      const alarm: Alarm | null | undefined = this.rt.pipeline.book.find(params.id) ?? this.rt.alarmStore.get(params.id);
      if (alarm) return { alarm };
      const slash = params.id.indexOf('/');
      return { alarmId: params.id, enterpriseCode: slash > 0 ? params.id.slice(0, slash) : params.id };
    }
    return undefined;
  }

  /** A query naming an enterprise outside the caller's jurisdiction is refused rather than answered empty. */
  private queryRefusal(req: Req): string | null {
    const code = req.query.enterpriseCode;
    if (code !== undefined && typeof code !== 'string') return 'enterpriseCode: give one enterprise code';
    if (typeof code !== 'string' || req.caller!.access.sees(code)) return null;
    return `enterprise ${code} is outside your jurisdiction`;
  }
}
