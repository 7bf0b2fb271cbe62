// Command-centre page: sign-in first (HttpOnly session cookie), then REST for the jurisdiction's registry and risk,
// and one WebSocket for alarms (snapshot, then changes) and the live values of the enterprise opened.
import type { Alarm, EscalationPolicy, GatewayStatus } from '#libs/contracts/index.js';
import { api, errorText, getJson, onSignedOut, SignedOut } from './api.js';
import { AlarmConsole } from './console.js';
import { AlarmCue } from './cue.js';
import { ActionDialog } from './dialogs.js';
import { $, esc, key } from './dom.js';
import { DrillDown } from './drill.js';
import { SESSION_ENDED } from './labels.js';
import { LiveFeed } from './live.js';
import { jurisdictionText, PageModel, type EnterpriseView, type Me } from './model.js';
import { ENTERPRISES_ON_MAP, RiskMap } from './risk-map.js';
import { TrendChart } from './trend.js';

/** Most enterprises the page loads by name up front; beyond, the map shows regions and names load per region. */
const ENTERPRISES_UP_FRONT = 2000;
const OFFLINE_CHIPS = 12;

/** Everything one signed-in session shows; dropped whole on sign-out so the next user sees only their own. */
class Session {
  readonly model: PageModel;
  private readonly feed: LiveFeed;
  private readonly console: AlarmConsole;
  private readonly map: RiskMap;
  private readonly drill: DrillDown;
  private readonly trend: TrendChart;
  private readonly gateways = new Map<string, GatewayStatus>();
  private readonly ticker: number;
  private ended = false;
  /** Whether every enterprise of the jurisdiction was loaded up front (else some are read per region). */
  private allEnterprises = false;
  /** Bumped by each snapshot: a read of cleared alarms meant for an earlier one is dropped. */
  private snapshotGeneration = 0;
  private heardClock = false;
  /** Removes every listener this session added to the page when it ends. */
  private readonly aborter = new AbortController();

  constructor(me: Me, cue: AlarmCue, dialog: ActionDialog) {
    const signal = this.aborter.signal;
    this.model = new PageModel(me);
    this.console = new AlarmConsole(this.model, dialog, cue, (region) => this.enterprisesIn(region), (err) => this.reportError(err), signal);
    this.trend = new TrendChart(() => this.console.all(), (err) => this.reportError(err), () => this.model.now(), signal);
    this.drill = new DrillDown(this.model, this.trend, (view) => this.feed.subscribe(view), (err) => this.reportError(err), signal);
    this.map = new RiskMap(this.model, (code) => void this.drill.open(code).catch((err) => this.reportError(err)), signal);
    this.console.onChange(() => {
      this.drill.paintAlarms(this.console.all());
      this.drawGateways();
    });
    this.feed = new LiveFeed({
      snapshot: (alarms, gateways, first) => {
        this.console.replaceAll(alarms, first);
        this.gateways.clear();
        gateways.forEach((g) => this.gateways.set(key(g.enterpriseCode, g.gatewayCode), g));
        this.drawGateways();
        this.readCleared();
      },
      clock: (serverNow) => {
        this.heardClock = true;
        this.model.clockOffsetMs = serverNow - Date.now();
      },
      alarm: (a) => this.console.apply(a),
      values: (values, replace) => this.drill.applyValues(values, replace),
      gateway: (g) => {
        this.gateways.set(key(g.enterpriseCode, g.gatewayCode), g);
        this.drawGateways();
      },
      risk: () => {
        this.map.refresh().catch((err) => this.reportError(err));
        this.drill.refreshRisk().catch((err) => this.reportError(err));
      },
      registry: () => {
        this.retrying(() => this.loadRegistry()).then(() => this.feed.restart(), (err) => this.reportError(err));
      },
      status: (state, text) => {
        $('conn').className = `conn ${state === 'up' ? 'up' : 'down'}`;
        $('conn').textContent = text;
      },
      sessionLost: () => showLogin(SESSION_ENDED),
      stillSignedIn: () => this.stillSignedIn(),
    });
    this.ticker = window.setInterval(() => {
      this.drill.refreshAges();
      this.console.tick();
    }, 1000);
    $('oos').onclick = () => this.outOfService(dialog);
  }

  async start(): Promise<void> {
    const me = this.model.me;
    $('whoami').textContent = `${me.username} · ${me.role} · ${jurisdictionText(me.jurisdiction)}`;
    $('whoami').dataset.role = me.role;
    document.querySelectorAll<HTMLElement>('[data-permission]').forEach((el) => (el.hidden = !this.model.can(el.dataset.permission ?? '')));
    // Alarms first: whatever else fails to load, the console connects and keeps trying the rest.
    this.feed.start();
    const policy = this.retrying(() => getJson<EscalationPolicy>('/api/alarms/policy')).then((p) => {
      this.model.policy = p;
      this.console.schedule();
    });
    await this.retrying(() => this.loadRegistry());
    this.console.schedule();
    await this.retrying(() => this.map.refresh());
    await policy;
    // Someone with one enterprise works from its drill-down.
    const only = this.model.enterprises.size === 1 ? [...this.model.enterprises.keys()][0] : undefined;
    if (only !== undefined && !this.ended) await this.drill.open(only);
  }

  end(): void {
    this.ended = true;
    this.aborter.abort();
    this.feed.close();
    window.clearInterval(this.ticker);
    this.drill.close();
    this.map.dispose();
    this.console.clear();
    $('gateways').textContent = '';
    delete $('gateways').dataset.list;
    $('gateway-summary').textContent = '';
    $('action-msg').textContent = '';
  }

  /**
   * Runs a load until it succeeds, waiting 1, 2, 4 … 30 s between tries and saying each failure on the page; stops
   * when the session ends, the user is signed out, or `wanted` says the answer is no longer needed.
   */
  private async retrying<T>(load: () => Promise<T>, wanted: () => boolean = () => true): Promise<T> {
    for (let delay = 1000; ; delay = Math.min(delay * 2, 30_000)) {
      try {
        return await load();
      } catch (err) {
        if (err instanceof SignedOut || this.ended) throw err;
        this.reportError(err);
        await new Promise((done) => window.setTimeout(done, delay));
        if (this.ended || !wanted()) throw new SignedOut('no longer needed');
      }
    }
  }

  /**
   * The snapshot holds the active alarms; the cleared ones still awaiting acknowledgement or disposal are read over
   * REST, every page of them, retried until read, and the console says it may be incomplete meanwhile.
   */
  private readCleared(): void {
    const gen = ++this.snapshotGeneration;
    const wanted = (): boolean => gen === this.snapshotGeneration && !this.ended;
    this.console.setIncomplete(true);
    const readAll = async (): Promise<Alarm[]> => {
      const all: Alarm[] = [];
      for (const status of ['CLEARED_UNACK', 'CLEARED_ACK']) {
        for (let offset = 0; ; ) {
          const url = `/api/alarms?state=open&status=${status}&offset=${offset}&limit=5000`;
          const res = await api(url);
          if (!res.ok) throw new Error(`${url} answered ${res.status}`);
          const page = (await res.json()) as Alarm[];
          all.push(...page);
          offset += page.length;
          if (page.length === 0 || offset >= Number(res.headers.get('x-total-count') ?? offset)) break;
        }
      }
      return all;
    };
    this.retrying(readAll, wanted).then(
      (open) => {
        if (!wanted()) return;
        this.console.merge(open);
        this.console.setIncomplete(false);
      },
      (err) => this.reportError(err),
    );
  }

  /** The enterprises of a region (for the console's filter), read when the page did not load them all. */
  private async enterprisesIn(region: string): Promise<ReadonlySet<string>> {
    if (!this.allEnterprises) {
      const list = await getJson<EnterpriseView[]>(`/api/enterprises?regionCode=${encodeURIComponent(region)}&limit=10000`);
      if (!this.ended) list.forEach((e) => this.model.enterprises.set(e.code, e));
    }
    return new Set([...this.model.enterprises.keys()].filter((e) => this.model.regionOf(e) === region));
  }

  private async loadRegistry(): Promise<void> {
    const res = await api(`/api/enterprises?limit=${ENTERPRISES_UP_FRONT}`);
    if (!res.ok) throw new Error(`/api/enterprises answered ${res.status}`);
    const list = (await res.json()) as EnterpriseView[];
    if (this.ended) return;
    // Until a heartbeat tells the server's clock to the millisecond, its Date header tells it to the second.
    const date = Date.parse(res.headers.get('date') ?? '');
    if (!this.heardClock && !Number.isNaN(date)) this.model.clockOffsetMs = date + 500 - Date.now();
    this.model.enterprises.clear();
    list.forEach((e) => this.model.enterprises.set(e.code, e));
    const total = Number(res.headers.get('x-total-count') ?? list.length);
    this.allEnterprises = total <= list.length;
    document.body.dataset.enterprises = String(total);
    const regions = [...new Set(list.map((e) => this.model.regionOf(e.code)).filter((r): r is string => r !== null))].sort();
    this.console.setChoices(regions, total > ENTERPRISES_ON_MAP ? [] : list.map((e) => ({ code: e.code, name: e.name })));
  }

  /**
   * Gateway health in the header: offline by its status message or by an active `gateway_offline` alarm (a gateway
   * that went silent without saying so); the offline ones by name, up to a dozen.
   */
  private drawGateways(): void {
    const down = new Map<string, GatewayStatus>();
    for (const g of this.gateways.values()) if (g.state !== 'online') down.set(key(g.enterpriseCode, g.gatewayCode), g);
    for (const a of this.console.all()) {
      if (a.condition !== 'gateway_offline' || !(a.status === 'ACTIVE_UNACK' || a.status === 'ACTIVE_ACK')) continue;
      const code = a.gatewayCode ?? a.originatorCode;
      const k = key(a.enterpriseCode, code);
      if (!down.has(k)) down.set(k, { enterpriseCode: a.enterpriseCode, gatewayCode: code, state: 'offline', since: a.raisedAt });
    }
    const known = new Set([...this.gateways.keys(), ...down.keys()]);
    const offline = [...down.values()].sort((a, b) => key(a.enterpriseCode, a.gatewayCode).localeCompare(key(b.enterpriseCode, b.gatewayCode)));
    const text = `网关 gateways: 在线 online ${known.size - offline.length} · 离线 offline ${offline.length}`;
    if ($('gateway-summary').textContent === text && $('gateways').dataset.list === offline.map((g) => key(g.enterpriseCode, g.gatewayCode)).join(' ')) return;
    $('gateway-summary').textContent = text;
    $('gateways').dataset.list = offline.map((g) => key(g.enterpriseCode, g.gatewayCode)).join(' ');
    $('gateways').innerHTML =
      offline
        .slice(0, OFFLINE_CHIPS)
        .map((g) => `<span class="gw offline" data-gateway="${esc(key(g.enterpriseCode, g.gatewayCode))}" title="${esc(`${g.enterpriseCode}/${g.gatewayCode} since ${new Date(g.since).toLocaleString()}`)}">${esc(this.model.enterpriseName(g.enterpriseCode).split(' ')[0] ?? '')} ${esc(g.gatewayCode)} 离线 offline</span>`)
        .join('') + (offline.length > OFFLINE_CHIPS ? ` <span class="gw">… +${offline.length - OFFLINE_CHIPS}</span>` : '');
  }

  /** Before a reconnect: still the same user with the same rights? Otherwise start over as whoever it is now. */
  private async stillSignedIn(): Promise<boolean> {
    const res = await fetch('/api/auth/me');
    if (this.ended) return false;
    if (res.status === 401) {
      showLogin(SESSION_ENDED);
      return false;
    }
    if (!res.ok) return true;
    const user = (await res.json()) as Me;
    const me = this.model.me;
    if (user.username !== me.username || user.role !== me.role || JSON.stringify(user.jurisdiction) !== JSON.stringify(me.jurisdiction)) {
      showApp(user);
      return false;
    }
    return true;
  }

  private outOfService(dialog: ActionDialog): void {
    const p = this.trend.shown;
    if (!p) return;
    dialog.open({
      title: '检修停用 Take out of service',
      subject: `${p.name} (${p.code}) · ${this.model.enterpriseName(p.enterpriseCode)}`,
      url: `/api/points/${encodeURIComponent(p.enterpriseCode)}/${encodeURIComponent(p.code)}/out-of-service`,
      fields: [
        { name: 'reason', label: '原因 Reason', kind: 'textarea' },
        { name: 'forS', label: '时长 For', kind: 'duration', choices: [3600, 4 * 3600, 8 * 3600, 86_400] },
      ],
      body: (v) => ({ reason: v.reason, forS: Number(v.forS) }),
      done: `已停用检修 out of service, by ${this.model.me.username}`,
    });
  }

  dropConnection(): void {
    this.feed.drop();
  }

  reportError(err: unknown): void {
    if (err instanceof SignedOut || this.ended) return;
    $('action-msg').textContent = `加载失败 load failed: ${errorText(err)}`;
  }
}

const cue = new AlarmCue();
const dialog = new ActionDialog((text) => ($('action-msg').textContent = text));
let session: Session | null = null;

function endSession(): void {
  delete document.body.dataset.ready;
  session?.end();
  session = null;
  dialog.close();
  cue.reset();
}

/** Back to the sign-in form, with why in words (empty: no message). */
function showLogin(message: string): void {
  endSession();
  document.body.dataset.view = 'login';
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $<HTMLInputElement>('login-password').value = '';
  $<HTMLButtonElement>('login-submit').disabled = false;
  $('login-username').focus();
  $('conn').className = 'conn down';
  $('conn').textContent = '连接中 connecting…';
}

/** The command centre for the user /api/auth/me described. */
function showApp(user: Me): void {
  endSession();
  const s = new Session(user, cue, dialog);
  session = s;
  $('login').hidden = true;
  $('app').hidden = false;
  $<HTMLInputElement>('login-password').value = '';
  document.body.dataset.view = 'app';
  s.start().then(
    () => {
      if (session === s) document.body.dataset.ready = '1';
    },
    (err) => s.reportError(err),
  );
}

onSignedOut((message) => showLogin(message));

/** What a refused sign-in means, in words. */
function loginRefusal(status: number, body: { message?: unknown } | null): string {
  const message = body && typeof body.message === 'string' ? body.message : '';
  if (status === 401) return '用户名或密码错误 Wrong username or password';
  if (status === 423) {
    const until = /until (\S+)/.exec(message);
    const when = until?.[1] !== undefined && !Number.isNaN(Date.parse(until[1])) ? new Date(until[1]).toLocaleString() : (until?.[1] ?? '?');
    return `账号已锁定，直至 ${when} · Account locked until ${when}`;
  }
  if (status === 429) return '尝试次数过多，请稍后再试 Too many sign-in attempts: wait a minute and try again';
  if (status === 400) return `请填写用户名和密码 Enter the username and password${message ? ` (${message})` : ''}`;
  return `登录失败 Sign-in failed: HTTP ${status}${message ? ` ${message}` : ''}`;
}

$('login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  cue.unlock();
  void signIn();
});

async function signIn(): Promise<void> {
  const username = $<HTMLInputElement>('login-username').value.trim();
  const password = $<HTMLInputElement>('login-password').value;
  const error = $('login-error');
  if (!username || !password) {
    error.textContent = '请填写用户名和密码 Enter the username and password';
    return;
  }
  $<HTMLButtonElement>('login-submit').disabled = true;
  error.textContent = '';
  try {
    const res = await fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    if (!res.ok) {
      error.textContent = loginRefusal(res.status, (await res.json().catch(() => null)) as { message?: unknown } | null);
      $<HTMLInputElement>('login-password').value = '';
      $('login-password').focus();
      return;
    }
    // The answer set the session cookie; /me adds what this user may do.
    const who = await fetch('/api/auth/me');
    if (!who.ok) {
      error.textContent = `登录失败 Sign-in failed: /api/auth/me answered ${who.status}`;
      return;
    }
    showApp((await who.json()) as Me);
  } catch (err) {
    error.textContent = `无法连接服务器 Cannot reach the server: ${errorText(err)}`;
  } finally {
    $<HTMLButtonElement>('login-submit').disabled = false;
  }
}

$('logout').addEventListener('click', () => {
  $<HTMLButtonElement>('logout').disabled = true;
  fetch('/api/auth/logout', { method: 'POST' })
    .catch(() => undefined) // signed out on the page regardless; the server ends the session when it expires
    .finally(() => {
      $<HTMLButtonElement>('logout').disabled = false;
      showLogin('');
    });
});

/** On load: the command centre when the cookie still holds a session, else the sign-in form. */
async function boot(): Promise<void> {
  try {
    const res = await fetch('/api/auth/me');
    if (res.status === 401) {
      // The 401 says which sign-ins the server offers.
      const body = (await res.json().catch(() => ({}))) as { signIn?: { oidc?: boolean } };
      $('login-oidc').hidden = body.signIn?.oidc !== true;
      showLogin('');
      return;
    }
    if (!res.ok) throw new Error(`/api/auth/me answered ${res.status}`);
    showApp((await res.json()) as Me);
  } catch (err) {
    showLogin(`无法连接服务器 Cannot reach the server: ${errorText(err)}`);
  }
}

// A handle for operators' scripts and the tests: drop the live connection as a network fault would.
Object.assign(window, { sentinel: { dropConnection: () => session?.dropConnection() } });

void boot();
