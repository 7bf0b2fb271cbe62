// Command-centre page: REST for the point list, WebSocket for snapshot + live alarms and values.
'use strict';
const STALE_MS = 15000;
const state = { points: new Map(), values: new Map(), alarms: new Map(), seq: 0, tiles: new Map(), gateways: new Map(), enterpriseName: new Map(), sourceName: new Map() };
const $ = (id) => document.getElementById(id);
const key = (e, p) => e + '/' + p;
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(2));
$('stale-s').textContent = String(STALE_MS / 1000);

async function loadPoints() {
  const [points, enterprises, sources] = await Promise.all(['/api/points?limit=10000', '/api/enterprises?limit=10000', '/api/hazard-sources?limit=10000'].map((u) => fetch(u).then((r) => r.json())));
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
        '</td><td>' + (a.acknowledged ? esc(a.acknowledged.by) : '<button class="ack" data-id="' + esc(a.id) + '">确认 Ack</button>') + '</td></tr>';
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

const operatorInput = $('operator');
operatorInput.value = localStorage.getItem('sentinel.operator') || '';
operatorInput.addEventListener('change', () => localStorage.setItem('sentinel.operator', operatorInput.value.trim()));

// Acknowledge from the page: the server records who (the operator field) and from where, and pushes the change.
$('alarms').addEventListener('click', async (ev) => {
  const button = ev.target.closest('button.ack');
  if (!button) return;
  const by = operatorInput.value.trim();
  if (!by) { $('action-msg').textContent = '请先填写值班员姓名 Enter the operator name first'; operatorInput.focus(); return; }
  button.disabled = true;
  const res = await fetch('/api/alarms/' + encodeURIComponent(button.dataset.id) + '/ack', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ by }) });
  const body = await res.json();
  $('action-msg').textContent = res.ok ? '已确认 acknowledged by ' + by : '未确认 not acknowledged: ' + body.message;
  if (!res.ok) button.disabled = false;
});

const COLOUR_NAME = { red: '红 red', orange: '橙 orange', yellow: '黄 yellow', blue: '蓝 blue' };
async function loadRisk() {
  const list = await fetch('/api/risk/hazard-sources').then((r) => r.json());
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

function connect(delay) {
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
  ws.onopen = () => { $('conn').className = 'conn up'; $('conn').textContent = '实时 live'; delay = 500; };
  ws.onclose = () => {
    $('conn').className = 'conn down';
    $('conn').textContent = '已断开 disconnected: reconnecting';
    setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
  };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === 'snapshot') {
      state.alarms.clear();
      msg.alarms.forEach(applyAlarm);
      msg.values.forEach(applyValue);
      msg.gateways.forEach(applyGateway);
      state.seq = msg.seq;
      renderAlarms();
    } else if (msg.type === 'alarm') {
      if (msg.seq !== state.seq + 1) { ws.close(); return; } // gap: reconnect for a fresh snapshot
      state.seq = msg.seq;
      applyAlarm(msg.alarm);
      renderAlarms();
    } else if (msg.type === 'gateway') {
      applyGateway(msg.gateway);
    } else if (msg.type === 'risk') {
      loadRisk();
    } else if (msg.type === 'registry') {
      // The registry was reloaded: rebuild the tiles, then reconnect for a snapshot that matches them.
      loadPoints().then(() => ws.close(), () => ws.close());
      return;
    } else if (msg.type === 'reading') {
      msg.readings.forEach(applyValue);
    }
    refreshAges();
  };
}

loadPoints().then(() => { connect(500); loadRisk(); }, (err) => { $('conn').textContent = 'load failed: ' + err; });
setInterval(refreshAges, 1000);
