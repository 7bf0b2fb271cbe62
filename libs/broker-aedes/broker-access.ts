import { createHash, timingSafeEqual } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { AedesOptions, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';

export interface GatewayIdentity {
  readonly enterpriseCode: string;
  readonly gatewayCode: string;
}

export type Authentication = { readonly ok: true; readonly gateway: GatewayIdentity } | { readonly ok: false; readonly reason: string };

/** What the broker asks about gateways (libs/gateway-auth's GatewayAuthority is one). */
export interface BrokerAuthority {
  authenticate(username: string, password: string, clientId: string, address: string): Promise<Authentication>;
  /** The subject CN of a client certificate that chains to the broker's CA. */
  authenticateCertificate(commonName: string): Authentication;
  /** Why `gateway` may not publish to `topic`, or null when it may. */
  publishRefusal(gateway: GatewayIdentity, topic: string): string | null;
}

export interface RefusalEvent {
  readonly kind: 'connect' | 'publish' | 'subscribe';
  readonly clientId: string;
  readonly address: string;
  readonly username?: string;
  readonly topic?: string;
  readonly reason: string;
}

export interface AccessOptions {
  readonly auth: BrokerAuthority;
  /** The monitor's own client: the only one that subscribes, and only under `sites/`. */
  readonly internalClient: { readonly username: string; readonly password: string };
  readonly onRefused: (event: RefusalEvent) => void;
  readonly onProblem: (message: string) => void;
  /** The client connected now under a client id, if any: another principal may not take that id over. */
  readonly holderOf?: (clientId: string) => Client | undefined;
}

type Principal = { readonly kind: 'monitor' } | { readonly kind: 'gateway'; readonly username: string; readonly gateway: GatewayIdentity };
type Identified = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly reason: string; readonly returnCode: 4 | 5 };

/**
 * Where a refused PUBLISH goes instead: the client gets its PUBACK and stays connected (aedes would close the
 * connection on an authorizePublish error, and the gateway would resend the same message after every reconnect),
 * and nobody receives it, since only the monitor subscribes and only under `sites/`.
 */
export const DROPPED_TOPIC = '$SENTINEL/dropped';

/** Where the monitor sends heartbeats to itself through the broker (its watchdog of the monitoring chain). */
export const HEARTBEAT_TOPICS = 'sentinel/heartbeat/';

/** A subscription the monitor may make: `sites/#` or any filter within it, and its own heartbeats. */
export function monitorMaySubscribe(filter: string): boolean {
  return filter.startsWith('sites/') || filter.startsWith(HEARTBEAT_TOPICS);
}

/** aedes hooks letting in the monitor and registered gateways only, each doing only what it may. */
export function accessHooks(options: AccessOptions): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'> {
  const { auth, internalClient, onRefused, onProblem } = options;
  const holderOf = options.holderOf ?? (() => undefined);
  const principals = new WeakMap<Client, Principal>();
  const monitorPassword = digest(internalClient.password);
  const monitorClientIds = new Set<string>();

  const identify = async (client: Client, username: string | undefined, password: string): Promise<Identified> => {
    const commonName = verifiedCommonName(client);
    if (commonName !== null) {
      if (username !== undefined && username !== commonName) return { ok: false, reason: `username ${username} differs from its certificate's CN ${commonName}`, returnCode: 5 };
      const byCert = auth.authenticateCertificate(commonName);
      return byCert.ok ? { ok: true, principal: { kind: 'gateway', username: commonName, gateway: byCert.gateway } } : { ok: false, reason: byCert.reason, returnCode: 5 };
    }
    if (username === undefined) return { ok: false, reason: 'no username (anonymous clients are not allowed)', returnCode: 5 };
    if (username === internalClient.username) {
      if (!timingSafeEqual(digest(password), monitorPassword)) return { ok: false, reason: `wrong password for ${username}`, returnCode: 4 };
      monitorClientIds.add(client.id);
      return { ok: true, principal: { kind: 'monitor' } };
    }
    // A client taking over the monitor's client id would end the monitor's session.
    if (monitorClientIds.has(client.id)) return { ok: false, reason: `client id ${client.id} is the monitor's`, returnCode: 5 };
    const result = await auth.authenticate(username, password, client.id, addressOf(client));
    return result.ok ? { ok: true, principal: { kind: 'gateway', username, gateway: result.gateway } } : { ok: false, reason: result.reason, returnCode: 4 };
  };

  const keyOf = (p: Principal | undefined): string | undefined => (p === undefined ? undefined : p.kind === 'monitor' ? '$monitor' : p.username);
  /**
   * A client id held by a connected client of another principal is refused: taking it over would disconnect that
   * client (and publish its will), so one gateway could make another look offline, or knock the monitor off.
   */
  const identifyWithoutTakeover = async (client: Client, username: string | undefined, password: string): Promise<Identified> => {
    const result = await identify(client, username, password);
    if (!result.ok) return result;
    const holder = holderOf(client.id);
    const held = holder === undefined || holder === client ? undefined : keyOf(principals.get(holder));
    if (held !== undefined && held !== keyOf(result.principal)) return { ok: false, reason: `client id ${client.id} is in use by another client`, returnCode: 5 };
    return result;
  };

  const refuse = (client: Client, kind: RefusalEvent['kind'], reason: string, topic?: string): void => {
    const principal = principals.get(client);
    const username = principal?.kind === 'gateway' ? principal.username : principal?.kind === 'monitor' ? internalClient.username : undefined;
    onRefused({ kind, clientId: client.id, address: addressOf(client), ...(username !== undefined && { username }), ...(topic !== undefined && { topic }), reason });
  };

  return {
    authenticate(client, username, password, done) {
      identifyWithoutTakeover(client, username, password?.toString('utf8') ?? '').then(
        (result) => {
          if (result.ok) {
            principals.set(client, result.principal);
            // Each gateway's client ids live in a namespace of its own: no gateway can take over (or squat, while
            // it reconnects) another's session or the monitor's, whatever client id it sends.
            if (result.principal.kind === 'gateway') (client as { id: string }).id = `${result.principal.username}#${client.id}`;
            return done(null, true);
          }
          onRefused({ kind: 'connect', clientId: client.id, address: addressOf(client), ...(username !== undefined && { username }), reason: result.reason });
          done(authError(result.reason, result.returnCode), false);
        },
        (err: unknown) => {
          onProblem(`MQTT authentication of client ${client.id} failed: ${err instanceof Error ? err.message : String(err)}`);
          done(authError('authentication failed', 3), false);
        },
      );
    },

    authorizePublish(client, packet: PublishPacket, done) {
      // Wills of clients of another broker instance: none with aedes' in-memory persistence.
      if (!client) return done(null);
      const principal = principals.get(client);
      const refusal =
        principal?.kind === 'gateway' ? auth.publishRefusal(principal.gateway, packet.topic) : principal?.kind === 'monitor' ? (packet.topic.startsWith(HEARTBEAT_TOPICS) ? null : 'the monitor publishes only its heartbeats') : 'not authenticated';
      if (refusal === null) return done(null);
      refuse(client, 'publish', refusal, packet.topic);
      packet.topic = DROPPED_TOPIC;
      packet.retain = false;
      done(null);
    },

    authorizeSubscribe(client, subscription: Subscription, done) {
      const principal = principals.get(client);
      if (principal?.kind === 'monitor' && monitorMaySubscribe(subscription.topic)) return done(null, subscription);
      const reason = principal?.kind === 'monitor' ? 'the monitor may subscribe only under sites/ and to its heartbeats' : principal ? `gateway ${principal.username} may not subscribe` : 'not authenticated';
      refuse(client, 'subscribe', reason, subscription.topic);
      // No subscription and no error: aedes answers 0x80 (failure) for this filter in the SUBACK.
      done(null, null);
    },
  };
}

function verifiedCommonName(client: Client): string | null {
  const conn = client.conn;
  if (!(conn instanceof TLSSocket) || !conn.authorized) return null;
  const cn: unknown = conn.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' ? cn : null;
}

function addressOf(client: Client): string {
  const conn = client.conn as { remoteAddress?: string };
  return conn.remoteAddress ?? '?';
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function authError(message: string, returnCode: 3 | 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode });
}
