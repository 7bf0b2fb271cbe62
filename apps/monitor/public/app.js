// Command-centre page: sign-in first (session cookie), then REST for the point list, WebSocket for snapshot + live
// alarms and values. Every request rides on the HttpOnly session cookie; the page never holds a token.
'use strict';
const STALE_MS = 15000;
const state = { points: new Map(), values: new Map(), alarms: new Map(), seq: 0, stream: null, pos: 0, lastFrameAt: 0, tiles: new Map(), gateways: new Map(), enterpriseName: new Map(), sourceName: new Map() };
const $ = (id) => document.getElementById(id);
const key = (e, p) => e + '/' + p;
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(2));
$('stale-s').textContent = String(STALE_MS / 1000);

// The signed-in user as /api/auth/me tells it (null: signed out), and a generation number that retires the
// WebSocket and timers of an ended session.
let me = null;
let generation = 0;
let socket = null;
const can = (permission) => me !== null && me.permissions.includes(permission);

/** Raised by api() when the server answers 401: the page has already gone back to the sign-in form. */
class SignedOut extends Error {}

/** Same-origin fetch (the session cookie goes along); a 401 ends the session on the page. */
async function api(url, init) {
  const res = await fetch(url, init);
  if (res.status === 401) {
    showLogin('会话已结束，请重新登录 Your session has ended: sign in again');
    throw new SignedOut('signed out');
  }
  return res;
}
const getJson = (url) => api(url).then((r) => {
  if (!r.ok) throw new Error(url + ' answered ' + r.status);
  return r.json();
});
/** Errors of background loads: a sign-out has said it all already, anything else goes to the status line. */
const reportLoadError = (err) => { if (!(err instanceof SignedOut)) $('conn').textContent = '加载失败 load failed: ' + err.message; };

async function loadPoints() {
  const gen = generation;
  const [points, enterprises, sources] = await Promise.all(['/api/points?limit=10000', '/api/enterprises?limit=10000', '/api/hazard-sources?limit=10000'].map(getJson));
  if (gen !== generation) return; // signed out meanwhile
  const enterpriseName = state.enterpriseName;
  const sourceName = state.sourceName;
  enterprises.forEach((e) => enterpriseName.set(e.code, e.name));
  sources.forEach((s) => sourceName.set(s.enterpriseCode + '/' + s.code, s.name));
  state.points.clear();
  state.tiles.clear();
  const box = $('values');
  box.textContent = '';
  let group = '';
  for (const p of points) {
    state.points.set(key(p.enterpriseCode, p.code), p);
    const g = (enterpriseName.get(p.enterpriseCode) || p.enterpriseCode) + ' · ' + (sourceName.get(p.enterpriseCode + '/' + p.hazardSourceCode) || p.hazardSourceCode);
    if (g !== group) {
      group = g;
      const h = document.createElement('div');
      h.className = 'group';
      h.textContent = g;
      box.appendChild(h);
    }
    const tile = document.createElement('div');
    tile.className = 'tile stale';
    tile.dataset.point = p.code;
    tile.innerHTML = '<div class="name"></div><div class="v">—</div><div class="age">无数据 no data</div>';
    tile.querySelector('.name').textContent = p.name + ' (' + p.code + ')';
    box.appendChild(tile);
    state.tiles.set(key(p.enterpriseCode, p.code), tile);
  }
}

const CONDITION = {
  rate_of_change: '变化率 rate', trend_to_limit: '趋势 trend', bad_quality: '坏值 bad', out_of_range: '超量程 range',
  sensor_stuck: '卡滞 stuck', no_data: '中断 no data', gateway_offline: '离线 offline', vote: '表决 vote',
  composite: '联动 composite', power_over_capacity: '超容 capacity', power_while_stopped: '停产用电 stopped',
  power_abnormal: '用电异常 power', alarm_flood: '报警洪流 flood',
};
const SEVERITY_ORDER = { critical: 0, major: 1, minor: 2, warning: 3 };
const FAULTS = ['bad_quality', 'out_of_range', 'no_data', 'sensor_stuck'];

function originatorName(a) {
  if (a.originatorKind === 'point') {
    const p = state.points.get(key(a.enterpriseCode, a.pointCode));
    return p ? p.name + ' (' + a.pointCode + ')' : a.pointCode;
  }
  if (a.originatorKind === 'enterprise') return state.enterpriseName.get(a.enterpriseCode) || a.enterpriseCode;
  return (a.name || a.originatorCode) + ' [' + a.originatorKind + ']';
}

function renderAlarms() {
  const rows = [...state.alarms.values()].sort((a, b) => (a.severity === b.severity ? b.raisedAt.localeCompare(a.raisedAt) : SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]));
  $('alarm-count').textContent = String(rows.length);
  const body = $('alarms');
  if (rows.length === 0) {
    body.innerHTML = '<tr class="empty"><td colspan="9">无报警 No active alarms</td></tr>';
  } else {
    body.innerHTML = rows.map((a) => {
      const label = a.level === 'ACTIVE' ? (CONDITION[a.condition] || a.condition) : a.level;
      const lvl = a.level === 'ACTIVE' ? a.severity : a.level;
      const marks = (a.chattering ? ' <span class="mark">⟳ 振荡 chattering</span>' : '') + (a.floodKey ? ' <span class="mark">洪流 flood</span>' : '');
      const unit = a.unit || '';
      return '<tr class="alarm" data-id="' + esc(a.id) + '" data-condition="' + esc(a.condition) + '"><td><span class="lvl lvl-' + esc(lvl) + '">' + esc(label) + '</span></td><td>' + esc(originatorName(a)) +
        '</td><td>' + esc(state.sourceName.get(a.enterpriseCode + '/' + a.hazardSourceCode) || a.hazardSourceCode || '') + '</td><td>' + esc(a.value === null ? '' : fmt(a.value) + ' ' + unit) + '</td><td>' + esc(a.threshold === null ? '' : a.threshold + ' ' + unit) +
        '</td><td>' + esc(a.message) + marks + '</td><td>' + esc(a.status) + escalationBadge(a) + '</td><td>' + esc(new Date(a.raisedAt).toLocaleString()) +
        '</td><td>' + handleCell(a) + '</td></tr>';
    }).join('');
  }
  for (const [k, p] of state.points) {
    const tile = state.tiles.get(k);
    if (!tile) continue;
    const prefix = p.enterpriseCode + '/point:' + p.code + '/';
    const limit = state.alarms.get(prefix + 'limit_high') || state.alarms.get(prefix + 'limit_low');
    tile.classList.remove('alarm-H', 'alarm-HH', 'alarm-L', 'alarm-LL', 'fault');
    if (limit) tile.classList.add('alarm-' + limit.level);
    if (FAULTS.some((c) => state.alarms.has(prefix + c))) tile.classList.add('fault');
  }
}

function escalationBadge(a) {
  const level = a.escalation && a.escalation.level;
  if (!level || level === 'enterprise') return '';
  return ' <span class="esc esc-' + esc(level) + '">' + (level === 'county' ? '已上报区县 county' : '已上报市 city') + '</span>';
}

/** Who acknowledged, else the acknowledge button for roles that may acknowledge (the server still decides). */
function handleCell(a) {
  if (a.acknowledged) return esc(a.acknowledged.by);
  return can('alarm.ack') ? '<button class="ack" data-id="' + esc(a.id) + '">确认 Ack</button>' : '';
}

/** What the server said when it refused an action, in words. */
function refusalText(status, body) {
  const why = { 400: '请求有误 bad request', 403: '无权操作 not allowed', 404: '报警不存在 no such alarm', 409: '状态已变 conflict', 503: '暂不可用 unavailable' }[status] || 'HTTP ' + status;
  return why + (body && body.message ? ': ' + body.message : '');
}

// Acknowledge from the page as the signed-in user: the server records who and from where, and pushes the change.
$('alarms').addEventListener('click', async (ev) => {
  const button = ev.target.closest('button.ack');
  if (!button) return;
  button.disabled = true;
  const msg = $('action-msg');
  try {
    const res = await api('/api/alarms/' + encodeURIComponent(button.dataset.id) + '/ack', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const body = await res.json().catch(() => null);
    msg.textContent = res.ok ? '已确认 acknowledged by ' + me.username : '未确认 not acknowledged — ' + refusalText(res.status, body);
    if (!res.ok) button.disabled = false;
  } catch (err) {
    if (err instanceof SignedOut) return;
    msg.textContent = '未确认 not acknowledged — ' + err.message;
    button.disabled = false;
  }
});

const COLOUR_NAME = { red: '红 red', orange: '橙 orange', yellow: '黄 yellow', blue: '蓝 blue' };
async function loadRisk() {
  const gen = generation;
  const list = await getJson('/api/risk/hazard-sources');
  if (gen !== generation) return;
  $('risk').innerHTML = list.map((r) => '<div class="risk-tile risk-' + esc(r.colour) + '" data-source="' + esc(r.enterpriseCode + '/' + r.hazardSourceCode) + '" title="' +
    esc(r.reasons.map((x) => '+' + x.points + ' ' + x.reason).join('\n')) + '"><b>' + esc(state.sourceName.get(r.enterpriseCode + '/' + r.hazardSourceCode) || r.hazardSourceCode) +
    '</b> <span class="colour">' + esc(COLOUR_NAME[r.colour]) + '</span> <small>' + esc(r.score) + '</small></div>').join('');
}

function applyAlarm(a) {
  if (a.status === 'ACTIVE_UNACK' || a.status === 'ACTIVE_ACK') state.alarms.set(a.key, a);
  else state.alarms.delete(a.key);
}

function applyValue(v) {
  const k = key(v.enterpriseCode, v.point);
  const prev = state.values.get(k);
  if (prev && prev.ts > v.ts) return;
  state.values.set(k, v);
  const tile = state.tiles.get(k);
  if (!tile) return;
  const p = state.points.get(k);
  tile.querySelector('.v').textContent = fmt(v.value) + ' ' + (p ? p.unit : '');
  tile.classList.toggle('bad', v.quality === 'bad');
}

function refreshAges() {
  const now = Date.now();
  for (const [k, tile] of state.tiles) {
    const v = state.values.get(k);
    if (!v) continue;
    const age = Math.max(0, now - v.ts);
    tile.classList.toggle('stale', age > STALE_MS);
    tile.querySelector('.age').textContent = age < 1000 ? '刚刚 just now' : Math.round(age / 1000) + ' 秒前 s ago';
  }
}

function applyGateway(g) {
  state.gateways.set(key(g.enterpriseCode, g.gatewayCode), g);
  const box = $('gateways');
  box.textContent = '';
  for (const [k, gw] of [...state.gateways].sort()) {
    const el = document.createElement('span');
    el.className = 'gw ' + gw.state;
    el.dataset.gateway = k;
    el.title = k + ' since ' + new Date(gw.since).toLocaleString();
    const owner = (state.enterpriseName.get(gw.enterpriseCode) || gw.enterpriseCode).split(' ')[0];
    el.textContent = owner + ' ' + gw.gatewayCode + (gw.state === 'online' ? ' 在线 online' : ' 离线 offline');
    box.appendChild(el);
  }
}

function connect(delay, gen) {
  // After a dropped connection, resume from the last alarm change seen: the server sends what was missed, or a fresh
  // snapshot when it no longer holds it (docs/ws-protocol.md).
  const resume = state.stream ? '?resume=' + state.stream + '.' + state.pos : '';
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws' + resume);
  socket = ws;
  ws.onopen = () => { $('conn').className = 'conn up'; $('conn').textContent = '实时 live'; delay = 500; };
  ws.onclose = (ev) => {
    if (gen !== generation) return; // this session has ended on the page
    if (ev.code === 4401) {
      showLogin('会话已结束，请重新登录 Your session has ended: sign in again');
      return;
    }
    $('conn').className = 'conn down';
    $('conn').textContent = '已断开 disconnected: reconnecting';
    // An upgrade refused for want of a session shows only as a failed connection: ask /me before trying again.
    setTimeout(() => {
      if (gen !== generation) return;
      getJson('/api/auth/me').then(
        (user) => {
          if (gen !== generation) return;
          // Another user signed in meanwhile (another tab), or this one's rights changed: start over as them.
          if (!me || user.username !== me.username || user.role !== me.role || JSON.stringify(user.jurisdiction) !== JSON.stringify(me.jurisdiction)) { showApp(user); return; }
          connect(Math.min(delay * 2, 10000), gen);
        },
        (err) => { if (!(err instanceof SignedOut) && gen === generation) connect(Math.min(delay * 2, 10000), gen); },
      );
    }, delay);
  };
  ws.onmessage = (ev) => {
    if (gen !== generation) return;
    const msg = JSON.parse(ev.data);
    state.lastFrameAt = Date.now();
    if (msg.type === 'snapshot') {
      state.alarms.clear();
      msg.alarms.forEach(applyAlarm);
      msg.values.forEach(applyValue);
      msg.gateways.forEach(applyGateway);
      state.seq = msg.seq;
      state.stream = msg.stream || null;
      state.pos = msg.pos || 0;
      renderAlarms();
    } else if (msg.type === 'resume') {
      msg.gateways.forEach(applyGateway);
      state.seq = msg.seq;
    } else if (msg.type === 'alarm') {
      if (msg.seq !== state.seq + 1) { ws.close(); return; } // gap: reconnect and resume from the last change seen
      state.seq = msg.seq;
      if (msg.pos) state.pos = msg.pos;
      applyAlarm(msg.alarm);
      renderAlarms();
    } else if (msg.type === 'heartbeat') {
      // Every alarm change for this page up to msg.pos has come before this frame.
      if (msg.stream === state.stream && msg.pos > state.pos) state.pos = msg.pos;
    } else if (msg.type === 'gateway') {
      applyGateway(msg.gateway);
    } else if (msg.type === 'risk') {
      loadRisk().catch(reportLoadError);
    } else if (msg.type === 'registry') {
      // The registry was reloaded: rebuild the tiles, then reconnect for a snapshot that matches them.
      state.stream = null;
      loadPoints().then(() => ws.close(), (err) => { reportLoadError(err); ws.close(); });
      return;
    } else if (msg.type === 'reading') {
      msg.readings.forEach(applyValue);
    }
    refreshAges();
  };
}

// ---- Signing in and out ----

const JURISDICTION_ALL = '全部 all';
function jurisdictionText(j) {
  if (!j) return '';
  if (j.all) return JURISDICTION_ALL;
  if (j.regionCode) return j.regionCode;
  if (j.enterpriseCodes) return j.enterpriseCodes.join(', ');
  return JSON.stringify(j);
}

/** Forgets everything the last session showed, so the next user sees only their own. */
function resetView() {
  generation++;
  if (socket) { const ws = socket; socket = null; ws.close(); }
  for (const m of [state.points, state.values, state.alarms, state.tiles, state.gateways, state.enterpriseName, state.sourceName]) m.clear();
  state.seq = 0;
  state.stream = null;
  state.pos = 0;
  $('values').textContent = '';
  $('risk').textContent = '';
  $('gateways').textContent = '';
  $('action-msg').textContent = '';
  $('conn').className = 'conn down';
  $('conn').textContent = '连接中 connecting…';
  renderAlarms();
}

/** Back to the sign-in form, with why in words (empty: no message). */
function showLogin(message) {
  if (me !== null || $('login').hidden) resetView();
  me = null;
  document.body.dataset.view = 'login';
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('login-password').value = '';
  $('login-submit').disabled = false;
  $('login-username').focus();
}

/** The command centre for the user /api/auth/me described. */
function showApp(user) {
  resetView();
  me = user;
  const gen = generation;
  $('whoami').textContent = user.username + ' · ' + user.role + ' · ' + jurisdictionText(user.jurisdiction);
  $('whoami').dataset.role = user.role;
  // Anything marked with data-permission shows only to roles holding that permission.
  document.querySelectorAll('[data-permission]').forEach((el) => { el.hidden = !can(el.dataset.permission); });
  $('login').hidden = true;
  $('app').hidden = false;
  $('login-password').value = '';
  document.body.dataset.view = 'app';
  loadPoints().then(
    () => {
      if (gen !== generation) return;
      connect(500, gen);
      loadRisk().catch(reportLoadError);
    },
    (err) => { if (gen === generation) reportLoadError(err); },
  );
}

/** What a refused sign-in means, in words. */
function loginRefusal(status, body) {
  const message = body && typeof body.message === 'string' ? body.message : '';
  if (status === 401) return '用户名或密码错误 Wrong username or password';
  if (status === 423) {
    const until = /until (\S+)/.exec(message);
    const when = until && !isNaN(Date.parse(until[1])) ? new Date(until[1]).toLocaleString() : (until ? until[1] : '?');
    return '账号已锁定，直至 ' + when + ' · Account locked until ' + when;
  }
  if (status === 429) return '尝试次数过多，请稍后再试 Too many sign-in attempts: wait a minute and try again';
  if (status === 400) return '请填写用户名和密码 Enter the username and password' + (message ? ' (' + message + ')' : '');
  return '登录失败 Sign-in failed: HTTP ' + status + (message ? ' ' + message : '');
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const username = $('login-username').value.trim();
  const password = $('login-password').value;
  const error = $('login-error');
  if (!username || !password) { error.textContent = '请填写用户名和密码 Enter the username and password'; return; }
  $('login-submit').disabled = true;
  error.textContent = '';
  try {
    const res = await fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    if (!res.ok) {
      error.textContent = loginRefusal(res.status, await res.json().catch(() => null));
      $('login-password').value = '';
      $('login-password').focus();
      return;
    }
    // The answer set the session cookie; /me adds what this user may do.
    const who = await fetch('/api/auth/me');
    if (!who.ok) { error.textContent = '登录失败 Sign-in failed: /api/auth/me answered ' + who.status; return; }
    showApp(await who.json());
  } catch (err) {
    error.textContent = '无法连接服务器 Cannot reach the server: ' + err.message;
  } finally {
    $('login-submit').disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  $('logout').disabled = true;
  try {
    await fetch('/api/auth/logout', { method: 'POST' });
  } catch {
    // Signed out on the page regardless; the server ends the session when it expires.
  } finally {
    $('logout').disabled = false;
    showLogin('');
  }
});

/** On load: the command centre when the cookie still holds a session, else the sign-in form. */
async function start() {
  try {
    const res = await fetch('/api/auth/me');
    if (res.status === 401) {
      // The 401 says which sign-ins the server offers.
      const body = await res.json().catch(() => ({}));
      $('login-oidc').hidden = !(body.signIn && body.signIn.oidc === true);
      showLogin('');
      return;
    }
    if (!res.ok) throw new Error('/api/auth/me answered ' + res.status);
    showApp(await res.json());
  } catch (err) {
    showLogin('无法连接服务器 Cannot reach the server: ' + err.message);
  }
}

start();
setInterval(refreshAges, 1000);
// The server sends a heartbeat every 15 s: a connection silent for three of them is dead although the socket did not
// say so. Reconnect, and meanwhile say the screen may be stale rather than show it as live.
const SILENT_MS = 45000;
setInterval(() => {
  if (!socket || socket.readyState !== WebSocket.OPEN || !state.lastFrameAt || Date.now() - state.lastFrameAt < SILENT_MS) return;
  $('conn').className = 'conn down';
  $('conn').textContent = '无心跳，数据可能过时 no heartbeat: data may be stale; reconnecting';
  socket.close();
}, 5000);
