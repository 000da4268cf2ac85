// callscope seller insights: a small single-page app over the JSON API.
// No framework and no build step: the binary serves this file as is.
// Every user-visible string goes through t(key, values), from the catalogue of
// the page's language (/i18n/{code}.json); sentences the API sends as data
// ({kind, values}) are rendered from it too. Names, transcripts and other data
// are marked translate="no".
'use strict';

const $main = document.getElementById('main');
const $who = document.getElementById('who');
const $status = document.getElementById('status');
let ME = null;

// ---------- helpers ----------
function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

// ---------- language ----------
const LANG_KEY = 'callscope.lang';
let LANG = 'en';
let CAT = {};
let EN = {};
let LANGUAGES = { en: 'English' };
// Keys the current catalogue lacks (the tests fail on any), as "lang:key".
window.__i18nMissing = [];

// The user's explicit choice, then the browser's languages, then English.
function pickLanguage() {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved && LANGUAGES[saved]) return saved;
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const code = String(l).toLowerCase().split('-')[0];
    if (LANGUAGES[code]) return code;
  }
  return 'en';
}

async function loadJson(path) {
  const res = await fetch(path, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

async function setLanguage(code) {
  if (!Object.keys(EN).length) EN = await loadJson('/i18n/en.json');
  CAT = code === 'en' ? EN : await loadJson(`/i18n/${encodeURIComponent(code)}.json`);
  LANG = code;
  document.documentElement.lang = code;
  document.title = t('page.title');
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  const sel = document.getElementById('lang');
  sel.innerHTML = Object.entries(LANGUAGES).map(([c, name]) => `<option value="${esc(c)}" lang="${esc(c)}" ${c === code ? 'selected' : ''}>${esc(name)}</option>`).join('');
  sel.setAttribute('aria-label', t('language.label'));
}

function has(key) { return CAT[key] != null || EN[key] != null; }

// The template of a key in the page's language: a missing key is recorded and
// falls back to English (then to the key itself).
function template(key, count) {
  let entry = CAT[key];
  if (entry == null) {
    const m = `${LANG}:${key}`;
    if (!window.__i18nMissing.includes(m)) window.__i18nMissing.push(m);
    entry = EN[key] ?? key;
  }
  if (typeof entry === 'object') entry = entry[new Intl.PluralRules(LANG).select(Number(count))] ?? entry.other;
  return entry;
}

// Plain text: `{name}` replaced by values[name]; numbers are formatted for the
// language, and `count` picks the plural form.
function t(key, values = {}) {
  return template(key, values.count).replace(/\{(\w+)\}/g, (m, name) => (name in values ? show(values[name]) : m));
}
// HTML: the template is escaped, the values are HTML (escape data with esc()).
function th(key, values = {}) {
  return esc(template(key, values.count)).replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
}
function show(v) { return typeof v === 'number' ? fmtInt(v) : String(v ?? ''); }

// ---------- formats: the page's language, the user's time zone ----------
function nf(d) { return new Intl.NumberFormat(LANG, { minimumFractionDigits: d, maximumFractionDigits: d }); }
function fmtInt(v) { return Number.isInteger(v) ? nf(0).format(v) : nf(1).format(v); }
function na() { return t('value.none'); }
/** A language code's name in the page's language ("fi" → "Finnish" / "suomi"). */
function languageName(code) {
  try { return new Intl.DisplayNames([document.documentElement.lang || 'en'], { type: 'language' }).of(code) || code; } catch { return code; }
}
function pct(v) { return v == null ? na() : new Intl.NumberFormat(LANG, { style: 'percent', maximumFractionDigits: 0 }).format(v); }
function num(v, d = 1) { return v == null ? na() : nf(d).format(v); }
function secs(v) {
  if (v == null) return na();
  if (v < 60) return t('unit.s', { n: nf(1).format(v) });
  const m = Math.floor(v / 60), s = Math.round(v % 60);
  return t('unit.min_s', { m, s: String(s).padStart(2, '0') });
}
function wpm(v) { return v == null ? na() : t('unit.wpm', { n: nf(0).format(v) }); }
// A KPI's value as the trend sentences give it: in its unit, whole numbers from 10.
function trendValue(kpi, v) {
  if (kpi === 'positive_share') return t('unit.positive', { n: pct(v) });
  if (kpi === 'avg_talk_ratio') return pct(v);
  const n = nf(v >= 10 ? 0 : 1).format(v);
  if (kpi === 'avg_seller_wpm') return t('unit.wpm', { n });
  if (kpi === 'avg_pause_s' || kpi === 'avg_longest_customer_monologue_s') return t('unit.s', { n });
  return n;
}
// A KPI's value as the coaching sentences and tables give it.
function coachValue(kpi, v) { return kpi === 'avg_talk_ratio' || kpi === 'positive_share' ? pct(v) : num(v); }
// Playback positions (m:ss), the same in every language.
function clock(t0) { const m = Math.floor(t0 / 60), s = Math.floor(t0 % 60); return `${m}:${String(s).padStart(2, '0')}`; }
// A calendar day of the API (YYYY-MM-DD, UTC), shown as a date.
function dateOf(d, opts = { year: 'numeric', month: 'numeric', day: 'numeric' }) {
  return new Intl.DateTimeFormat(LANG, { ...opts, timeZone: 'UTC' }).format(new Date(`${d.slice(0, 10)}T00:00:00Z`));
}
// An instant (RFC 3339), in the user's time zone.
function dateTime(ts) {
  return new Intl.DateTimeFormat(LANG, { year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(ts));
}
function dateOnly(ts) { return new Intl.DateTimeFormat(LANG, { year: 'numeric', month: 'numeric', day: 'numeric' }).format(new Date(ts)); }
function day(d) { return d.toISOString().slice(0, 10); }
function role(r) { return t(`role.${r}`); }
function sentimentLabel(l) { return t(`sentiment.${l}`); }
function kpiName(k) { return t(`kpi.${k}`); }
// A sentence the API sends as data ({kind, values}), in the page's language:
// the KPI by its name in `names` (a catalogue prefix), the KPI's numbers by
// `format`, counts as numbers.
const KPI_VALUES = ['previous', 'current', 'team', 'value', 'threshold', 'median', 'top'];
function sentence(m, names, format) {
  const v = { ...m.values };
  if (v.kpi) {
    KPI_VALUES.forEach((k) => { if (typeof v[k] === 'number') v[k] = format(m.values.kpi, v[k]); });
    v.kpi = t(`${names}.${m.values.kpi}`);
  }
  return t(m.kind, v);
}
function advice(f) { return (f.advice_by_language && f.advice_by_language[LANG]) || f.advice; }
function data(s) { return `<span translate="no">${esc(s)}</span>`; }
function flash(msg) { $status.textContent = msg; $status.classList.add('show'); setTimeout(() => $status.classList.remove('show'), 2500); }

async function api(path, opts = {}) {
  const res = await fetch(path, { credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, ...opts });
  if (res.status === 204) return null;
  const body = await res.json().catch(() => ({}));
  if (!res.ok) { const e = new Error(body.error || res.statusText); e.status = res.status; throw e; }
  return body;
}

// Each render starts a new view. A page, or a part of one, that loads after
// its own request (a seller, a call, the library, search results; history,
// comments, coaching, example calls) checks on return that its view is still
// the one shown: a late answer for the range, seller or call the user just
// left must not fill the page they moved to (nor one re-rendered in place,
// as a language switch does).
let VIEW = 0;
function viewToken() { const v = VIEW; return () => v === VIEW; }

function route() {
  const [path, query] = (location.hash.slice(1) || '/').split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query || '') };
}
function go(path, params) {
  const q = params && [...params].length ? `?${params}` : '';
  location.hash = `#${path}${q}`;
}

// ---------- date filter ----------
// Ranges are UTC days, as the API counts them.
const PRESETS = [['7', 'period.last_7_days'], ['30', 'period.last_30_days'], ['90', 'period.last_90_days'], ['quarter', 'period.this_quarter'], ['365', 'period.last_12_months']];
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
  document.getElementById('search').hidden = true;
  let users = null;
  try { users = await api('/api/auth/dev-users'); } catch (_) { users = null; }
  if (!users) {
    $main.innerHTML = `<h1>${esc(t('login.title'))}</h1><div class="card"><p>${esc(t('login.idp'))}</p></div>`;
    return;
  }
  const groups = { manager: [], seller: [], admin: [] };
  users.forEach((u) => groups[u.role].push(u));
  const list = (us) => us.map((u) => `<button data-user="${esc(u.id)}"><strong translate="no">${esc(u.name)}</strong><br>
      <span class="small muted">${esc(role(u.role))}${u.team ? ` · ${data(u.team)}` : ''}${u.teams && u.teams.length ? ` · ${th('login.leads', { teams: data(u.teams.join(', ')) })}` : ''}</span></button>`).join('');
  $main.innerHTML = `<h1>${esc(t('login.title'))}</h1>
    <div class="banner" role="note"><strong>${esc(t('login.demo'))}</strong> ${esc(t('login.demo_note'))}</div>
    <div class="card"><h2>${esc(t('login.managers'))}</h2><div class="users">${list(groups.manager)}</div></div>
    <div class="card"><h2>${esc(t('login.sellers'))}</h2><div class="users">${list(groups.seller)}</div></div>
    ${groups.admin.length ? `<div class="card"><h2>${esc(t('login.admins'))}</h2><div class="users">${list(groups.admin)}</div></div>` : ''}`;
  $main.querySelectorAll('[data-user]').forEach((b) => b.addEventListener('click', async () => {
    await api('/api/auth/dev-login', { method: 'POST', body: JSON.stringify({ user_id: b.dataset.user }) });
    ME = null; location.hash = '#/'; render();
  }));
}

// ---------- seller page ----------
// `kpi`: a stable key for tests and styles (the KPI's name), whatever the language.
function kpiCard(kpi, label, value, team, top, help) {
  return `<div class="kpi" data-kpi="${esc(kpi)}"><div class="label">${esc(label)}</div>
    <div class="value">${value}</div>
    <div class="cmp">${esc(t('kpi_card.compare', { team, top }))}</div>
    ${help ? `<div class="cmp">${esc(help)}</div>` : ''}</div>`;
}

function sentimentBar(c) {
  const n = c.positive + c.neutral + c.negative;
  if (!n) return `<p class="empty">${esc(t('sentiment.none'))}</p>`;
  const w = (x) => `${(100 * x / n).toFixed(1)}%`;
  const share = (x) => new Intl.NumberFormat(LANG, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(x / n);
  return `<div class="bar" role="img" aria-label="${esc(t('sentiment.bar_label', { positive: c.positive, neutral: c.neutral, negative: c.negative }))}">
      <span style="width:${w(c.positive)};background:var(--pos)"></span><span style="width:${w(c.neutral)};background:var(--neu)"></span><span style="width:${w(c.negative)};background:var(--neg)"></span></div>
    <div class="legend"><span><i style="background:var(--pos)"></i>${esc(t('sentiment.legend_positive', { share: share(c.positive), count: c.positive }))}</span>
      <span><i style="background:var(--neu)"></i>${esc(t('sentiment.legend_neutral', { share: share(c.neutral), count: c.neutral }))}</span>
      <span><i style="background:var(--neg)"></i>${esc(t('sentiment.legend_negative', { share: share(c.negative), count: c.negative }))}</span></div>`;
}

function sentimentOverTime(points, bucket) {
  if (!points.length) return `<p class="empty">${esc(t('empty.no_calls_in_range'))}</p>`;
  const W = 640, H = 160, pad = 24, bw = Math.min(48, Math.max(6, (W - 2 * pad) / points.length - 6));
  const max = Math.max(...points.map((p) => p.summary.calls));
  const bars = points.map((p, i) => {
    const s = p.summary.sentiment, x = pad + i * ((W - 2 * pad) / points.length);
    let y = H - pad;
    const seg = (n, color) => { const h = (H - 2 * pad) * n / max; y -= h; return n ? `<rect x="${x}" y="${y}" width="${bw}" height="${h}" fill="${color}"><title>${esc(dateOf(p.period_start))}: ${esc(show(n))}</title></rect>` : ''; };
    return seg(s.negative, 'var(--neg)') + seg(s.neutral, 'var(--neu)') + seg(s.positive, 'var(--pos)') +
      `<text x="${x}" y="${H - 6}" font-size="10" fill="#5b6470">${esc(dateOf(p.period_start, { month: 'numeric', day: 'numeric' }))}</text>`;
  }).join('');
  return `<div class="timeline"><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(t(`sot.label_${bucket}`))}">${bars}</svg></div>
    <div class="legend"><span><i style="background:var(--pos)"></i>${esc(t('sentiment.positive_cap'))}</span><span><i style="background:var(--neu)"></i>${esc(t('sentiment.neutral_cap'))}</span><span><i style="background:var(--neg)"></i>${esc(t('sentiment.negative_cap'))}</span><span>${esc(t(`sot.one_bar_per_${bucket}`))}</span></div>`;
}

function chips(items, key, filter, count = (k) => k.count ?? k.mentions) {
  if (!items.length) return `<p class="empty">${esc(t('empty.none_in_range'))}</p>`;
  return `<ul class="chips">${items.map((k) => `<li><button data-${filter}="${esc(k[key])}" title="${esc(t('chips.show_calls'))}"><span translate="no">${esc(k[key])}</span><span class="count">${esc(show(count(k)))}</span></button></li>`).join('')}</ul>`;
}

// One coaching flag: its reason and advice, in the page's language.
function flagHtml(f) {
  return `<div class="flag"><div>${esc(sentence(f.reason_message, 'kpi', coachValue))}</div><div class="small muted">${esc(advice(f))}</div></div>`;
}

// The seller's own coaching areas: the flags of the team's coaching rules, with advice.
function ownCoaching(c, isSelf) {
  if (!c) return `<p class="empty">${esc(t('coaching.no_team_figures'))}</p>`;
  if (c.note_message) return `<p class="empty">${esc(sentence(c.note_message))}</p>`;
  const top = c.top_performer ? `<p class="small">${esc(t(isSelf ? 'coaching.you_are_top' : 'coaching.is_top'))}</p>` : '';
  if (!c.flags.length) return `${top}<p class="small muted">${esc(t('coaching.within_range'))}</p>`;
  return top + c.flags.map(flagHtml).join('');
}

async function showSeller(sellerId, params) {
  const [from, to] = currentRange(params);
  const q = new URLSearchParams({ from, to });
  if (params.get('said') === 'anyone') q.set('competitors_said_by', 'anyone');
  let d;
  const live = viewToken();
  try { d = await api(`/api/sellers/${encodeURIComponent(sellerId)}/insights?${q}`); }
  catch (e) { return live() && showError(e); }
  // The user moved on while this loaded: a newer render owns the page.
  if (!live()) return;
  const s = d.summary, tm = d.team, isManager = ME.user.role !== 'seller';
  const isSelf = sellerId === ME.user.id;
  const anyone = d.competitors_said_by === 'anyone';
  const top = (k, f) => (tm && tm.top[k] != null ? f(tm.top[k]) : na());
  const team = (v, f) => (tm ? f(v) : na());
  const picker = isManager ? `<label>${esc(t('filters.seller'))}<select id="seller" translate="no">${ME.sellers.map((u) => `<option value="${esc(u.id)}" ${u.id === sellerId ? 'selected' : ''}>${esc(u.name)}</option>`).join('')}</select></label>` : '';
  const tooFew = s.calls === 0 ? `<p class="empty">${esc(t('empty.no_calls_import'))}</p>` : '';
  const by = (x) => (x === 'win_rate' ? t('top.by_win_rate') : kpiName(x).toLocaleLowerCase(LANG));
  const leftOut = s.low_confidence_calls ? ` · <span id="left-out" title="${esc(t('summary.left_out_title'))}">${esc(t('summary.left_out', { count: s.low_confidence_calls }))}</span>` : '';
  $main.innerHTML = `
    <h1>${data(d.seller.name)} <span class="muted small">${data(d.seller.team_name || '')}</span></h1>
    <div class="card filters" role="search">
      <label>${esc(t('filters.period'))}<select id="preset">${PRESETS.map(([v, k]) => `<option value="${v}">${esc(t(k))}</option>`).join('')}<option value="custom">${esc(t('period.custom'))}</option></select></label>
      <label>${esc(t('filters.from'))}<input type="date" id="from" value="${from}"></label>
      <label>${esc(t('filters.to'))}<input type="date" id="to" value="${to}"></label>
      <button id="apply">${esc(t('filters.apply'))}</button>
      ${picker}
      <span class="muted small">${esc(t('summary.calls_total', { count: s.calls, duration: secs(s.total_duration_s) }))}${leftOut}</span>
      ${isSelf ? '' : `<span style="margin-left:auto" id="contact">
        ${d.seller.email ? `<a class="button" href="mailto:${esc(d.seller.email)}">${esc(t('contact.email'))}</a>` : ''}
        ${d.seller.chat_url ? ` · <a href="${esc(d.seller.chat_url)}" target="_blank" rel="noopener">${esc(t('contact.chat'))}</a>` : ''}
      </span>`}
    </div>
    ${tooFew}
    <section class="card" aria-labelledby="style-h"><h2 id="style-h">${esc(t('style.title'))}</h2>
      <div class="kpis">
        ${kpiCard('avg_seller_wpm', t('card.talking_speed'), wpm(s.avg_seller_wpm), team(tm && tm.overall.avg_seller_wpm, (v) => num(v, 0)), top('avg_seller_wpm', (v) => num(v, 0)), t('card.talking_speed_help'))}
        ${kpiCard('switches_per_call', t('card.switches'), num(s.switches_per_call), team(tm && tm.overall.switches_per_call, num), top('switches_per_call', num))}
        ${kpiCard('avg_pause_s', t('card.pause'), secs(s.avg_pause_s), team(tm && tm.overall.avg_pause_s, secs), top('avg_pause_s', secs), t('card.pause_help'))}
        ${kpiCard('avg_longest_customer_monologue_s', t('card.monologue'), secs(s.avg_longest_customer_monologue_s), team(tm && tm.overall.avg_longest_customer_monologue_s, secs), top('avg_longest_customer_monologue_s', secs), t('card.monologue_help'))}
        ${kpiCard('avg_talk_ratio', t('card.talk_ratio'), pct(s.avg_talk_ratio), team(tm && tm.overall.avg_talk_ratio, pct), top('avg_talk_ratio', pct), t('card.talk_ratio_help'))}
        ${kpiCard('questions_per_call', t('card.questions'), num(s.questions_per_call), team(tm && tm.overall.questions_per_call, num), top('questions_per_call', num))}
      </div>
      ${tm ? `<p class="small muted" id="style-top">${th('style.top_performers', { names: tm.top_performer_names.length ? data(tm.top_performer_names.join(', ')) : esc(t('top.none_yet')), by: esc(by(tm.top_performers_by)) })}</p>` : ''}
    </section>
    <section class="card" aria-labelledby="own-h"><h2 id="own-h">${esc(t(isSelf ? 'coaching.own_title_self' : 'coaching.own_title'))}</h2><div id="own-coaching">${ownCoaching(d.coaching, isSelf)}</div></section>
    <div class="grid">
      <section class="card" aria-labelledby="ins-h"><h2 id="ins-h">${esc(t('insights.title'))}</h2>
        ${d.trends.length ? `<ul class="trends">${d.trends.map((x) => `<li data-trend="${esc(x.kpi)}">${esc(sentence(x.message, 'trend.kpi', trendValue))}</li>`).join('')}</ul>` : `<p class="empty">${esc(d.trends_note_message ? sentence(d.trends_note_message) : t('insights.no_change'))}</p>`}
        <p class="small muted" id="compared">${esc(t('insights.compared_with', { from: dateOf(d.previous_range.from), to: dateOf(d.previous_range.to) }))}</p>
      </section>
      <section class="card" aria-labelledby="stat-h"><h2 id="stat-h">${esc(t('stats.title'))}</h2>
        <h3 class="small">${esc(t('stats.avg_sentiment'))}</h3>${sentimentBar(s.sentiment)}
        <p>${th('stats.avg_talk_ratio', { value: `<strong>${esc(pct(s.avg_talk_ratio))}</strong>` })}${tm ? ` <span class="muted">${esc(t('stats.team_value', { value: pct(tm.overall.avg_talk_ratio) }))}</span>` : ''}</p>
      </section>
    </div>
    <section class="card" aria-labelledby="sot-h"><h2 id="sot-h">${esc(t('sot.title'))}</h2>${sentimentOverTime(d.sentiment_over_time, d.sentiment_bucket)}</section>
    <div class="grid">
      <section class="card" aria-labelledby="kw-h"><h2 id="kw-h">${esc(t('keywords.title'))}</h2>${chips(d.customer_keywords, 'phrase', 'keyword')}</section>
      <section class="card" aria-labelledby="comp-h"><h2 id="comp-h">${esc(t(anyone ? 'competitors.title_anyone' : 'competitors.title_customer'))}</h2>
        <label class="small muted"><input type="checkbox" id="seller-mentions" ${anyone ? 'checked' : ''}> ${esc(t('competitors.include_seller'))}</label>
        ${chips(d.competitors, 'term', 'competitor', (k) => (anyone ? k.mentions : k.by_customer))}
        <h2 style="margin-top:12px">${esc(t('tracked.title'))}</h2>${chips(d.tracked_keywords, 'term', 'term')}</section>
    </div>
    <section class="card" aria-labelledby="cm-h"><h2 id="cm-h">${esc(t(isManager ? 'comments.latest_title' : 'comments.from_manager_title'))}</h2><div id="seller-comments"><p class="loading">${esc(t('page.loading'))}</p></div></section>
    ${isSelf ? `<section class="card" aria-labelledby="sh-h"><h2 id="sh-h">${esc(t('shared.title'))}</h2><div id="shared"><p class="loading">${esc(t('page.loading'))}</p></div></section>` : ''}
    <section class="card" aria-labelledby="hist-h"><h2 id="hist-h">${esc(t('history.title'))} <span id="hist-filter" class="small muted"></span></h2><div id="history"></div></section>
    ${isManager && d.seller.team ? `<section class="card" aria-labelledby="coach-h"><h2 id="coach-h">${th('coaching.team_title', { team: data(d.seller.team_name || d.seller.team) })}</h2><div id="coaching"><p class="loading">${esc(t('page.loading'))}</p></div></section>` : ''}`;

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
  if (isManager && d.seller.team) loadCoaching(d.seller.team, from, to);
}

async function loadHistory(sellerId, from, to, h) {
  const el = $main.querySelector('#history');
  const q = new URLSearchParams({ from, to, sort: h.sort, desc: h.desc, page: h.page, page_size: 10 });
  if (h.term) q.set('term', h.term);
  if (h.term && h.saidBy) q.set('said_by', h.saidBy);
  if (h.keyword) q.set('keyword', h.keyword);
  // The last request wins: a sort clicked twice, or the user moved on.
  h.seq = (h.seq || 0) + 1;
  const mine = h.seq, live = viewToken();
  const page = await api(`/api/sellers/${encodeURIComponent(sellerId)}/calls?${q}`);
  const filter = $main.querySelector('#hist-filter');
  if (!live() || mine !== h.seq || !filter || !el) return;
  filter.innerHTML = h.term || h.keyword ? `${th(h.saidBy === 'customer' ? 'history.filter_customer' : 'history.filter_any', { term: data(h.term || h.keyword) })} · <button class="link" id="clear">${esc(t('history.show_all'))}</button>` : '';
  if (h.term || h.keyword) filter.querySelector('#clear').addEventListener('click', () => { h.term = h.keyword = ''; loadHistory(sellerId, from, to, h); });
  if (!page.items.length) { el.innerHTML = `<p class="empty">${esc(t('history.no_match'))}</p>`; return; }
  const col = (key, label, cls = '') => `<th class="${cls}" aria-sort="${h.sort === key ? (h.desc ? 'descending' : 'ascending') : 'none'}"><button data-sort="${key}">${esc(label)}${h.sort === key ? (h.desc ? ' ▼' : ' ▲') : ''}</button></th>`;
  const pages = Math.max(1, Math.ceil(page.total / 10));
  el.innerHTML = `<div class="table-wrap"><table><thead><tr>${col('started_at', t('history.date'))}<th>${esc(t('history.customer'))}</th>${col('duration', t('history.duration'))}${col('sentiment', t('history.sentiment'))}${col('talk_ratio', t('history.talk_ratio'), 'opt')}<th class="opt">${esc(t('history.signals'))}</th></tr></thead><tbody>
    ${page.items.map((c) => `<tr><td><a href="#/call/${encodeURIComponent(c.call_id)}">${esc(dateTime(c.started_at))}</a></td>
      <td translate="no">${esc(c.customer || '—')}</td><td>${esc(secs(c.duration_s))}</td>
      <td>${c.sentiment ? `<span class="sent ${esc(c.sentiment)}">${esc(sentimentLabel(c.sentiment))}</span>` : '—'}</td>
      <td class="opt">${esc(pct(c.talk_ratio))}${c.low_confidence ? ` <span class="small muted" title="${esc(t('history.left_out_title'))}">${esc(t('history.left_out'))}</span>` : ''}</td><td class="opt small">${esc(t('history.signal_counts', { mentions: c.mentions, action_items: c.action_items, questions: c.questions }))}</td></tr>`).join('')}
    </tbody></table></div>
    <p class="small">${esc(t('history.page', { count: page.total, page: h.page + 1, pages }))}
      ${h.page > 0 ? `<button class="ghost" id="prev">${esc(t('history.previous'))}</button>` : ''} ${h.page + 1 < pages ? `<button class="ghost" id="next">${esc(t('history.next'))}</button>` : ''}</p>`;
  el.querySelectorAll('[data-sort]').forEach((b) => b.addEventListener('click', () => {
    if (h.sort === b.dataset.sort) h.desc = !h.desc; else { h.sort = b.dataset.sort; h.desc = true; }
    h.page = 0; loadHistory(sellerId, from, to, h);
  }));
  const prev = el.querySelector('#prev'), next = el.querySelector('#next');
  if (prev) prev.addEventListener('click', () => { h.page -= 1; loadHistory(sellerId, from, to, h); });
  if (next) next.addEventListener('click', () => { h.page += 1; loadHistory(sellerId, from, to, h); });
}

async function loadSellerComments(sellerId, from, to) {
  const live = viewToken();
  const list = await api(`/api/sellers/${encodeURIComponent(sellerId)}/comments?${new URLSearchParams({ from, to })}`);
  const el = $main.querySelector('#seller-comments');
  if (!live() || !el) return; // navigated away meanwhile
  if (!list.length) { el.innerHTML = `<p class="empty">${esc(t('comments.none_in_range'))}</p>`; return; }
  // On a seller's own page, what others wrote since the seller last looked is
  // new (remembered in this browser).
  const mine = ME.user.role === 'seller' && ME.user.id === sellerId;
  const seenKey = `callscope.comments_seen.${ME.user.id}`;
  const seen = Date.parse(localStorage.getItem(seenKey) || '') || 0;
  const isNew = (c) => mine && c.author !== ME.user.id && Date.parse(c.created_at) > seen;
  const fresh = list.filter(isNew).length;
  if (mine && list.length) localStorage.setItem(seenKey, list.map((c) => c.created_at).sort().pop());
  el.innerHTML = (fresh ? `<p class="banner" id="new-comments" role="status">${esc(t('comments.new_for_you', { count: fresh }))}</p>` : '') + list.slice(0, Math.max(8, fresh)).map((c) => {
    const where = c.turn != null && c.at_s != null ? 'comments.on_call_line_at' : c.turn != null ? 'comments.on_call_line' : c.at_s != null ? 'comments.on_call_at' : 'comments.on_call';
    const on = th(where, { call: `<a href="#/call/${encodeURIComponent(c.call_id)}" translate="no">${esc(c.call_id)}</a>`, line: esc(show((c.turn ?? 0) + 1)), at: esc(clock(c.at_s ?? 0)) });
    return `<div class="comment${isNew(c) ? ' new' : ''}"><div class="small muted">${isNew(c) ? `<span class="badge">${esc(t('comments.new_badge'))}</span> ` : ''}<strong translate="no">${esc(c.author_name)}</strong> (${esc(role(c.author_role))}) ${on} · ${esc(dateTime(c.created_at))}</div>
      <div translate="no">${esc(c.text)}</div></div>`;
  }).join('');
}

// Calls and clips managers shared with this seller (from other sellers of the team).
async function loadShared() {
  const live = viewToken();
  const list = await api('/api/shared');
  const el = $main.querySelector('#shared');
  if (!live() || !el) return; // navigated away meanwhile
  el.innerHTML = list.length ? libraryHtml(list) : `<p class="empty">${esc(t('shared.none'))}</p>`;
}

// Shares grouped by named collection (alphabetically), then those in none.
function libraryHtml(list) {
  const names = [...new Set(list.map((x) => x.collection || ''))].sort((a, b) => (a === '') - (b === '') || a.localeCompare(b, LANG));
  const item = (x) => `<li data-share="${esc(x.share_id)}"><a href="#/call/${encodeURIComponent(x.call_id)}?share=${encodeURIComponent(x.share_id)}">${x.call.customer ? data(x.call.customer) : esc(t('call.untitled'))}</a>
      <span class="small muted">${th(x.start_s != null ? 'shared.item_clip' : 'shared.item', { seller: data(x.seller_name), date: esc(dateOnly(x.call.started_at)), from: esc(clock(x.start_s ?? 0)), to: esc(clock(x.end_s ?? 0)), by: data(x.created_by_name) })}</span>
      ${x.note ? `<div translate="no">${esc(x.note)}</div>` : ''}</li>`;
  return names.map((n) => `<div class="collection" data-collection="${esc(n)}"><h3 class="small">${n ? data(n) : esc(t('library.no_collection'))}</h3>
    <ul class="shared">${list.filter((x) => (x.collection || '') === n).map(item).join('')}</ul></div>`).join('');
}

// The call library: what the user may open that was shared, by collection
// (a seller: shared with them; a manager: their teams' shares).
async function showLibrary() {
  const live = viewToken();
  let list;
  try { list = await api('/api/shared'); } catch (e) { return live() && showError(e); }
  if (!live()) return;
  $main.innerHTML = `<h1>${esc(t('library.title'))}</h1><section class="card" id="library">${list.length ? libraryHtml(list) : `<p class="empty">${esc(t(ME.user.role === 'seller' ? 'shared.none' : 'library.none_manager'))}</p>`}</section>`;
}

async function loadCoaching(team, from, to) {
  const live = viewToken();
  let r;
  try { r = await api(`/api/teams/${encodeURIComponent(team)}/coaching?${new URLSearchParams({ from, to })}`); }
  catch (e) { const el = $main.querySelector('#coaching'); if (live() && el) el.innerHTML = `<p class="empty">${esc(e.message)}</p>`; return; }
  const el = $main.querySelector('#coaching');
  if (!live() || !el) return; // navigated away meanwhile
  const name = (id) => (ME.sellers.find((u) => u.id === id) || { name: id }).name;
  const sellers = r.sellers.map((s) => `<div data-seller="${esc(s.seller_id)}"><strong translate="no">${esc(name(s.seller_id))}</strong> <span class="small muted">${esc(t('coaching.calls', { count: s.calls }))}${s.top_performer ? ` · ${esc(t('coaching.top_performer'))}` : ''}</span>
      ${s.note_message ? `<p class="empty small">${esc(sentence(s.note_message))}</p>` : s.flags.length ? s.flags.map(flagHtml).join('') : `<p class="small muted">${esc(t('coaching.within_range'))}</p>`}</div>`).join('');
  const diffs = r.differences.length ? `<div class="scroll-x"><table id="differences"><thead><tr><th>${esc(t('coaching.kpi'))}</th><th>${esc(t('coaching.top_performers'))}</th><th>${esc(t('coaching.others'))}</th><th>${esc(t('coaching.examples'))}</th></tr></thead><tbody>
      ${r.differences.map((d) => `<tr data-kpi="${esc(d.kpi)}"><td>${esc(kpiName(d.kpi))}</td><td>${esc(coachValue(d.kpi, d.top_performers))}</td><td>${esc(coachValue(d.kpi, d.others))}</td><td class="examples small muted">…</td></tr>`).join('')}</tbody></table></div>`
    : `<p class="empty">${esc(t('coaching.not_enough_sellers'))}</p>`;
  const by = r.top_performers_by === 'win_rate' ? t('top.by_win_rate') : kpiName(r.top_performers_by).toLocaleLowerCase(LANG);
  const names = r.top_performers.map((id) => name(id)).join(', ');
  el.innerHTML = `<p class="small muted" id="top-line">${th('coaching.top_line', { by: esc(by), names: names ? data(names) : esc(t('top.none_yet')) })}</p>
    <h3 class="small">${esc(t('coaching.who_title'))}</h3>${sellers || `<p class="empty">${esc(t('empty.no_calls_in_range'))}</p>`}
    <h3 class="small">${esc(t('coaching.differences_title'))}</h3>${diffs}`;
  if (r.differences.length) loadEvidence(team, from, to, name);
}

// Example calls where the top performers' differences show: loaded after the
// coaching report, into its table's last column.
async function loadEvidence(team, from, to, name) {
  const live = viewToken();
  let ev;
  try { ev = await api(`/api/teams/${encodeURIComponent(team)}/coaching/evidence?${new URLSearchParams({ from, to })}`); }
  catch (e) { if (live()) $main.querySelectorAll('#differences .examples').forEach((el) => { el.textContent = e.message; }); return; }
  if (!live()) return; // navigated away meanwhile
  ev.forEach((k) => {
    const cell = $main.querySelector(`#differences tr[data-kpi="${CSS.escape(k.kpi)}"] .examples`);
    if (!cell) return; // navigated away meanwhile
    cell.classList.remove('muted');
    // A call's own value; for the positive share, the customer's sentiment score.
    const value = (v) => (k.kpi === 'positive_share' ? t('coaching.example_sentiment', { score: num(v, 2) }) : coachValue(k.kpi, v));
    cell.innerHTML = k.calls.length
      ? k.calls.map((c) => `<a href="#/call/${encodeURIComponent(c.call_id)}" data-call="${esc(c.call_id)}"><span translate="no">${esc(name(c.seller_id))}</span>, ${esc(dateOnly(c.started_at))} (${esc(value(c.value))})</a>`).join('<br>')
      : esc(t('coaching.no_examples'));
  });
}

// ---------- call page ----------
async function showCall(callId, params) {
  let c, comments = [];
  const live = viewToken();
  try {
    c = await api(`/api/calls/${encodeURIComponent(callId)}`);
    // A call shared with the user opens without its comments (they are the seller's).
    if (c.access !== 'shared') comments = await api(`/api/calls/${encodeURIComponent(callId)}/comments`);
  } catch (e) { return live() && showError(e); }
  // The user moved on while this loaded: a newer render owns the page.
  if (!live()) return;
  const s = c.summary, sig = c.signals, tr = c.transcript;
  const roles = tr.speakers || {};
  // Turns from the sentiment timeline (the KPI engine's turns); words by time.
  // A call in a language the sentiment model does not read has no timeline:
  // its lines are the runs of one speaker's words.
  const words = [...tr.words].sort((a, b) => a.start - b.start || a.end - b.end);
  const noSentiment = !sig.sentiment.timeline.length && words.length > 0;
  const turns = noSentiment
    ? words.reduce((acc, w) => {
      const last = acc[acc.length - 1];
      if (last && last.speaker === w.speaker) last.end = Math.max(last.end, w.end);
      else acc.push({ speaker: w.speaker, role: roles[w.speaker], start: w.start, end: w.end, words: [] });
      return acc;
    }, [])
    : sig.sentiment.timeline.map((p) => ({ ...p, words: [] }));
  words.forEach((w) => {
    const r = roles[w.speaker];
    const turn = turns.find((x) => x.role === r && w.start >= x.start - 1e-6 && w.end <= x.end + 1e-6 && (!noSentiment || x.speaker === w.speaker));
    if (turn) turn.words.push(w);
  });
  // A word inside a mention's time span (and said by the mention's speaker) is shown bold.
  const mentionAt = (w) => sig.mentions.find((m) => m.speaker === w.speaker && w.start >= m.start - 0.05 && w.end <= m.end + 0.05);
  // Shared as clips only: the server sends the clips' words; lines without any go.
  if (c.access === 'shared') turns.splice(0, turns.length, ...turns.filter((p) => p.words.length));
  const duration = c.summary.duration_s || (words.length ? words[words.length - 1].end : 1);
  const shared = c.access === 'shared';
  const canComment = !shared && (ME.user.role !== 'seller' || s.seller_id === ME.user.id);
  const canShare = !shared && ME.user.role !== 'seller';
  const via = shared ? (c.shared.find((x) => x.share_id === params.get('share')) || c.shared[0]) : null;
  const markers = [
    ...sig.mentions.map((m) => ({ t: m.start, kind: m.kind, label: t(`marker.${m.kind}`, { text: m.term }) })),
    ...sig.questions.map((q) => ({ t: q.start, kind: 'question', label: t('marker.question', { text: q.text }) })),
    ...sig.action_items.map((a) => ({ t: a.start, kind: 'action', label: t('marker.action', { text: a.text }) })),
  ];
  const color = { competitor: '#c0392b', keyword: '#2457c5', question: '#8e44ad', action: '#b45f06' };
  const W = 800, H = 120, mid = 60;
  const line = sig.sentiment.timeline.map((p) => `<rect x="${(p.start / duration) * W}" y="${p.score >= 0 ? mid - p.score * 45 : mid}" width="${Math.max(2, ((p.end - p.start) / duration) * W)}" height="${Math.abs(p.score) * 45 || 1}" fill="${p.label === 'positive' ? 'var(--pos)' : p.label === 'negative' ? 'var(--neg)' : 'var(--neu)'}" opacity="${p.role === 'customer' ? 1 : 0.45}"><title>${esc(t('call.turn_title', { role: role(p.role), at: clock(p.start), label: sentimentLabel(p.label), score: num(p.score, 2) }))}</title></rect>`).join('');
  const marks = markers.map((m) => `<g class="marker" data-seek="${m.t}" style="cursor:pointer"><line x1="${(m.t / duration) * W}" x2="${(m.t / duration) * W}" y1="100" y2="118" stroke="${color[m.kind]}" stroke-width="3"></line><title>${esc(m.label)} (${clock(m.t)})</title></g>`).join('');
  const outcome = s.outcome ? ` · ${has(`outcome.${s.outcome}`) ? esc(t(`outcome.${s.outcome}`)) : data(s.outcome)}` : '';
  const viaHtml = via ? `<div class="banner" id="shared-banner" role="note"><strong>${th('call.shared_by', { name: data(via.created_by_name) })}</strong>${via.start_s != null ? ` — ${th('call.shared_clip', { from: esc(clock(via.start_s)), to: esc(clock(via.end_s)) })} <button class="link" data-seek="${via.start_s}">${esc(t('call.play_clip'))}</button>` : ` — ${esc(t('call.shared_whole'))}`}${via.note ? `: <span translate="no">${esc(via.note)}</span>` : ''}${c.shared.every((x) => x.start_s != null) ? `<div class="small" id="clip-only">${esc(t('call.clip_only'))}</div>` : ''}</div>` : '';
  $main.innerHTML = `
    <p><a href="javascript:history.back()">${esc(t('call.back'))}</a></p>
    <h1>${s.customer ? data(s.customer) : esc(t('call.untitled'))} <span class="muted small">${esc(dateTime(s.started_at))} · ${esc(secs(s.duration_s))} · ${data(c.seller_name)}${outcome}</span></h1>
    ${viaHtml}
    ${c.attribution && c.attribution.low_confidence ? `<p class="empty" id="attribution-note">${esc(t(c.attribution.method === 'channel' ? 'call.attribution_uncertain_line' : 'call.attribution_uncertain', { confidence: pct(c.attribution.confidence) }))}</p>` : ''}
    <section class="card" aria-labelledby="play-h"><h2 id="play-h">${esc(t('call.recording'))}</h2>
      ${c.audio_uri ? `<audio id="player" controls preload="metadata" src="/api/calls/${encodeURIComponent(callId)}/audio"></audio>` : `<p class="empty">${esc(t('call.no_recording'))}</p>`}
      <div class="timeline"><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(t('call.timeline_label'))}">
        <line x1="0" x2="${W}" y1="${mid}" y2="${mid}" stroke="#d9dee5"></line>${line}${marks}<g id="comment-marks"></g></svg></div>
      <div class="legend"><span><i style="background:var(--pos)"></i>${esc(t('sentiment.positive'))}</span><span><i style="background:var(--neg)"></i>${esc(t('sentiment.negative'))}</span><span>${esc(t('call.legend_faded'))}</span>
        <span><i style="background:#c0392b"></i>${esc(t('call.legend_competitor'))}</span><span><i style="background:#2457c5"></i>${esc(t('call.legend_keyword'))}</span><span><i style="background:#8e44ad"></i>${esc(t('call.legend_question'))}</span><span><i style="background:#b45f06"></i>${esc(t('call.legend_action'))}</span><span><i style="background:#e0a800"></i>${esc(t('call.legend_comment'))}</span></div>
    </section>
    <div class="grid">
      <section class="card" aria-labelledby="sum-h"><h2 id="sum-h">${esc(t('call.summary'))}</h2>
        <p id="call-sentiment">${th('call.customer_sentiment', { value: sig.sentiment.customer ? `<span class="sent ${esc(sig.sentiment.customer.label)}">${esc(sentimentLabel(sig.sentiment.customer.label))}</span> (${esc(num(sig.sentiment.customer.score, 2))})` : noSentiment && s.language ? esc(t('call.sentiment_unavailable', { language: languageName(s.language) })) : esc(na()) })}</p>
        <p class="small">${esc(t('call.kpis', { talk: pct(c.kpis.talk_ratio), wpm: wpm(c.kpis.seller_wpm), switches: c.kpis.switches, monologue: secs(c.kpis.longest_customer_monologue_s), questions: c.kpis.seller_questions }))}</p>
        <h3 class="small">${esc(t('call.action_items'))}</h3>${sig.action_items.length ? `<ul>${sig.action_items.map((a) => `<li><button class="link" data-seek="${a.start}">${clock(a.start)}</button> <strong>${esc(role(a.owner))}</strong>: <span translate="no">${esc(a.text)}</span></li>`).join('')}</ul>` : `<p class="empty">${esc(t('call.none'))}</p>`}
        <h3 class="small">${esc(t('call.questions'))}</h3><div id="call-questions">${['seller', 'customer'].map((side) => {
          const qs = sig.questions.filter((q) => q.role === side);
          return `<div data-side="${side}"><strong class="small">${esc(t('call.questions_by', { role: role(side), count: qs.length }))}</strong>${qs.length ? `<ul>${qs.map((q) => `<li><button class="link" data-seek="${q.start}">${clock(q.start)}</button> <span translate="no">${esc(q.text)}</span></li>`).join('')}</ul>` : ` <span class="empty small">${esc(t('call.none'))}</span>`}</div>`;
        }).join('')}</div>
        <h3 class="small">${esc(t('call.signals'))}</h3>${sig.mentions.length ? `<ul>${sig.mentions.map((m) => `<li><button class="link" data-seek="${m.start}">${clock(m.start)}</button> ${th('call.mention', { kind: esc(t(`mention.${m.kind}`)), term: `<strong translate="no">${esc(m.term)}</strong>`, role: esc(role(m.role)), context: data(m.context) })}</li>`).join('')}</ul>` : `<p class="empty">${esc(t('call.no_mentions'))}</p>`}
      </section>
      ${shared ? '' : `<section class="card" aria-labelledby="com-h"><h2 id="com-h">${esc(t('comments.title'))}</h2>
        <p class="small muted" id="line-count"></p><div id="comments"></div>
        ${canComment ? `<form id="comment-form"><label for="comment-text" class="small muted">${esc(t(c.audio_uri ? 'comments.form_label_at' : 'comments.form_label'))}</label>
          <textarea id="comment-text" rows="3" style="width:100%" required></textarea><button type="submit">${esc(t('comments.post'))}</button></form>` : ''}
      </section>`}
    </div>
    ${canShare ? `<section class="card" aria-labelledby="share-h"><h2 id="share-h">${esc(t('share.title'))}</h2>
      <form id="share-form"><div class="small muted">${th('share.intro', { seller: data(c.seller_name) })}</div>
        <label class="small"><input type="checkbox" id="share-team"> ${esc(t('share.whole_team'))}</label>
        <span id="share-sellers">${ME.sellers.filter((u) => u.team === (ME.sellers.find((x) => x.id === s.seller_id) || {}).team && u.id !== s.seller_id).map((u) => `<label class="small"><input type="checkbox" value="${esc(u.id)}"> <span translate="no">${esc(u.name)}</span></label>`).join(' ')}</span>
        <div class="small">${th('share.clip', { from: '<input id="share-from" type="number" min="0" step="0.1" style="width:6em">', to: '<input id="share-to" type="number" min="0" step="0.1" style="width:6em">' })} <button type="button" class="link" id="share-selection">${esc(t('share.use_selection'))}</button></div>
        <label class="small" for="share-note">${esc(t('share.note'))}</label><textarea id="share-note" rows="2" style="width:100%" maxlength="1000"></textarea>
        <label class="small" for="share-collection">${esc(t('share.collection'))}</label> <input id="share-collection" list="share-collections" maxlength="80" placeholder="${esc(t('share.collection_placeholder'))}"><datalist id="share-collections"></datalist>
        <button type="submit">${esc(t('share.submit'))}</button></form>
      <div id="shares"></div></section>` : ''}
    <section class="card" aria-labelledby="tr-h"><h2 id="tr-h">${esc(t('call.transcript'))}</h2>${c.audio_uri ? `<label class="small muted"><input type="checkbox" id="follow" checked> ${esc(t('call.follow'))}</label>` : ''}<div class="transcript" id="transcript">
      ${turns.map((p, i) => `<div class="turn ${esc(p.role)}" data-turn="${i}"><div class="meta"><button class="link" data-seek="${p.start}">${clock(p.start)}</button><br><span class="role">${esc(role(p.role))}</span>${p.label ? `<br><span class="sent ${esc(p.label)}">${esc(sentimentLabel(p.label))}</span>` : ''}</div>
        <div class="line"><div class="words" translate="no">${p.words.map((w) => { const m = mentionAt(w); return `<span class="w${m ? ` mention ${esc(m.kind)}` : ''}" data-start="${w.start}" data-end="${w.end}"${m ? ` title="${esc(t(`marker.${m.kind}`, { text: m.term }))}"` : ''}>${m ? `<strong>${esc(w.text)}</strong>` : esc(w.text)}</span>`; }).join(' ')}</div>
        ${canComment ? `<div class="line-actions"><button class="link small" data-comment-line="${i}">${esc(t('comments.comment'))}</button> <button class="link small sel-comment" data-comment-words="${i}" hidden>${esc(t('comments.comment_words'))}</button></div>` : ''}</div>
        <div class="line-comments" id="line-${i}" aria-label="${esc(t('comments.on_this_line'))}"></div></div>`).join('')}
    </div></section>`;
  const player = $main.querySelector('#player');
  const seek = (time) => { if (!player) return; player.currentTime = Number(time); player.play().catch(() => {}); };
  $main.querySelectorAll('[data-seek]').forEach((el) => el.addEventListener('click', () => seek(el.dataset.seek)));
  $main.querySelectorAll('.w').forEach((el) => el.addEventListener('click', () => seek(el.dataset.start)));
  if (player) {
    const spans = [...$main.querySelectorAll('.w')];
    // The transcript follows playback: the line being played is kept in view
    // while the player runs, unless the user turned it off or is selecting words.
    const follow = $main.querySelector('#follow');
    let shown = null;
    player.addEventListener('timeupdate', () => {
      const now = player.currentTime;
      spans.forEach((sp) => sp.classList.toggle('now', Number(sp.dataset.start) <= now && now < Number(sp.dataset.start) + 0.6));
      const current = spans.filter((sp) => Number(sp.dataset.start) <= now).pop();
      const turn = current && current.closest('.turn');
      $main.querySelectorAll('.turn.playing').forEach((el) => el !== turn && el.classList.remove('playing'));
      if (!turn) return;
      turn.classList.add('playing');
      const selecting = String(window.getSelection && window.getSelection()).length > 0;
      if (turn !== shown && follow && follow.checked && !player.paused && !selecting) turn.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      shown = turn;
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
  if (params.get('turn') != null) jumpToLine(turns, Number(params.get('turn')), Number(params.get('t')), player);
  const form = $main.querySelector('#comment-form');
  if (form) form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = $main.querySelector('#comment-text').value;
    try {
      await postComment(ctx, { text, at_s: player ? player.currentTime : null });
      $main.querySelector('#comment-text').value = '';
      flash(t('flash.comment_posted'));
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

// A search hit opened: its line marked and in view, the player at its start.
// The line is the utterance's turn where the page's turns are the stored ones
// (the sentiment timeline); otherwise, the line the time falls in.
function jumpToLine(turns, turn, at, player) {
  const fits = (p) => p && Number.isFinite(at) && at >= p.start - 0.05 && at <= p.end + 0.05;
  let i = fits(turns[turn]) || !Number.isFinite(at) ? turn : turns.findIndex(fits);
  if (i < 0 && Number.isFinite(at)) i = turns.reduce((best, p, j) => (Math.abs(p.start - at) < Math.abs(turns[best].start - at) ? j : best), 0);
  const el = $main.querySelector(`#transcript [data-turn="${i}"]`);
  if (el) {
    el.classList.add('found');
    el.setAttribute('aria-current', 'true');
    el.scrollIntoView({ block: 'center' });
  }
  if (player && Number.isFinite(at)) player.currentTime = at;
}

async function setUpSharing(callId) {
  const url = `/api/calls/${encodeURIComponent(callId)}/shares`;
  const list = async () => {
    const shares = await api(url);
    const el = $main.querySelector('#shares');
    if (!el) return;
    const who = (r) => (r.startsWith('team:') ? esc(t('share.whole_team')) : data((ME.sellers.find((u) => u.id === r) || { name: r }).name));
    el.innerHTML = shares.length ? `<ul>${shares.map((x) => `<li data-share="${esc(x.share_id)}">${x.recipients.map(who).join(', ')} · ${x.start_s != null ? esc(t('share.clip_range', { from: clock(x.start_s), to: clock(x.end_s) })) : esc(t('share.whole_call'))}${x.note ? ` · “<span translate="no">${esc(x.note)}</span>”` : ''}${x.collection ? ` · ${th('share.in_collection', { name: data(x.collection) })}` : ''} <span class="small muted">${th('share.by', { name: data(x.created_by_name) })}</span>
        ${x.created_by === ME.user.id || ME.user.role === 'admin' ? `<button class="link small" data-revoke="${esc(x.share_id)}">${esc(t('share.revoke'))}</button>` : ''}</li>`).join('')}</ul>` : `<p class="empty small">${esc(t('share.not_yet'))}</p>`;
    el.querySelectorAll('[data-revoke]').forEach((b) => b.addEventListener('click', async () => {
      try { await api(`${url}/${encodeURIComponent(b.dataset.revoke)}`, { method: 'DELETE' }); await list(); flash(t('flash.share_revoked')); } catch (e) { flash(e.message); }
    }));
  };
  $main.querySelector('#share-selection').addEventListener('click', () => {
    const sel = window.getSelection();
    const picked = [...$main.querySelectorAll('#transcript .w')].filter((w) => sel && !sel.isCollapsed && sel.containsNode(w, true));
    if (!picked.length) { flash(t('flash.select_words_first')); return; }
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
      collection: $main.querySelector('#share-collection').value,
    };
    try { await api(url, { method: 'POST', body: JSON.stringify(body) }); ev.target.reset(); await list(); flash(t('flash.shared')); }
    catch (e) { flash(e.message); }
  });
  // The collections already in use, offered as the form's suggestions.
  api('/api/shared').then((all) => {
    const dl = $main.querySelector('#share-collections');
    if (dl) dl.innerHTML = [...new Set(all.map((x) => x.collection).filter(Boolean))].sort().map((n) => `<option value="${esc(n)}">`).join('');
  }).catch(() => {});
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
    <textarea rows="2" aria-label="${esc(t(quote ? 'comments.on_line_words_label' : 'comments.on_line_label', { line: i + 1 }))}" required></textarea>
    <button type="submit">${esc(t('comments.post_short'))}</button> <button type="button" class="ghost cancel">${esc(t('form.cancel'))}</button>`;
  box.prepend(form);
  form.querySelector('textarea').focus();
  form.querySelector('.cancel').addEventListener('click', () => form.remove());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { await postComment(ctx, { text: form.querySelector('textarea').value, ...anchor }); form.remove(); flash(t('flash.comment_posted')); }
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
      <div class="small muted"><strong translate="no">${esc(c.author_name)}</strong> (${esc(role(c.author_role))}) · ${esc(dateTime(c.created_at))}${c.edited_at ? ` · ${esc(t('comments.edited'))}` : ''}${!c.parent_id && c.turn == null && c.at_s != null ? ` · ${th('comments.at', { at: `<button class="link" data-seek="${c.at_s}">${clock(c.at_s)}</button>` })}` : ''}</div>
      ${!c.parent_id && c.turn != null && c.start_s != null && quoteOf(ctx, c) ? `<q class="quote" translate="no">${esc(quoteOf(ctx, c))}</q>` : ''}
      <div class="text" translate="no">${esc(c.text)}</div>
      ${c.author === ME.user.id ? `<button class="link small" data-edit="${esc(c.comment_id)}">${esc(t('comments.edit'))}</button> <button class="link small" data-delete="${esc(c.comment_id)}">${esc(t('comments.delete'))}</button>` : ''}</div>`;
  const thread = (root) => `<div class="thread" data-thread="${esc(root.comment_id)}">${one(root)}${replies(root).map(one).join('')}
      ${ctx.canComment ? `<button class="link small" data-reply="${esc(root.comment_id)}">${esc(t('comments.reply'))}</button>` : ''}</div>`;
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
    : `<p class="empty">${esc(t('comments.none_on_call'))}</p>`;
  $main.querySelector('#line-count').textContent = onLine.length ? t('comments.threads_on_lines', { count: onLine.length }) : '';
  // Markers on the timeline: one per thread on a line; a click shows the thread.
  const W = 800;
  $main.querySelector('#comment-marks').innerHTML = onLine.map((r) => {
    const t0 = r.start_s ?? ctx.turns[r.turn].start, x = (t0 / ctx.duration) * W;
    return `<g class="comment-marker" data-goto="${esc(r.comment_id)}" style="cursor:pointer"><polygon points="${x - 6},0 ${x + 6},0 ${x},12" fill="#e0a800"></polygon><title>${esc(r.author_name)} (${clock(t0)}): ${esc(r.text)}</title></g>`;
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
    try { await api(url(b.dataset.delete), { method: 'DELETE' }); await reload(); flash(t('flash.comment_deleted')); } catch (e) { flash(e.message); }
  }));
  $main.querySelectorAll('#comments [data-edit], .line-comments [data-edit]').forEach((b) => b.addEventListener('click', () => {
    const el = b.closest('.comment'), c = byId.get(b.dataset.edit);
    const form = document.createElement('form');
    form.className = 'edit-form';
    form.innerHTML = `<textarea rows="2" aria-label="${esc(t('comments.edit_label'))}" required>${esc(c.text)}</textarea><button type="submit">${esc(t('form.save'))}</button> <button type="button" class="ghost cancel">${esc(t('form.cancel'))}</button>`;
    el.querySelector('.text').replaceWith(form);
    form.querySelector('.cancel').addEventListener('click', reload);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await api(url(c.comment_id), { method: 'PATCH', body: JSON.stringify({ text: form.querySelector('textarea').value }) }); await reload(); flash(t('flash.comment_saved')); }
      catch (e) { flash(e.message); }
    });
  }));
  $main.querySelectorAll('#comments [data-reply], .line-comments [data-reply]').forEach((b) => b.addEventListener('click', () => {
    const form = document.createElement('form');
    form.className = 'reply-form';
    form.innerHTML = `<textarea rows="2" aria-label="${esc(t('comments.reply_label'))}" required></textarea><button type="submit">${esc(t('comments.post_reply'))}</button> <button type="button" class="ghost cancel">${esc(t('form.cancel'))}</button>`;
    b.replaceWith(form);
    form.querySelector('textarea').focus();
    form.querySelector('.cancel').addEventListener('click', reload);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await postComment(ctx, { text: form.querySelector('textarea').value, parent_id: b.dataset.reply }); flash(t('flash.reply_posted')); }
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
  const msg = e.status === 403 ? t('error.no_access_text') : e.status === 404 ? t('error.not_found_text') : e.message;
  const title = e.status === 403 ? t('error.no_access') : e.status === 404 ? t('error.not_found') : t('error.other');
  $main.innerHTML = `<h1>${esc(title)}</h1><div class="card" role="alert"><p>${esc(msg)}</p><p><a href="#/">${esc(t('error.back'))}</a></p></div>`;
}

// ---------- search ----------
// The header's box: a phrase, searched over everything the user may see.
function setUpSearchBox() {
  const form = document.getElementById('search');
  const input = document.getElementById('search-q');
  form.hidden = false;
  input.setAttribute('aria-label', t('search.label'));
  input.placeholder = t('search.placeholder');
  document.getElementById('search-go').textContent = t('search.submit');
  if (!form.dataset.ready) {
    form.dataset.ready = '1';
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const q = input.value.trim();
      if (!q) return;
      // Within the period on screen, if the page has one.
      const p = new URLSearchParams({ q });
      const { params } = route();
      if (params.get('from') && params.get('to')) { p.set('from', params.get('from')); p.set('to', params.get('to')); }
      go('/search', p);
    });
  }
}

// A snippet as HTML: its text escaped, the matches (character ranges, as
// Array.from counts them) wrapped in <mark>. Never the server's text as HTML.
function highlighted(snippet, highlights) {
  const chars = Array.from(snippet);
  let out = '', at = 0;
  for (const [s, e] of highlights) {
    if (s < at || e > chars.length) continue;
    out += `${esc(chars.slice(at, s).join(''))}<mark>${esc(chars.slice(s, e).join(''))}</mark>`;
    at = e;
  }
  return out + esc(chars.slice(at).join(''));
}

async function showSearch(params) {
  const q = params.get('q') || '';
  const to = params.get('to') || day(new Date());
  const from = params.get('from') || presetRange('365')[0];
  const saidBy = params.get('said_by') || '';
  const seller = params.get('seller') || '';
  document.getElementById('search-q').value = q;
  const sellers = ME.user.role === 'seller' ? [] : ME.sellers;
  $main.innerHTML = `<h1>${esc(t('search.title'))}</h1>
    <form class="card filters" id="search-form" role="search">
      <label>${esc(t('search.phrase'))}<input type="search" id="search-phrase" value="${esc(q)}" maxlength="200" required></label>
      <label>${esc(t('search.said_by'))}<select id="search-said-by">${['', 'seller', 'customer'].map((v) => `<option value="${v}" ${v === saidBy ? 'selected' : ''}>${esc(t(v ? `role.${v}` : 'search.anyone'))}</option>`).join('')}</select></label>
      ${sellers.length ? `<label>${esc(t('filters.seller'))}<select id="search-seller"><option value="">${esc(t('search.all_sellers'))}</option>${sellers.map((u) => `<option value="${esc(u.id)}" translate="no" ${u.id === seller ? 'selected' : ''}>${esc(u.name)}</option>`).join('')}</select></label>` : ''}
      <label>${esc(t('filters.from'))}<input type="date" id="search-from" value="${esc(from)}"></label>
      <label>${esc(t('filters.to'))}<input type="date" id="search-to" value="${esc(to)}"></label>
      <button type="submit">${esc(t('search.submit'))}</button>
    </form>
    <section class="card" aria-labelledby="hits-h"><h2 id="hits-h">${esc(t('search.results'))}</h2><div id="search-results">${q ? `<p class="loading">${esc(t('page.loading'))}</p>` : `<p class="empty">${esc(t('search.hint'))}</p>`}</div></section>`;
  $main.querySelector('#search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams({ q: $main.querySelector('#search-phrase').value.trim(), from: $main.querySelector('#search-from').value, to: $main.querySelector('#search-to').value });
    const by = $main.querySelector('#search-said-by').value;
    if (by) p.set('said_by', by);
    const who = $main.querySelector('#search-seller');
    if (who && who.value) p.set('seller', who.value);
    go('/search', p);
  });
  if (!q) return;
  const apiQuery = new URLSearchParams({ q, from, to });
  if (saidBy) apiQuery.set('said_by', saidBy);
  if (seller) apiQuery.set('seller', seller);
  const live = viewToken();
  let r;
  const $results = $main.querySelector('#search-results');
  try { r = await api(`/api/search?${apiQuery}`); }
  catch (e) {
    if (!live()) return;
    if (e.status === 400) { $results.innerHTML = `<p class="empty" role="alert">${esc(t('search.too_short'))}</p>`; return; }
    return showError(e);
  }
  if (!live()) return;
  if (!r.hits.length) { $results.innerHTML = `<p class="empty">${esc(t('search.none'))}</p>`; return; }
  $results.innerHTML = `<p class="small muted" id="hit-count">${esc(t(r.more ? 'search.count_more' : 'search.count', { count: r.hits.length }))}</p>
    <ol class="hits">${r.hits.map((h) => `<li><a class="hit" href="#/call/${encodeURIComponent(h.call_id)}?${new URLSearchParams({ turn: h.turn, t: h.start_s })}" data-call="${esc(h.call_id)}" data-turn="${esc(h.turn)}">
      <span class="meta">${esc(dateTime(h.started_at))} · ${data(h.seller_name)} · ${esc(t('search.said', { role: role(h.role), at: clock(h.start_s) }))}</span>
      <span class="snippet" translate="no">${highlighted(h.snippet, h.highlights)}</span></a></li>`).join('')}</ol>`;
}

// ---------- router ----------
async function render() {
  VIEW += 1;
  if (!ME) {
    try { ME = await api('/api/me'); }
    catch (e) { if (e.status === 401) return showLogin(); return showError(e); }
  }
  $who.innerHTML = `<a href="#/library" id="library-link">${esc(t('library.link'))}</a> <span translate="no">${esc(ME.user.name)}</span> (${esc(role(ME.user.role))}) <button class="ghost" id="logout">${esc(t('login.sign_out'))}</button>`;
  $who.querySelector('#logout').addEventListener('click', async () => { await api('/api/auth/logout', { method: 'POST' }); ME = null; location.hash = '#/'; render(); });
  setUpSearchBox();
  const { parts, params } = route();
  if (parts[0] === 'call' && parts[1]) return showCall(decodeURIComponent(parts[1]), params);
  if (parts[0] === 'seller' && parts[1]) return showSeller(decodeURIComponent(parts[1]), params);
  if (parts[0] === 'library') return showLibrary();
  if (parts[0] === 'search') return showSearch(params);
  const first = ME.user.role === 'seller' ? ME.user.id : (ME.sellers[0] && ME.sellers[0].id);
  if (!first) { $main.innerHTML = `<h1>${esc(t('empty.no_sellers'))}</h1><p class="empty">${esc(t('empty.no_sellers_text'))}</p>`; return; }
  go(`/seller/${first}`, params);
}
window.addEventListener('hashchange', () => { render(); $main.focus(); });

// Start: the languages the server has, the user's language, then the page.
(async () => {
  try { LANGUAGES = await loadJson('/i18n/languages.json'); } catch (_) { LANGUAGES = { en: 'English' }; }
  // A catalogue that does not load leaves the page in English (or, without
  // English either, showing its keys) rather than blank.
  try { await setLanguage(pickLanguage()); } catch (_) { await setLanguage('en').catch(() => {}); }
  document.getElementById('lang').addEventListener('change', async (ev) => {
    localStorage.setItem(LANG_KEY, ev.target.value);
    await setLanguage(ev.target.value);
    render();
  });
  render();
})();
