// callscope seller insights: a small single-page app over the JSON API.
// No framework and no build step: the binary serves this file as is.
'use strict';

const $main = document.getElementById('main');
const $who = document.getElementById('who');
const $status = document.getElementById('status');
let ME = null;

// ---------- helpers ----------
function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
function pct(v) { return v == null ? 'n/a' : `${Math.round(v * 100)}%`; }
function num(v, d = 1) { return v == null ? 'n/a' : Number(v).toFixed(d); }
function secs(v) {
  if (v == null) return 'n/a';
  if (v < 60) return `${v.toFixed(1)} s`;
  const m = Math.floor(v / 60), s = Math.round(v % 60);
  return `${m}:${String(s).padStart(2, '0')} min`;
}
function clock(t) { const m = Math.floor(t / 60), s = Math.floor(t % 60); return `${m}:${String(s).padStart(2, '0')}`; }
function day(d) { return d.toISOString().slice(0, 10); }
function flash(msg) { $status.textContent = msg; $status.classList.add('show'); setTimeout(() => $status.classList.remove('show'), 2500); }

async function api(path, opts = {}) {
  const res = await fetch(path, { credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, ...opts });
  if (res.status === 204) return null;
  const body = await res.json().catch(() => ({}));
  if (!res.ok) { const e = new Error(body.error || res.statusText); e.status = res.status; throw e; }
  return body;
}

function route() {
  const [path, query] = (location.hash.slice(1) || '/').split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query || '') };
}
function go(path, params) {
  const q = params && [...params].length ? `?${params}` : '';
  location.hash = `#${path}${q}`;
}

// ---------- date filter ----------
const PRESETS = [
  ['7', 'Last 7 days'], ['30', 'Last 30 days'], ['90', 'Last 90 days'], ['quarter', 'This quarter'], ['365', 'Last 12 months'],
];
function presetRange(p) {
  const to = new Date();
  const from = new Date(to);
  if (p === 'quarter') { from.setUTCMonth(Math.floor(to.getUTCMonth() / 3) * 3, 1); }
  else { from.setUTCDate(to.getUTCDate() - (Number(p) - 1)); }
  return [day(from), day(to)];
}
function currentRange(params) {
  if (params.get('from') && params.get('to')) return [params.get('from'), params.get('to')];
  return presetRange('30');
}

// ---------- login ----------
async function showLogin() {
  $who.innerHTML = '';
  let users = null;
  try { users = await api('/api/auth/dev-users'); } catch (_) { users = null; }
  if (!users) {
    $main.innerHTML = `<h1>Sign in</h1><div class="card"><p>Sign in through your organisation's identity provider;
      requests must carry a bearer token. Ask your administrator for access.</p></div>`;
    return;
  }
  const groups = { manager: [], seller: [], admin: [] };
  users.forEach((u) => groups[u.role].push(u));
  const list = (us) => us.map((u) => `<button data-user="${esc(u.id)}"><strong>${esc(u.name)}</strong><br>
      <span class="small muted">${esc(u.role)}${u.team ? ' · ' + esc(u.team) : ''}${u.teams && u.teams.length ? ' · leads ' + esc(u.teams.join(', ')) : ''}</span></button>`).join('');
  $main.innerHTML = `<h1>Sign in</h1>
    <div class="banner" role="note"><strong>Demo login.</strong> No passwords: pick any user. This is for local use and demos only;
    a shared deployment signs users in with bearer tokens from its identity provider.</div>
    <div class="card"><h2>Managers</h2><div class="users">${list(groups.manager)}</div></div>
    <div class="card"><h2>Sellers</h2><div class="users">${list(groups.seller)}</div></div>
    ${groups.admin.length ? `<div class="card"><h2>Admins</h2><div class="users">${list(groups.admin)}</div></div>` : ''}`;
  $main.querySelectorAll('[data-user]').forEach((b) => b.addEventListener('click', async () => {
    await api('/api/auth/dev-login', { method: 'POST', body: JSON.stringify({ user_id: b.dataset.user }) });
    ME = null; location.hash = '#/'; render();
  }));
}

// ---------- seller page ----------
function kpiCard(label, value, team, top, help) {
  return `<div class="kpi" data-kpi="${esc(label)}"><div class="label">${esc(label)}</div>
    <div class="value">${value}</div>
    <div class="cmp">Team ${team} · Top performers ${top}</div>
    ${help ? `<div class="cmp">${esc(help)}</div>` : ''}</div>`;
}

function sentimentBar(c) {
  const n = c.positive + c.neutral + c.negative;
  if (!n) return '<p class="empty">No customer sentiment yet: no calls where the customer spoke in this range.</p>';
  const w = (x) => `${(100 * x / n).toFixed(1)}%`;
  return `<div class="bar" role="img" aria-label="${c.positive} positive, ${c.neutral} neutral, ${c.negative} negative calls">
      <span style="width:${w(c.positive)};background:var(--pos)"></span><span style="width:${w(c.neutral)};background:var(--neu)"></span><span style="width:${w(c.negative)};background:var(--neg)"></span></div>
    <div class="legend"><span><i style="background:var(--pos)"></i>Positive ${w(c.positive)} (${c.positive})</span>
      <span><i style="background:var(--neu)"></i>Neutral ${w(c.neutral)} (${c.neutral})</span>
      <span><i style="background:var(--neg)"></i>Negative ${w(c.negative)} (${c.negative})</span></div>`;
}

function sentimentOverTime(points, bucket) {
  if (!points.length) return '<p class="empty">No calls in this range.</p>';
  const W = 640, H = 160, pad = 24, bw = Math.min(48, Math.max(6, (W - 2 * pad) / points.length - 6));
  const max = Math.max(...points.map((p) => p.summary.calls));
  const bars = points.map((p, i) => {
    const s = p.summary.sentiment, x = pad + i * ((W - 2 * pad) / points.length);
    let y = H - pad;
    const seg = (n, color) => { const h = (H - 2 * pad) * n / max; y -= h; return n ? `<rect x="${x}" y="${y}" width="${bw}" height="${h}" fill="${color}"><title>${p.period_start}: ${n}</title></rect>` : ''; };
    return seg(s.negative, 'var(--neg)') + seg(s.neutral, 'var(--neu)') + seg(s.positive, 'var(--pos)') +
      `<text x="${x}" y="${H - 6}" font-size="10" fill="#5b6470">${p.period_start.slice(5)}</text>`;
  }).join('');
  return `<div class="timeline"><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Calls per ${bucket} by customer sentiment">${bars}</svg></div>
    <div class="legend"><span><i style="background:var(--pos)"></i>Positive</span><span><i style="background:var(--neu)"></i>Neutral</span><span><i style="background:var(--neg)"></i>Negative</span><span>one bar per ${bucket}</span></div>`;
}

function chips(items, key, filter, count = (k) => k.count ?? k.mentions) {
  if (!items.length) return '<p class="empty">None in this range.</p>';
  return `<ul class="chips">${items.map((k) => `<li><button data-${filter}="${esc(k[key])}" title="Show the calls">${esc(k[key])}<span class="count">${count(k)}</span></button></li>`).join('')}</ul>`;
}

// The seller's own coaching areas: the flags of the team's coaching rules, with advice.
function ownCoaching(c, isSelf) {
  if (!c) return '<p class="empty">No team figures to compare with in this range.</p>';
  if (c.note) return `<p class="empty">${esc(c.note)}</p>`;
  const top = c.top_performer ? `<p class="small">${isSelf ? 'You are' : 'A'} top performer of the team in this range.</p>` : '';
  if (!c.flags.length) return `${top}<p class="small muted">Within the team's typical range on every KPI.</p>`;
  return top + c.flags.map((f) => `<div class="flag"><div>${esc(f.reason)}</div><div class="small muted">${esc(f.advice)}</div></div>`).join('');
}

async function showSeller(sellerId, params) {
  const [from, to] = currentRange(params);
  const q = new URLSearchParams({ from, to });
  if (params.get('said') === 'anyone') q.set('competitors_said_by', 'anyone');
  let data;
  const view = location.hash;
  try { data = await api(`/api/sellers/${encodeURIComponent(sellerId)}/insights?${q}`); }
  catch (e) { return location.hash === view && showError(e); }
  // The user moved on while this loaded: a newer render owns the page.
  if (location.hash !== view) return;
  const s = data.summary, t = data.team, isManager = ME.user.role !== 'seller';
  const isSelf = sellerId === ME.user.id;
  const saidBy = data.competitors_said_by;
  const anyone = saidBy === 'anyone';
  const top = (k, f) => (t && t.top[k] != null ? f(t.top[k]) : 'n/a');
  const team = (v, f) => (t ? f(v) : 'n/a');
  const picker = isManager ? `<label>Seller<select id="seller">${ME.sellers.map((u) => `<option value="${esc(u.id)}" ${u.id === sellerId ? 'selected' : ''}>${esc(u.name)}</option>`).join('')}</select></label>` : '';
  const tooFew = s.calls === 0
    ? '<p class="empty">No calls in this range. Pick a longer range, or import calls (see the README).</p>' : '';
  $main.innerHTML = `
    <h1>${esc(data.seller.name)} <span class="muted small">${esc(data.seller.team_name || '')}</span></h1>
    <div class="card filters" role="search">
      <label>Period<select id="preset">${PRESETS.map(([v, l]) => `<option value="${v}">${l}</option>`).join('')}<option value="custom">Custom</option></select></label>
      <label>From<input type="date" id="from" value="${from}"></label>
      <label>To<input type="date" id="to" value="${to}"></label>
      <button id="apply">Apply</button>
      ${picker}
      <span class="muted small">${s.calls} call(s) · ${secs(s.total_duration_s)} in total${s.low_confidence_calls ? ` · <span id="left-out" title="Mono recordings where who said what is uncertain: counted as calls, left out of the KPIs and sentiment">${s.low_confidence_calls} left out of the KPIs (speakers uncertain)</span>` : ''}</span>
      ${isSelf ? '' : `<span style="margin-left:auto" id="contact">
        ${data.seller.email ? `<a class="button" href="mailto:${esc(data.seller.email)}">Email</a>` : ''}
        ${data.seller.chat_url ? ` · <a href="${esc(data.seller.chat_url)}" target="_blank" rel="noopener">Chat</a>` : ''}
      </span>`}
    </div>
    ${tooFew}
    <section class="card" aria-labelledby="style-h"><h2 id="style-h">Conversation style</h2>
      <div class="kpis">
        ${kpiCard('Talking speed', s.avg_seller_wpm == null ? 'n/a' : `${num(s.avg_seller_wpm, 0)} wpm`, team(t && t.overall.avg_seller_wpm, (v) => num(v, 0)), top('avg_seller_wpm', (v) => num(v, 0)), 'words per minute of talk time')}
        ${kpiCard('Switches per conversation', num(s.switches_per_call), team(t && t.overall.switches_per_call, num), top('switches_per_call', num))}
        ${kpiCard('Average pause', secs(s.avg_pause_s), team(t && t.overall.avg_pause_s, secs), top('avg_pause_s', secs), 'before responding to the customer')}
        ${kpiCard('Longest customer monologue', secs(s.avg_longest_customer_monologue_s), team(t && t.overall.avg_longest_customer_monologue_s, secs), top('avg_longest_customer_monologue_s', secs), 'average per call')}
        ${kpiCard('Talk-to-listen ratio', pct(s.avg_talk_ratio), team(t && t.overall.avg_talk_ratio, pct), top('avg_talk_ratio', pct), 'seller share of talk time')}
        ${kpiCard('Questions per call', num(s.questions_per_call), team(t && t.overall.questions_per_call, num), top('questions_per_call', num))}
      </div>
      ${t ? `<p class="small muted" id="style-top">Top performers: ${t.top_performer_names.length ? esc(t.top_performer_names.join(', ')) : 'none yet'} (by ${esc(t.top_performers_by.replace('_', ' '))}).</p>` : ''}
    </section>
    <section class="card" aria-labelledby="own-h"><h2 id="own-h">${isSelf ? 'Your coaching areas' : 'Coaching areas'}</h2><div id="own-coaching">${ownCoaching(data.coaching, isSelf)}</div></section>
    <div class="grid">
      <section class="card" aria-labelledby="ins-h"><h2 id="ins-h">Insights</h2>
        ${data.trends.length ? `<ul class="trends">${data.trends.map((x) => `<li>${esc(x.text)}</li>`).join('')}</ul>` : `<p class="empty">${esc(data.trends_note || 'No notable change against the previous period.')}</p>`}
        <p class="small muted">Compared with ${data.previous_range.from} – ${data.previous_range.to}.</p>
      </section>
      <section class="card" aria-labelledby="stat-h"><h2 id="stat-h">Statistics</h2>
        <h3 class="small">Average customer sentiment</h3>${sentimentBar(s.sentiment)}
        <p>Average talk-to-listen ratio: <strong>${pct(s.avg_talk_ratio)}</strong>${t ? ` <span class="muted">(team ${pct(t.overall.avg_talk_ratio)})</span>` : ''}</p>
      </section>
    </div>
    <section class="card" aria-labelledby="sot-h"><h2 id="sot-h">Sentiment over time</h2>${sentimentOverTime(data.sentiment_over_time, data.sentiment_bucket)}</section>
    <div class="grid">
      <section class="card" aria-labelledby="kw-h"><h2 id="kw-h">Keywords customers use</h2>${chips(data.customer_keywords, 'phrase', 'keyword')}</section>
      <section class="card" aria-labelledby="comp-h"><h2 id="comp-h">Competitors ${anyone ? 'mentioned' : 'customers mention'}</h2>
        <label class="small muted"><input type="checkbox" id="seller-mentions" ${anyone ? 'checked' : ''}> include the seller's mentions</label>
        ${chips(data.competitors, 'term', 'competitor', (k) => (anyone ? k.mentions : k.by_customer))}
        <h2 style="margin-top:12px">Tracked keywords</h2>${chips(data.tracked_keywords, 'term', 'term')}</section>
    </div>
    <section class="card" aria-labelledby="cm-h"><h2 id="cm-h">${isManager ? 'Latest comments on these calls' : 'Comments from your manager'}</h2><div id="seller-comments"><p class="loading">Loading…</p></div></section>
    ${isSelf ? '<section class="card" aria-labelledby="sh-h"><h2 id="sh-h">Shared with you</h2><div id="shared"><p class="loading">Loading…</p></div></section>' : ''}
    <section class="card" aria-labelledby="hist-h"><h2 id="hist-h">Call history <span id="hist-filter" class="small muted"></span></h2><div id="history"></div></section>
    ${isManager && data.seller.team ? `<section class="card" aria-labelledby="coach-h"><h2 id="coach-h">Coaching — ${esc(data.seller.team_name || data.seller.team)}</h2><div id="coaching"><p class="loading">Loading…</p></div></section>` : ''}`;

  const preset = $main.querySelector('#preset');
  preset.value = params.get('preset') || (params.get('from') ? 'custom' : '30');
  preset.addEventListener('change', () => {
    if (preset.value === 'custom') return;
    const [f, t2] = presetRange(preset.value);
    go(`/seller/${sellerId}`, new URLSearchParams({ from: f, to: t2, preset: preset.value }));
  });
  $main.querySelector('#apply').addEventListener('click', () => {
    go(`/seller/${sellerId}`, new URLSearchParams({ from: $main.querySelector('#from').value, to: $main.querySelector('#to').value, preset: 'custom' }));
  });
  const sel = $main.querySelector('#seller');
  if (sel) sel.addEventListener('change', () => go(`/seller/${sel.value}`, params));
  const history = { sort: 'started_at', desc: true, page: 0, term: '', saidBy: '', keyword: '' };
  $main.querySelectorAll('[data-keyword]').forEach((b) => b.addEventListener('click', () => { history.keyword = b.dataset.keyword; history.term = ''; history.page = 0; loadHistory(sellerId, from, to, history); }));
  $main.querySelectorAll('[data-term]').forEach((b) => b.addEventListener('click', () => { history.term = b.dataset.term; history.saidBy = ''; history.keyword = ''; history.page = 0; loadHistory(sellerId, from, to, history); }));
  // A competitor filters to the calls where it was said by whom the card counts.
  $main.querySelectorAll('[data-competitor]').forEach((b) => b.addEventListener('click', () => { history.term = b.dataset.competitor; history.saidBy = anyone ? '' : 'customer'; history.keyword = ''; history.page = 0; loadHistory(sellerId, from, to, history); }));
  $main.querySelector('#seller-mentions').addEventListener('change', (ev) => {
    const p = new URLSearchParams(params);
    if (ev.target.checked) p.set('said', 'anyone'); else p.delete('said');
    go(`/seller/${sellerId}`, p);
  });
  loadHistory(sellerId, from, to, history);
  loadSellerComments(sellerId, from, to);
  if (isSelf) loadShared();
  if (isManager && data.seller.team) loadCoaching(data.seller.team, from, to);
}

async function loadHistory(sellerId, from, to, h) {
  const el = $main.querySelector('#history');
  const q = new URLSearchParams({ from, to, sort: h.sort, desc: h.desc, page: h.page, page_size: 10 });
  if (h.term) q.set('term', h.term);
  if (h.term && h.saidBy) q.set('said_by', h.saidBy);
  if (h.keyword) q.set('keyword', h.keyword);
  const page = await api(`/api/sellers/${encodeURIComponent(sellerId)}/calls?${q}`);
  // The user may have moved on while this loaded: then there is nothing to fill.
  const filter = $main.querySelector('#hist-filter');
  if (!filter || !$main.querySelector('#history')) return;
  filter.innerHTML = h.term || h.keyword ? `${h.saidBy === 'customer' ? 'where the customer mentions' : 'mentioning'} “${esc(h.term || h.keyword)}” · <button class="link" id="clear">show all</button>` : '';
  if (h.term || h.keyword) filter.querySelector('#clear').addEventListener('click', () => { h.term = h.keyword = ''; loadHistory(sellerId, from, to, h); });
  if (!page.items.length) { el.innerHTML = '<p class="empty">No calls match.</p>'; return; }
  const th = (key, label, cls = '') => `<th class="${cls}" aria-sort="${h.sort === key ? (h.desc ? 'descending' : 'ascending') : 'none'}"><button data-sort="${key}">${label}${h.sort === key ? (h.desc ? ' ▼' : ' ▲') : ''}</button></th>`;
  const pages = Math.max(1, Math.ceil(page.total / 10));
  el.innerHTML = `<div class="table-wrap"><table><thead><tr>${th('started_at', 'Date')}<th>Customer</th>${th('duration', 'Duration')}${th('sentiment', 'Sentiment')}${th('talk_ratio', 'Talk ratio', 'opt')}<th class="opt">Signals</th></tr></thead><tbody>
    ${page.items.map((c) => `<tr><td><a href="#/call/${encodeURIComponent(c.call_id)}">${esc(c.started_at.slice(0, 16).replace('T', ' '))}</a></td>
      <td>${esc(c.customer || '—')}</td><td>${secs(c.duration_s)}</td>
      <td>${c.sentiment ? `<span class="sent ${c.sentiment}">${c.sentiment}</span>` : '—'}</td>
      <td class="opt">${pct(c.talk_ratio)}${c.low_confidence ? ' <span class="small muted" title="Speakers uncertain: left out of the KPIs">(left out)</span>' : ''}</td><td class="opt small">${c.mentions} mentions · ${c.action_items} action items · ${c.questions} questions</td></tr>`).join('')}
    </tbody></table></div>
    <p class="small">${page.total} call(s) · page ${h.page + 1} of ${pages}
      ${h.page > 0 ? '<button class="ghost" id="prev">Previous</button>' : ''} ${h.page + 1 < pages ? '<button class="ghost" id="next">Next</button>' : ''}</p>`;
  el.querySelectorAll('[data-sort]').forEach((b) => b.addEventListener('click', () => {
    if (h.sort === b.dataset.sort) h.desc = !h.desc; else { h.sort = b.dataset.sort; h.desc = true; }
    h.page = 0; loadHistory(sellerId, from, to, h);
  }));
  const prev = el.querySelector('#prev'), next = el.querySelector('#next');
  if (prev) prev.addEventListener('click', () => { h.page -= 1; loadHistory(sellerId, from, to, h); });
  if (next) next.addEventListener('click', () => { h.page += 1; loadHistory(sellerId, from, to, h); });
}

async function loadSellerComments(sellerId, from, to) {
  const list = await api(`/api/sellers/${encodeURIComponent(sellerId)}/comments?${new URLSearchParams({ from, to })}`);
  const el = $main.querySelector('#seller-comments');
  if (!el) return; // navigated away meanwhile
  if (!list.length) { el.innerHTML = '<p class="empty">No comments on calls of this range yet.</p>'; return; }
  el.innerHTML = list.slice(0, 8).map((c) => `<div class="comment"><div class="small muted"><strong>${esc(c.author_name)}</strong> (${esc(c.author_role)}) on
      <a href="#/call/${encodeURIComponent(c.call_id)}">${esc(c.call_id)}</a>${c.turn != null ? `, line ${c.turn + 1}` : ''}${c.at_s != null ? ` at ${clock(c.at_s)}` : ''} · ${esc(c.created_at.slice(0, 16).replace('T', ' '))}</div>
      <div>${esc(c.text)}</div></div>`).join('');
}

// Calls and clips managers shared with this seller (from other sellers of the team).
async function loadShared() {
  const list = await api('/api/shared');
  const el = $main.querySelector('#shared');
  if (!el) return; // navigated away meanwhile
  if (!list.length) { el.innerHTML = '<p class="empty">Nothing shared with you yet. Your manager can share a call or a moment of one with you.</p>'; return; }
  el.innerHTML = `<ul class="shared">${list.map((x) => `<li data-share="${esc(x.share_id)}"><a href="#/call/${encodeURIComponent(x.call_id)}?share=${encodeURIComponent(x.share_id)}">${esc(x.call.customer || 'Call')}</a>
      <span class="small muted">${esc(x.seller_name)}'s call of ${esc(x.call.started_at.slice(0, 10))}${x.start_s != null ? ` · clip ${clock(x.start_s)}–${clock(x.end_s)}` : ''} · shared by ${esc(x.created_by_name)}</span>
      ${x.note ? `<div>${esc(x.note)}</div>` : ''}</li>`).join('')}</ul>`;
}

async function loadCoaching(team, from, to) {
  let r;
  try { r = await api(`/api/teams/${encodeURIComponent(team)}/coaching?${new URLSearchParams({ from, to })}`); }
  catch (e) { const el = $main.querySelector('#coaching'); if (el) el.innerHTML = `<p class="empty">${esc(e.message)}</p>`; return; }
  const el = $main.querySelector('#coaching');
  if (!el) return; // navigated away meanwhile
  const name = (id) => (ME.sellers.find((u) => u.id === id) || { name: id }).name;
  const sellers = r.sellers.map((s) => `<div data-seller="${esc(s.seller_id)}"><strong>${esc(name(s.seller_id))}</strong> <span class="small muted">${s.calls} call(s)${s.top_performer ? ' · top performer' : ''}</span>
      ${s.note ? `<p class="empty small">${esc(s.note)}</p>` : s.flags.length ? s.flags.map((f) => `<div class="flag"><div>${esc(f.reason)}</div><div class="small muted">${esc(f.advice)}</div></div>`).join('') : '<p class="small muted">Within the team\'s typical range on every KPI.</p>'}</div>`).join('');
  const diffs = r.differences.length ? `<table><thead><tr><th>KPI</th><th>Top performers</th><th>Others</th></tr></thead><tbody>
      ${r.differences.map((d) => { const f = d.kpi === 'avg_talk_ratio' || d.kpi === 'positive_share' ? pct : num; return `<tr><td>${esc(d.label)}</td><td>${f(d.top_performers)}</td><td>${f(d.others)}</td></tr>`; }).join('')}</tbody></table>`
    : '<p class="empty">Not enough sellers with enough calls to compare.</p>';
  el.innerHTML = `<p class="small muted" id="top-line">Top performers by ${esc(r.top_performers_by.replace('_', ' '))}: ${r.top_performers.map((id) => esc(name(id))).join(', ') || 'none yet'}.</p>
    <h3 class="small">Who may need coaching</h3>${sellers || '<p class="empty">No calls in this range.</p>'}
    <h3 class="small">What top performers do differently</h3>${diffs}`;
}

// ---------- call page ----------
async function showCall(callId, params) {
  let c, comments = [];
  const view = location.hash;
  try {
    c = await api(`/api/calls/${encodeURIComponent(callId)}`);
    // A call shared with the user opens without its comments (they are the seller's).
    if (c.access !== 'shared') comments = await api(`/api/calls/${encodeURIComponent(callId)}/comments`);
  } catch (e) { return location.hash === view && showError(e); }
  // The user moved on while this loaded: a newer render owns the page.
  if (location.hash !== view) return;
  const s = c.summary, sig = c.signals, t = c.transcript;
  const roles = t.speakers || {};
  // Turns from the sentiment timeline (the KPI engine's turns); words by time.
  const words = [...t.words].sort((a, b) => a.start - b.start || a.end - b.end);
  const turns = sig.sentiment.timeline.map((p) => ({ ...p, words: [] }));
  words.forEach((w) => {
    const role = roles[w.speaker];
    const turn = turns.find((x) => x.role === role && w.start >= x.start - 1e-6 && w.end <= x.end + 1e-6);
    if (turn) turn.words.push(w);
  });
  const duration = c.summary.duration_s || (words.length ? words[words.length - 1].end : 1);
  const shared = c.access === 'shared';
  const canComment = !shared && (ME.user.role !== 'seller' || s.seller_id === ME.user.id);
  const canShare = !shared && ME.user.role !== 'seller';
  const via = shared ? (c.shared.find((x) => x.share_id === params.get('share')) || c.shared[0]) : null;
  const markers = [
    ...sig.mentions.map((m) => ({ t: m.start, kind: m.kind, label: `${m.kind}: ${m.term}` })),
    ...sig.questions.map((q) => ({ t: q.start, kind: 'question', label: `question: ${q.text}` })),
    ...sig.action_items.map((a) => ({ t: a.start, kind: 'action', label: `action item: ${a.text}` })),
  ];
  const color = { competitor: '#c0392b', keyword: '#2457c5', question: '#8e44ad', action: '#b45f06' };
  const W = 800, H = 120, mid = 60;
  const line = sig.sentiment.timeline.map((p) => `<rect x="${(p.start / duration) * W}" y="${p.score >= 0 ? mid - p.score * 45 : mid}" width="${Math.max(2, ((p.end - p.start) / duration) * W)}" height="${Math.abs(p.score) * 45 || 1}" fill="${p.label === 'positive' ? 'var(--pos)' : p.label === 'negative' ? 'var(--neg)' : 'var(--neu)'}" opacity="${p.role === 'customer' ? 1 : 0.45}"><title>${p.role} turn at ${clock(p.start)}: ${p.label} (${p.score.toFixed(2)})</title></rect>`).join('');
  const marks = markers.map((m) => `<g class="marker" data-seek="${m.t}" style="cursor:pointer"><line x1="${(m.t / duration) * W}" x2="${(m.t / duration) * W}" y1="100" y2="118" stroke="${color[m.kind]}" stroke-width="3"></line><title>${esc(m.label)} (${clock(m.t)})</title></g>`).join('');
  $main.innerHTML = `
    <p><a href="javascript:history.back()">← Back</a></p>
    <h1>${esc(s.customer || 'Call')} <span class="muted small">${esc(s.started_at.slice(0, 16).replace('T', ' '))} · ${secs(s.duration_s)} · ${esc(c.seller_name)}${s.outcome ? ' · ' + esc(s.outcome) : ''}</span></h1>
    ${via ? `<div class="banner" id="shared-banner" role="note"><strong>Shared with you by ${esc(via.created_by_name)}</strong>${via.start_s != null ? ` — a clip, ${clock(via.start_s)}–${clock(via.end_s)} <button class="link" data-seek="${via.start_s}">play it</button>` : ' — the whole call'}${via.note ? `: ${esc(via.note)}` : ''}</div>` : ''}
    ${c.attribution && c.attribution.low_confidence ? `<p class="empty" id="attribution-note">Who said what is uncertain in this recording (speakers found by voice, confidence ${Math.round(c.attribution.confidence * 100)} %): its KPIs and sentiment are left out of the seller's figures.</p>` : ''}
    <section class="card" aria-labelledby="play-h"><h2 id="play-h">Recording</h2>
      ${c.audio_uri ? `<audio id="player" controls preload="metadata" src="/api/calls/${encodeURIComponent(callId)}/audio"></audio>` : '<p class="empty">No recording is stored for this call (it was analysed from a transcript).</p>'}
      <div class="timeline"><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Sentiment per turn and signal markers over the call">
        <line x1="0" x2="${W}" y1="${mid}" y2="${mid}" stroke="#d9dee5"></line>${line}${marks}<g id="comment-marks"></g></svg></div>
      <div class="legend"><span><i style="background:var(--pos)"></i>positive</span><span><i style="background:var(--neg)"></i>negative</span><span>faded: seller turns</span>
        <span><i style="background:#c0392b"></i>competitor</span><span><i style="background:#2457c5"></i>keyword</span><span><i style="background:#8e44ad"></i>question</span><span><i style="background:#b45f06"></i>action item</span><span><i style="background:#e0a800"></i>comment</span></div>
    </section>
    <div class="grid">
      <section class="card" aria-labelledby="sum-h"><h2 id="sum-h">Summary</h2>
        <p>Customer sentiment: ${sig.sentiment.customer ? `<span class="sent ${sig.sentiment.customer.label}">${sig.sentiment.customer.label}</span> (${sig.sentiment.customer.score.toFixed(2)})` : 'n/a'}</p>
        <p class="small">Talk ratio ${pct(c.kpis.talk_ratio)} · ${num(c.kpis.seller_wpm, 0)} wpm · ${c.kpis.switches} switches · longest customer monologue ${secs(c.kpis.longest_customer_monologue_s)} · ${c.kpis.seller_questions} seller questions</p>
        <h3 class="small">Action items</h3>${sig.action_items.length ? `<ul>${sig.action_items.map((a) => `<li><button class="link" data-seek="${a.start}">${clock(a.start)}</button> <strong>${esc(a.owner)}</strong>: ${esc(a.text)}</li>`).join('')}</ul>` : '<p class="empty">None.</p>'}
        <h3 class="small">Signals</h3>${sig.mentions.length ? `<ul>${sig.mentions.map((m) => `<li><button class="link" data-seek="${m.start}">${clock(m.start)}</button> ${esc(m.kind)} <strong>${esc(m.term)}</strong> by ${esc(m.role)}: “${esc(m.context)}”</li>`).join('')}</ul>` : '<p class="empty">No tracked keywords or competitors.</p>'}
      </section>
      ${shared ? '' : `<section class="card" aria-labelledby="com-h"><h2 id="com-h">Comments</h2>
        <p class="small muted" id="line-count"></p><div id="comments"></div>
        ${canComment ? `<form id="comment-form"><label for="comment-text" class="small muted">Comment on the whole call${c.audio_uri ? ' (at the current playback time)' : ''}; to comment on a line, use “Comment” beside it in the transcript, or select words there</label>
          <textarea id="comment-text" rows="3" style="width:100%" required></textarea><button type="submit">Post comment</button></form>` : ''}
      </section>`}
    </div>
    ${canShare ? `<section class="card" aria-labelledby="share-h"><h2 id="share-h">Share with sellers of the team</h2>
      <form id="share-form"><div class="small muted">A call, or a clip of it, that other sellers should hear. They open it (and its recording) from their page, and nothing else of ${esc(c.seller_name)}'s.</div>
        <label class="small"><input type="checkbox" id="share-team"> the whole team</label>
        <span id="share-sellers">${ME.sellers.filter((u) => u.team === (ME.sellers.find((x) => x.id === s.seller_id) || {}).team && u.id !== s.seller_id).map((u) => `<label class="small"><input type="checkbox" value="${esc(u.id)}"> ${esc(u.name)}</label>`).join(' ')}</span>
        <div class="small">Clip (optional, seconds): from <input id="share-from" type="number" min="0" step="0.1" style="width:6em"> to <input id="share-to" type="number" min="0" step="0.1" style="width:6em"> <button type="button" class="link" id="share-selection">use the selected words</button></div>
        <label class="small" for="share-note">Note</label><textarea id="share-note" rows="2" style="width:100%" maxlength="1000"></textarea>
        <button type="submit">Share</button></form>
      <div id="shares"></div></section>` : ''}
    <section class="card" aria-labelledby="tr-h"><h2 id="tr-h">Transcript</h2><div class="transcript" id="transcript">
      ${turns.map((p, i) => `<div class="turn ${esc(p.role)}" data-turn="${i}"><div class="meta"><button class="link" data-seek="${p.start}">${clock(p.start)}</button><br><span class="role">${esc(p.role)}</span><br><span class="sent ${p.label}">${p.label}</span></div>
        <div class="line"><div class="words">${p.words.map((w) => `<span class="w" data-start="${w.start}" data-end="${w.end}">${esc(w.text)}</span>`).join(' ')}</div>
        ${canComment ? `<div class="line-actions"><button class="link small" data-comment-line="${i}">Comment</button> <button class="link small sel-comment" data-comment-words="${i}" hidden>Comment on the selected words</button></div>` : ''}</div>
        <div class="line-comments" id="line-${i}" aria-label="Comments on this line"></div></div>`).join('')}
    </div></section>`;

  const player = $main.querySelector('#player');
  const seek = (time) => { if (!player) return; player.currentTime = Number(time); player.play().catch(() => {}); };
  $main.querySelectorAll('[data-seek]').forEach((el) => el.addEventListener('click', () => seek(el.dataset.seek)));
  $main.querySelectorAll('.w').forEach((el) => el.addEventListener('click', () => seek(el.dataset.start)));
  if (player) {
    const spans = [...$main.querySelectorAll('.w')];
    player.addEventListener('timeupdate', () => {
      const now = player.currentTime;
      spans.forEach((sp) => sp.classList.toggle('now', Number(sp.dataset.start) <= now && now < Number(sp.dataset.start) + 0.6));
    });
  }
  const ctx = { callId, turns, words, duration, canComment, player };
  if (!shared) renderComments(ctx, comments);
  if (canShare) setUpSharing(callId);
  if (via && via.start_s != null) {
    // The clip: its words marked, in view, and the player at its start.
    const clipWords = [...$main.querySelectorAll('#transcript .w')].filter((w) => Number(w.dataset.start) >= via.start_s - 1e-3 && Number(w.dataset.end) <= via.end_s + 1e-3);
    clipWords.forEach((w) => w.classList.add('clip'));
    if (clipWords.length) clipWords[0].closest('.turn').scrollIntoView({ block: 'nearest' });
    if (player) player.currentTime = via.start_s;
  }
  const form = $main.querySelector('#comment-form');
  if (form) form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = $main.querySelector('#comment-text').value;
    try {
      await postComment(ctx, { text, at_s: player ? player.currentTime : null });
      $main.querySelector('#comment-text').value = '';
      flash('Comment posted');
    } catch (e) { flash(e.message); }
  });
  // A line: "Comment" beside it. Words: select them in the transcript.
  $main.querySelectorAll('[data-comment-line]').forEach((b) => b.addEventListener('click', () => {
    const i = Number(b.dataset.commentLine);
    openLineForm(ctx, i, { turn: i });
  }));
  $main.querySelectorAll('[data-comment-words]').forEach((b) => b.addEventListener('click', () => {
    const i = Number(b.dataset.commentWords);
    if (b.selection) openLineForm(ctx, i, { turn: i, start_s: b.selection.start, end_s: b.selection.end }, b.selection.text);
  }));
  const transcript = $main.querySelector('#transcript');
  const onSelect = () => {
    $main.querySelectorAll('.sel-comment').forEach((b) => { b.hidden = true; b.selection = null; });
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return;
    const picked = [...transcript.querySelectorAll('.w')].filter((w) => sel.containsNode(w, true));
    if (!picked.length) return;
    const turnEl = picked[0].closest('.turn');
    const inTurn = picked.filter((w) => w.closest('.turn') === turnEl);
    const b = turnEl.querySelector('.sel-comment');
    if (!b) return;
    b.selection = { start: Number(inTurn[0].dataset.start), end: Number(inTurn[inTurn.length - 1].dataset.end), text: inTurn.map((w) => w.textContent).join(' ') };
    b.hidden = false;
  };
  transcript.addEventListener('mouseup', onSelect);
  transcript.addEventListener('keyup', onSelect);
}

async function setUpSharing(callId) {
  const url = `/api/calls/${encodeURIComponent(callId)}/shares`;
  const list = async () => {
    const shares = await api(url);
    const el = $main.querySelector('#shares');
    if (!el) return;
    const who = (r) => (r.startsWith('team:') ? 'the whole team' : (ME.sellers.find((u) => u.id === r) || { name: r }).name);
    el.innerHTML = shares.length ? `<ul>${shares.map((x) => `<li data-share="${esc(x.share_id)}">${x.recipients.map((r) => esc(who(r))).join(', ')}${x.start_s != null ? ` · clip ${clock(x.start_s)}–${clock(x.end_s)}` : ' · whole call'}${x.note ? ` · “${esc(x.note)}”` : ''} <span class="small muted">by ${esc(x.created_by_name)}</span>
        ${x.created_by === ME.user.id || ME.user.role === 'admin' ? `<button class="link small" data-revoke="${esc(x.share_id)}">Revoke</button>` : ''}</li>`).join('')}</ul>` : '<p class="empty small">Not shared yet.</p>';
    el.querySelectorAll('[data-revoke]').forEach((b) => b.addEventListener('click', async () => {
      try { await api(`${url}/${encodeURIComponent(b.dataset.revoke)}`, { method: 'DELETE' }); await list(); flash('Share revoked'); } catch (e) { flash(e.message); }
    }));
  };
  $main.querySelector('#share-selection').addEventListener('click', () => {
    const sel = window.getSelection();
    const picked = [...$main.querySelectorAll('#transcript .w')].filter((w) => sel && !sel.isCollapsed && sel.containsNode(w, true));
    if (!picked.length) { flash('Select words in the transcript first'); return; }
    $main.querySelector('#share-from').value = picked[0].dataset.start;
    $main.querySelector('#share-to').value = picked[picked.length - 1].dataset.end;
  });
  $main.querySelector('#share-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const num = (id) => { const v = $main.querySelector(id).value; return v === '' ? null : Number(v); };
    const body = {
      team: $main.querySelector('#share-team').checked,
      sellers: [...$main.querySelectorAll('#share-sellers input:checked')].map((i) => i.value),
      start_s: num('#share-from'), end_s: num('#share-to'),
      note: $main.querySelector('#share-note').value,
    };
    try { await api(url, { method: 'POST', body: JSON.stringify(body) }); ev.target.reset(); await list(); flash('Shared'); }
    catch (e) { flash(e.message); }
  });
  await list();
}

async function postComment(ctx, body) {
  await api(`/api/calls/${encodeURIComponent(ctx.callId)}/comments`, { method: 'POST', body: JSON.stringify(body) });
  renderComments(ctx, await api(`/api/calls/${encodeURIComponent(ctx.callId)}/comments`));
}

// The form beside a transcript line, for a comment on the line or on some of its words.
function openLineForm(ctx, i, anchor, quote) {
  const box = $main.querySelector(`#line-${i}`);
  box.querySelectorAll('.line-form').forEach((f) => f.remove());
  const form = document.createElement('form');
  form.className = 'line-form';
  form.innerHTML = `${quote ? `<q class="quote">${esc(quote)}</q>` : ''}
    <textarea rows="2" aria-label="Comment on line ${i + 1}${quote ? ': the selected words' : ''}" required></textarea>
    <button type="submit">Post</button> <button type="button" class="ghost cancel">Cancel</button>`;
  box.prepend(form);
  form.querySelector('textarea').focus();
  form.querySelector('.cancel').addEventListener('click', () => form.remove());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { await postComment(ctx, { text: form.querySelector('textarea').value, ...anchor }); form.remove(); flash('Comment posted'); }
    catch (e) { flash(e.message); }
  });
}

// Threads: a comment and its replies. A thread on a transcript line shows
// beside that line, with a marker on the timeline; the others (on the whole
// call, or from before comments had lines) in the Comments card.
function renderComments(ctx, comments) {
  const byId = new Map(comments.map((c) => [c.comment_id, c]));
  const roots = comments.filter((c) => !c.parent_id || !byId.has(c.parent_id));
  const replies = (root) => comments.filter((c) => c.parent_id === root.comment_id);
  $main.querySelectorAll('.line-comments').forEach((el) => { el.querySelectorAll('.thread').forEach((t) => t.remove()); });
  $main.querySelectorAll('.w.commented').forEach((w) => w.classList.remove('commented'));
  const general = $main.querySelector('#comments');
  const one = (c) => `<div class="comment ${c.parent_id ? 'reply' : ''}" data-comment="${esc(c.comment_id)}">
      <div class="small muted"><strong>${esc(c.author_name)}</strong> (${esc(c.author_role)}) · ${esc(c.created_at.slice(0, 16).replace('T', ' '))}${c.edited_at ? ' · edited' : ''}${!c.parent_id && c.turn == null && c.at_s != null ? ` · at <button class="link" data-seek="${c.at_s}">${clock(c.at_s)}</button>` : ''}</div>
      ${!c.parent_id && c.turn != null && c.start_s != null && quoteOf(ctx, c) ? `<q class="quote">${esc(quoteOf(ctx, c))}</q>` : ''}
      <div class="text">${esc(c.text)}</div>
      ${c.author === ME.user.id ? `<button class="link small" data-edit="${esc(c.comment_id)}">Edit</button> <button class="link small" data-delete="${esc(c.comment_id)}">Delete</button>` : ''}</div>`;
  const thread = (root) => `<div class="thread" data-thread="${esc(root.comment_id)}">${one(root)}${replies(root).map(one).join('')}
      ${ctx.canComment ? `<button class="link small" data-reply="${esc(root.comment_id)}">Reply</button>` : ''}</div>`;
  const onLine = roots.filter((r) => r.turn != null && $main.querySelector(`#line-${r.turn}`));
  const elsewhere = roots.filter((r) => !onLine.includes(r));
  onLine.forEach((r) => {
    $main.querySelector(`#line-${r.turn}`).insertAdjacentHTML('beforeend', thread(r));
    const [s, e] = r.start_s != null ? [r.start_s, r.end_s] : [ctx.turns[r.turn].start, ctx.turns[r.turn].end];
    $main.querySelectorAll(`.turn[data-turn="${r.turn}"] .w`).forEach((w) => {
      if (Number(w.dataset.start) >= s - 1e-3 && Number(w.dataset.end) <= e + 1e-3) w.classList.add('commented');
    });
  });
  general.innerHTML = elsewhere.length ? elsewhere.map(thread).join('')
    : '<p class="empty">No comments on the whole call. Managers comment on a line of the transcript (or on words of it); the seller sees it there and can reply.</p>';
  $main.querySelector('#line-count').textContent = onLine.length ? `${onLine.length} thread(s) on transcript lines (marked on the timeline).` : '';
  // Markers on the timeline: one per thread on a line; a click shows the thread.
  const W = 800;
  $main.querySelector('#comment-marks').innerHTML = onLine.map((r) => {
    const t = r.start_s ?? ctx.turns[r.turn].start, x = (t / ctx.duration) * W;
    return `<g class="comment-marker" data-goto="${esc(r.comment_id)}" style="cursor:pointer"><polygon points="${x - 6},0 ${x + 6},0 ${x},12" fill="#e0a800"></polygon><title>${esc(r.author_name)} (${clock(t)}): ${esc(r.text)}</title></g>`;
  }).join('');
  $main.querySelectorAll('[data-goto]').forEach((g) => g.addEventListener('click', () => {
    const el = $main.querySelector(`[data-thread="${g.dataset.goto}"]`);
    if (el) { el.scrollIntoView({ block: 'center' }); el.classList.add('flash'); setTimeout(() => el.classList.remove('flash'), 1500); }
    const r = byId.get(g.dataset.goto);
    if (ctx.player && r) { ctx.player.currentTime = Number(r.start_s ?? r.at_s ?? 0); }
  }));
  const url = (id) => `/api/calls/${encodeURIComponent(ctx.callId)}/comments/${encodeURIComponent(id)}`;
  const reload = async () => renderComments(ctx, await api(`/api/calls/${encodeURIComponent(ctx.callId)}/comments`));
  $main.querySelectorAll('#comments [data-delete], .line-comments [data-delete]').forEach((b) => b.addEventListener('click', async () => {
    try { await api(url(b.dataset.delete), { method: 'DELETE' }); await reload(); flash('Comment deleted'); } catch (e) { flash(e.message); }
  }));
  $main.querySelectorAll('#comments [data-edit], .line-comments [data-edit]').forEach((b) => b.addEventListener('click', () => {
    const el = b.closest('.comment'), c = byId.get(b.dataset.edit);
    const form = document.createElement('form');
    form.className = 'edit-form';
    form.innerHTML = `<textarea rows="2" aria-label="Edit your comment" required>${esc(c.text)}</textarea><button type="submit">Save</button> <button type="button" class="ghost cancel">Cancel</button>`;
    el.querySelector('.text').replaceWith(form);
    form.querySelector('.cancel').addEventListener('click', reload);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await api(url(c.comment_id), { method: 'PATCH', body: JSON.stringify({ text: form.querySelector('textarea').value }) }); await reload(); flash('Comment saved'); }
      catch (e) { flash(e.message); }
    });
  }));
  $main.querySelectorAll('#comments [data-reply], .line-comments [data-reply]').forEach((b) => b.addEventListener('click', () => {
    const form = document.createElement('form');
    form.className = 'reply-form';
    form.innerHTML = '<textarea rows="2" aria-label="Your reply" required></textarea><button type="submit">Post reply</button> <button type="button" class="ghost cancel">Cancel</button>';
    b.replaceWith(form);
    form.querySelector('textarea').focus();
    form.querySelector('.cancel').addEventListener('click', reload);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await postComment(ctx, { text: form.querySelector('textarea').value, parent_id: b.dataset.reply }); flash('Reply posted'); }
      catch (e) { flash(e.message); }
    });
  }));
  $main.querySelectorAll('#comments [data-seek]').forEach((b) => b.addEventListener('click', () => { if (ctx.player) { ctx.player.currentTime = Number(b.dataset.seek); ctx.player.play().catch(() => {}); } }));
}

// The words a comment is about, as text (empty for a whole line).
function quoteOf(ctx, c) {
  const turn = ctx.turns[c.turn];
  if (!turn || (Math.abs(c.start_s - turn.start) < 1e-3 && Math.abs(c.end_s - turn.end) < 1e-3)) return '';
  return turn.words.filter((w) => w.start >= c.start_s - 1e-3 && w.end <= c.end_s + 1e-3).map((w) => w.text).join(' ');
}

function showError(e) {
  // A call that is not yours is answered like one that does not exist (404).
  const msg = e.status === 403 ? 'You do not have access to this page.' : e.status === 404 ? 'There is no such page, or it is not yours to see.' : e.message;
  const title = e.status === 403 ? 'No access' : e.status === 404 ? 'Not found' : 'Something went wrong';
  $main.innerHTML = `<h1>${title}</h1><div class="card" role="alert"><p>${esc(msg)}</p><p><a href="#/">Back to your page</a></p></div>`;
}

// ---------- router ----------
async function render() {
  if (!ME) {
    try { ME = await api('/api/me'); }
    catch (e) { if (e.status === 401) return showLogin(); return showError(e); }
  }
  $who.innerHTML = `${esc(ME.user.name)} (${esc(ME.user.role)}) <button class="ghost" id="logout">Sign out</button>`;
  $who.querySelector('#logout').addEventListener('click', async () => { await api('/api/auth/logout', { method: 'POST' }); ME = null; location.hash = '#/'; render(); });
  const { parts, params } = route();
  if (parts[0] === 'call' && parts[1]) return showCall(decodeURIComponent(parts[1]), params);
  if (parts[0] === 'seller' && parts[1]) return showSeller(decodeURIComponent(parts[1]), params);
  const first = ME.user.role === 'seller' ? ME.user.id : (ME.sellers[0] && ME.sellers[0].id);
  if (!first) { $main.innerHTML = '<h1>No sellers</h1><p class="empty">Your directory entry leads no team with sellers yet.</p>'; return; }
  go(`/seller/${first}`, params);
}
window.addEventListener('hashchange', () => { render(); $main.focus(); });
render();
