// End-to-end tests of the seller insights page in a real headless Chromium.
// Run by tests/browser/run.sh, which starts `callscope serve` on 127.0.0.1 with
// the sample calls and sets CALLSCOPE_URL. Screenshots go to SCREENSHOT_DIR.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BASE = process.env.CALLSCOPE_URL;
const SHOTS = process.env.SCREENSHOT_DIR || 'screenshots';
const RANGE = 'from=2026-10-01&to=2026-10-31';
// Two months against the two before: the generated calls (samples/team-calls)
// give every seller enough calls in both for trends and coaching.
const LONG = 'from=2026-10-01&to=2026-11-30';
assert.ok(BASE, 'CALLSCOPE_URL is not set');
mkdirSync(SHOTS, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
});
let failures = 0;
// English unless a test asks for another locale (and time zone).
// ONLY=<part of a name> runs just the tests whose name has it (for local runs).
async function test(name, fn, options = {}) {
  if (process.env.ONLY && !name.includes(process.env.ONLY)) return;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // The server's Content-Security-Policy must not block anything the page does.
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(m.text()); });
  try {
    await fn(page, context);
    assert.deepEqual(errors, [], 'no JavaScript errors or CSP violations on the page');
    // Every string the page showed was in its language's catalogue.
    assert.deepEqual(await page.evaluate(() => window.__i18nMissing), [], 'no missing translations');
    console.log(`ok - ${name}`);
  } catch (e) {
    failures += 1;
    console.log(`not ok - ${name}\n  ${String(e.stack || e).split('\n').join('\n  ')}`);
    await page.screenshot({ path: `${SHOTS}/failed-${name.replace(/\W+/g, '-')}.png`, fullPage: true }).catch(() => {});
  } finally {
    await context.close();
  }
}

async function login(page, name) {
  await page.goto(`${BASE}/`);
  await page.getByRole('button', { name: new RegExp(name) }).click();
  await page.waitForSelector('.who button#logout');
}

async function api(page, path) {
  return page.evaluate(async (p) => {
    const r = await fetch(p, { credentials: 'same-origin' });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, path);
}

// The coaching table's rows as shown (KPI, top performers, others), and as the
// API's report says they should be.
function differenceRows(page) {
  return page.locator('#coaching table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].slice(0, 3).map((c) => c.innerText)));
}
function expectedDifferences(report) {
  const fmt = (kpi, v) => (kpi === 'avg_talk_ratio' || kpi === 'positive_share' ? pct(v) : v.toFixed(1));
  return report.differences.map((d) => [d.label, fmt(d.kpi, d.top_performers), fmt(d.kpi, d.others)]);
}

function pct(v) { return v == null ? 'n/a' : `${Math.round(v * 100)}%`; }

await test('manager sees a seller page whose KPIs match the store', async (page) => {
  await login(page, 'Maria Lopez');
  await page.goto(`${BASE}/#/seller/s-daniel?${RANGE}&preset=custom`);
  await page.waitForSelector('[data-kpi="avg_talk_ratio"]');
  assert.equal(await page.locator('html').getAttribute('lang'), 'en', 'the browser is English');
  const { status, body } = await api(page, `/api/sellers/s-daniel/insights?${RANGE}`);
  assert.equal(status, 200);
  const s = body.summary;
  assert.ok(s.calls >= 1, 'the sample call is in the store');
  const card = async (label) => page.locator(`[data-kpi="${label}"] .value`).innerText();
  assert.equal(await card('avg_talk_ratio'), pct(s.avg_talk_ratio));
  assert.equal(await card('avg_seller_wpm'), `${Math.round(s.avg_seller_wpm)} wpm`);
  assert.equal(await card('switches_per_call'), s.switches_per_call.toFixed(1));
  assert.equal(await card('avg_longest_customer_monologue_s'), `${s.avg_longest_customer_monologue_s.toFixed(1)} s`);
  assert.equal(await card('avg_pause_s'), `${s.avg_pause_s.toFixed(1)} s`);
  assert.match(await page.locator('[data-kpi="avg_talk_ratio"] .label').innerText(), /^Talk-to-listen ratio$/);
  // Competitors customers mention, from the store; a click filters the history
  // to the calls where the customer said it.
  assert.equal(body.competitors_said_by, 'customer');
  assert.ok(body.competitors.length >= 1, 'a competitor said by a customer');
  const chipCounts = async () => page.locator('[data-competitor]').evaluateAll((bs) => bs.map((b) => [b.dataset.competitor, Number(b.querySelector('.count').innerText)]));
  assert.deepEqual(await chipCounts(), body.competitors.map((c) => [c.term, c.by_customer]));
  const first = body.competitors[0];
  await page.locator(`[data-competitor="${first.term}"]`).click();
  await page.waitForSelector('#hist-filter #clear');
  assert.match(await page.locator('#hist-filter').innerText(), /where the customer mentions/);
  assert.match(await page.locator('#history').innerText(), new RegExp(`\\b${first.customer_calls} calls? · page`));
  // Names, not user ids; contact links for another user's page.
  assert.equal(await page.locator('#style-top').count(), 1);
  assert.doesNotMatch(await page.locator('main').innerText(), /\b[sma]-[a-z]+\b/, 'no user ids on the page');
  assert.equal(await page.locator('#contact a[href^="mailto:"]').count(), 1, 'the manager can email the seller');
  // The seller picker lists only Maria's team.
  const options = await page.locator('#seller option').allInnerTexts();
  assert.deepEqual(options.sort(), ['Daniel Price', 'Lena Fischer', 'Omar Haddad', 'Sofia Marin']);
  // Coaching section renders for a manager.
  await page.waitForSelector('#coaching h3');
  await page.screenshot({ path: `${SHOTS}/manager-view.png`, fullPage: true });
  // On request, the seller's own mentions count too.
  await page.locator('#seller-mentions').check();
  await page.waitForSelector('#comp-h:has-text("Competitors mentioned")');
  const all = (await api(page, `/api/sellers/s-daniel/insights?${RANGE}&competitors_said_by=anyone`)).body;
  assert.deepEqual(await chipCounts(), all.competitors.map((c) => [c.term, c.mentions]));
  assert.ok(all.competitors.some((c) => c.mentions > c.by_customer), 'Daniel names competitors himself too');
});

await test('trends, coaching flags and the top performers match the store', async (page) => {
  await login(page, 'Maria Lopez');
  await page.goto(`${BASE}/#/seller/s-daniel?${LONG}&preset=custom`);
  await page.waitForSelector('#coaching table');
  const { body } = await api(page, `/api/sellers/s-daniel/insights?${LONG}`);
  assert.ok(body.summary.calls >= 3 && body.previous.calls >= 3, 'enough calls in both periods');
  assert.ok(body.trends.length >= 1, `trends: ${body.trends_note}`);
  // Every trend sentence of the API is on the page, with its numbers: the
  // English page renders the sentences' data ({kind, values}) as the API's text.
  const trends = await page.locator('.trends li').allInnerTexts();
  assert.deepEqual(trends, body.trends.map((t) => t.text));
  assert.ok(body.trends.every((t) => t.message && t.message.values.kpi === t.kpi), 'each trend as data');
  const talk = body.trends.find((t) => t.kpi === 'avg_talk_ratio');
  assert.ok(talk, 'the talk ratio changed');
  assert.ok(trends.some((x) => x.startsWith(`Talk ratio rose from ${pct(talk.previous)} to ${pct(talk.current)}`)), trends.join(' | '));
  // Coaching: the flags and the top performers' table, against the API.
  const coaching = (await api(page, `/api/teams/crm/coaching?${LONG}`)).body;
  const me = (await api(page, '/api/me')).body;
  const name = (id) => me.sellers.find((u) => u.id === id).name;
  const daniel = coaching.sellers.find((x) => x.seller_id === 's-daniel');
  assert.ok(daniel.flags.length >= 1, 'Daniel is flagged');
  const flags = await page.locator('#coaching [data-seller="s-daniel"] .flag > div:first-child').allInnerTexts();
  assert.deepEqual(flags, daniel.flags.map((f) => f.reason));
  assert.ok(coaching.top_performers.length >= 1, 'a top performer');
  const topLine = await page.locator('#coaching #top-line').innerText();
  for (const id of coaching.top_performers) assert.ok(topLine.includes(name(id)), `${name(id)} in "${topLine}"`);
  assert.deepEqual(await differenceRows(page), expectedDifferences(coaching));
  // Example calls per difference: the top performers' calls on their side of
  // the midpoint, linked from the table, and each opens the call.
  const evidence = (await api(page, `/api/teams/crm/coaching/evidence?${LONG}`)).body;
  assert.deepEqual(evidence.map((k) => k.kpi), coaching.differences.map((d) => d.kpi));
  assert.ok(evidence.some((k) => k.calls.length >= 2), 'a difference with two or more example calls');
  for (const k of evidence) {
    for (const c of k.calls) {
      assert.ok(coaching.top_performers.includes(c.seller_id), `${c.call_id} is a top performer's`);
      const mid = (k.top_performers + k.others) / 2;
      if (k.kpi !== 'positive_share') assert.ok(k.top_performers > k.others ? c.value > mid : c.value < mid, `${k.kpi}: ${c.value} on the top side of ${mid}`);
    }
    await page.waitForFunction((kpi) => !document.querySelector(`#differences tr[data-kpi="${kpi}"] .examples`).innerText.startsWith('…'), k.kpi);
    const links = await page.locator(`#differences tr[data-kpi="${k.kpi}"] .examples a`).evaluateAll((as) => as.map((a) => a.dataset.call));
    assert.deepEqual(links, k.calls.map((c) => c.call_id));
  }
  await page.screenshot({ path: `${SHOTS}/coaching-view.png`, fullPage: true });
  const first = evidence.find((k) => k.calls.length).calls[0];
  await page.locator(`#differences a[data-call="${first.call_id}"]`).first().click();
  await page.waitForSelector('#transcript');
  assert.match(await page.locator('h1').innerText(), new RegExp(name(first.seller_id)), 'the example call opens');
});

await test('a late answer for a range the user left does not fill the page they moved to', async (page) => {
  await login(page, 'Maria Lopez');
  // The team report for the first range is held back until the second range's
  // page is filled; then it arrives, late.
  const FIRST = 'from=2026-11-16&to=2026-11-30';
  let release;
  const held = new Promise((r) => { release = r; });
  let holding = true; // the page's own request only, not the test's below
  await page.route('**/api/teams/*/coaching?*', async (route) => {
    if (holding && route.request().url().includes(FIRST)) { holding = false; await held; }
    await route.continue();
  });
  // The first range's page asks for its report (and is held) before the user moves on.
  const asked = page.waitForRequest((r) => r.url().includes(`coaching?${FIRST}`));
  await page.goto(`${BASE}/#/seller/s-daniel?${FIRST}&preset=custom`);
  await asked;
  await page.goto(`${BASE}/#/seller/s-daniel?${LONG}&preset=custom`);
  await page.waitForSelector('#coaching #top-line');
  const coaching = (await api(page, `/api/teams/crm/coaching?${LONG}`)).body;
  const first = (await api(page, `/api/teams/crm/coaching?${FIRST}`)).body;
  // The two ranges' reports differ, so a late one would show.
  assert.notDeepEqual(expectedDifferences(first), expectedDifferences(coaching), 'the ranges differ');
  assert.deepEqual(await differenceRows(page), expectedDifferences(coaching));
  const late = page.waitForResponse((r) => r.url().includes(`coaching?${FIRST}`));
  release();
  await late;
  await api(page, '/api/me'); // one more round trip: the late answer has been handled
  assert.deepEqual(await differenceRows(page), expectedDifferences(coaching), 'the page still shows the range asked for');
  assert.match(await page.locator('#from').inputValue(), /^2026-10-01$/);
});

await test('call page plays audio and a transcript word seeks', async (page) => {
  await login(page, 'Maria Lopez');
  await page.goto(`${BASE}/#/seller/s-daniel?${RANGE}&preset=custom`);
  await page.locator('#history a[href="#/call/dev-01-crm-discovery"]').click();
  await page.waitForSelector('#player');
  assert.match(await page.locator('h1').innerText(), /Daniel Price/, 'the seller by name');
  const player = page.locator('#player');
  await page.waitForFunction(() => document.querySelector('#player').readyState >= 1, null, { timeout: 15000 });
  const duration = await player.evaluate((a) => a.duration);
  assert.ok(duration > 100 && duration < 120, `duration ${duration}`);
  await player.evaluate((a) => a.play());
  await page.waitForFunction(() => document.querySelector('#player').currentTime > 0.2, null, { timeout: 15000 });
  // Click a word in the middle of the transcript: the player seeks to its start.
  const word = page.locator('.w').nth(120);
  const start = Number(await word.getAttribute('data-start'));
  await word.click();
  await page.waitForFunction((t) => Math.abs(document.querySelector('#player').currentTime - t) < 1.0, start, { timeout: 15000 });
  assert.ok(start > 10, `the 121st word starts at ${start}s`);
  // The transcript follows playback: the line being played is marked and in view.
  await page.waitForFunction(() => {
    const el = document.querySelector('.turn.playing');
    const r = el && el.getBoundingClientRect();
    return r && r.bottom > 0 && r.top < window.innerHeight;
  }, null, { timeout: 15000 });
  // Questions listed per side, as the API has them; mentions bold in the transcript.
  const detail = (await api(page, '/api/calls/dev-01-crm-discovery')).body;
  for (const side of ['seller', 'customer']) {
    const listed = await page.locator(`#call-questions [data-side="${side}"] li`).allInnerTexts();
    const want = detail.signals.questions.filter((q) => q.role === side);
    assert.equal(listed.length, want.length, `${side} questions`);
    want.forEach((q, i) => assert.ok(listed[i].includes(q.text), `${listed[i]} ~ ${q.text}`));
  }
  const bold = await page.locator('#transcript .w.mention').evaluateAll((ws) => ws.map((w) => Number(w.dataset.start)));
  assert.ok(detail.signals.mentions.length > 0, 'the call has mentions');
  for (const m of detail.signals.mentions) assert.ok(bold.some((t) => t >= m.start - 0.06 && t <= m.end + 0.06), `"${m.matched}" at ${m.start}s is bold`);
  // Signals and action items are on the page.
  assert.match(await page.locator('#sum-h + p').innerText(), /Customer sentiment/);
  assert.ok((await page.locator('text=I will send the proposal today').count()) >= 1);
  await player.evaluate((a) => a.pause());
  await page.screenshot({ path: `${SHOTS}/call-page.png`, fullPage: true });
});

const COMMENT = `Good discovery question here — ask about budget next time (${Date.now()})`;
const WORDS_COMMENT = `These words: slow down here (${Date.now()})`;
// A transcript-only call (no recording): comments sit on its lines all the same.
const CALL = 'tc-daniel-10';
await test('a comment on a transcript line shows on that line for the seller, and a reply is threaded', async (page) => {
  await login(page, 'Maria Lopez');
  await page.goto(`${BASE}/#/call/${CALL}`);
  await page.waitForSelector('#transcript .turn');
  assert.equal(await page.locator('#player').count(), 0, 'no recording for this call');
  // A line: "Comment" beside it.
  await page.locator('[data-comment-line="2"]').click();
  await page.fill('#line-2 .line-form textarea', COMMENT);
  await page.locator('#line-2 .line-form button[type="submit"]').click();
  await page.waitForSelector(`#line-2 .thread .comment:has-text("${COMMENT}")`);
  await page.waitForSelector('#line-2 .line-form', { state: 'detached' });
  const call = (await api(page, `/api/calls/${CALL}`)).body;
  const turn2 = call.signals.sentiment.timeline[2];
  let comments = (await api(page, `/api/calls/${CALL}/comments`)).body;
  const root = comments.find((c) => c.text === COMMENT);
  assert.deepEqual([root.turn, root.start_s, root.end_s], [2, turn2.start, turn2.end], 'stored on line 2 with its times');
  assert.ok(await page.locator(`.comment-marker[data-goto="${root.comment_id}"]`).count() === 1, 'a marker on the timeline');
  // Words: select two words of line 3, then "Comment on the selected words".
  const picked = await page.evaluate(() => {
    const ws = [...document.querySelectorAll('.turn[data-turn="3"] .w')].slice(1, 3);
    const r = document.createRange();
    r.setStartBefore(ws[0]); r.setEndAfter(ws[1]);
    const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);
    document.querySelector('#transcript').dispatchEvent(new MouseEvent('mouseup', { bubbles: true }));
    return { start: Number(ws[0].dataset.start), end: Number(ws[1].dataset.end), text: `${ws[0].textContent} ${ws[1].textContent}` };
  });
  await page.locator('[data-comment-words="3"]').click();
  await page.fill('#line-3 .line-form textarea', WORDS_COMMENT);
  await page.locator('#line-3 .line-form button[type="submit"]').click();
  await page.waitForSelector(`#line-3 .thread .comment:has-text("${WORDS_COMMENT}")`);
  assert.equal(await page.locator(`#line-3 .thread .quote`).innerText(), picked.text);
  comments = (await api(page, `/api/calls/${CALL}/comments`)).body;
  const words = comments.find((c) => c.text === WORDS_COMMENT);
  assert.deepEqual([words.turn, words.start_s, words.end_s], [3, picked.start, picked.end]);
  assert.equal(await page.locator('.turn[data-turn="3"] .w.commented').count(), 2, 'the words are marked');
  await page.screenshot({ path: `${SHOTS}/call-comments.png`, fullPage: true });
  // Maria shares one of Sofia's calls with Daniel alone, in a collection.
  const sofias = (await api(page, `/api/sellers/s-sofia/calls?${LONG}`)).body.items;
  const sharedCall = sofias[0].call_id;
  const made = await page.evaluate(async ([id, collection]) => {
    const r = await fetch(`/api/calls/${encodeURIComponent(id)}/shares`, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ sellers: ['s-daniel'], note: 'How Sofia opens', collection }) });
    return { status: r.status, body: await r.json() };
  }, [sharedCall, 'Great openings']);
  assert.equal(made.status, 201, JSON.stringify(made.body));

  await page.locator('#logout').click();
  await page.waitForSelector('text=Demo login');
  await login(page, 'Daniel Price');
  // The seller lands on their own page, with no seller picker.
  await page.waitForSelector('#preset');
  assert.equal(await page.locator('#seller').count(), 0, 'no seller picker for a seller');
  await page.goto(`${BASE}/#/seller/s-daniel?${LONG}&preset=custom`);
  await page.waitForSelector('[data-kpi="avg_talk_ratio"]');
  // The manager's comment is on the seller's own page too, under her name.
  await page.waitForSelector(`#seller-comments .comment:has-text("${COMMENT}")`);
  assert.match(await page.locator(`#seller-comments .comment:has-text("${COMMENT}")`).innerText(), /Maria Lopez/);
  // New comments for the seller: every comment of the list by someone else is
  // new on this first visit, and none is on the next.
  const listed = (await api(page, `/api/sellers/s-daniel/comments?${LONG}`)).body;
  const byOthers = listed.filter((c) => c.author !== 's-daniel').length;
  assert.ok(byOthers >= 2, `${byOthers} comments by others`);
  assert.equal(await page.locator('#new-comments').innerText(), `${byOthers} new comments for you since your last visit`);
  assert.match(await page.locator(`#seller-comments .comment.new:has-text("${COMMENT}")`).innerText(), /^New /);
  await page.reload();
  await page.waitForSelector(`#seller-comments .comment:has-text("${COMMENT}")`);
  assert.equal(await page.locator('#new-comments').count(), 0, 'seen on the first visit');
  assert.equal(await page.locator('#seller-comments .comment.new').count(), 0);
  // The seller sees their own coaching areas, and no contact links to themselves.
  const own = (await api(page, `/api/sellers/s-daniel/insights?${LONG}`)).body;
  assert.ok(own.coaching && own.coaching.flags.length >= 1, 'Daniel has coaching areas');
  assert.equal(await page.locator('#own-h').innerText(), 'Your coaching areas');
  assert.deepEqual(await page.locator('#own-coaching .flag > div:first-child').allInnerTexts(), own.coaching.flags.map((f) => f.reason));
  assert.equal(await page.locator('#contact').count(), 0, 'no Email/Chat to oneself');
  assert.doesNotMatch(await page.locator('main').innerText(), /\b[sma]-[a-z]+\b/, 'no user ids on the page');
  // Shared with him: Sofia's call, under its collection, and nothing else of hers.
  await page.waitForSelector(`#shared [data-collection="Great openings"] li[data-share="${made.body.share_id}"]`);
  assert.equal((await api(page, `/api/calls/${sofias[1].call_id}`)).status, 404, "Sofia's other calls stay closed");
  await page.screenshot({ path: `${SHOTS}/seller-view.png`, fullPage: true });
  // On the call, the comment is beside line 2; the seller replies in its thread.
  await page.goto(`${BASE}/#/call/${CALL}`);
  await page.waitForSelector(`#line-2 .thread .comment:has-text("${COMMENT}")`);
  await page.locator(`#line-2 [data-thread="${root.comment_id}"] [data-reply]`).click();
  await page.fill('#line-2 .reply-form textarea', 'Thanks, will do.');
  await page.getByRole('button', { name: 'Post reply' }).click();
  await page.waitForSelector(`#line-2 [data-thread="${root.comment_id}"] .comment.reply:has-text("Thanks, will do.")`);
  comments = (await api(page, `/api/calls/${CALL}/comments`)).body;
  const reply = comments.find((c) => c.text === 'Thanks, will do.');
  assert.equal(reply.parent_id, root.comment_id, 'threaded under the manager\'s comment');
  assert.equal(reply.turn, 2);
  // The seller edits their own reply; the manager's comment offers them no Edit.
  assert.equal(await page.locator(`[data-comment="${root.comment_id}"] [data-edit]`).count(), 0);
  await page.locator(`[data-comment="${reply.comment_id}"] [data-edit]`).click();
  await page.fill(`[data-comment="${reply.comment_id}"] .edit-form textarea`, 'Thanks, will do on the next call.');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForSelector(`[data-comment="${reply.comment_id}"]:has-text("Thanks, will do on the next call.")`);
  assert.match(await page.locator(`[data-comment="${reply.comment_id}"]`).innerText(), /edited/);
});

await test('a general comment at the playback time on a recorded call', async (page) => {
  await login(page, 'Maria Lopez');
  await page.goto(`${BASE}/#/call/dev-01-crm-discovery`);
  await page.waitForSelector('#comment-text');
  const text = `On the whole call (${Date.now()})`;
  await page.fill('#comment-text', text);
  await page.getByRole('button', { name: 'Post comment' }).click();
  await page.waitForSelector(`#comments .comment:has-text("${text}")`);
  // Its author may delete it.
  await page.locator(`#comments .comment:has-text("${text}") [data-delete]`).click();
  await page.waitForSelector(`#comments .comment:has-text("${text}")`, { state: 'detached' });
});

const NOTE = `Listen to how Daniel opens (${Date.now()})`;
const COLLECTION = `Great openings ${Date.now()}`;
await test('a shared clip opens for another seller of the team and not for a seller of another team', async (page) => {
  await login(page, 'Maria Lopez');
  await page.goto(`${BASE}/#/call/${CALL}`);
  await page.waitForSelector('#share-form');
  await page.locator('#share-team').check();
  await page.fill('#share-from', '2');
  await page.fill('#share-to', '9.5');
  await page.fill('#share-note', NOTE);
  await page.fill('#share-collection', COLLECTION);
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  await page.waitForSelector(`#shares li:has-text("the whole team")`);
  const shares = (await api(page, `/api/calls/${CALL}/shares`)).body;
  const share = shares.find((x) => x.note === NOTE);
  assert.deepEqual([share.recipients, share.start_s, share.end_s, share.collection], [['team:crm'], 2, 9.5, COLLECTION]);
  // Maria's call library: the clip, filed in its collection.
  await page.locator('#library-link').click();
  await page.waitForSelector(`#library [data-collection="${COLLECTION}"] li[data-share="${share.share_id}"]`);
  assert.equal(await page.locator(`#library [data-collection="${COLLECTION}"] h3`).innerText(), COLLECTION);
  await page.locator('#logout').click();
  await page.waitForSelector('text=Demo login');
  // Sofia, of Daniel's team: on her page, and it opens at the clip, without Daniel's comments.
  await login(page, 'Sofia Marin');
  await page.waitForSelector(`#shared [data-collection="${COLLECTION}"] li[data-share="${share.share_id}"]`);
  assert.match(await page.locator(`#shared li[data-share="${share.share_id}"]`).innerText(), new RegExp(`clip 0:02–0:09 · shared by Maria Lopez[\\s\\S]*${NOTE.replace(/[()]/g, '\\$&')}`));
  await page.locator(`#shared li[data-share="${share.share_id}"] a`).click();
  await page.waitForSelector('#shared-banner');
  assert.match(await page.locator('#shared-banner').innerText(), /Shared with you by Maria Lopez — a clip, 0:02–0:09/);
  // Only the clip: its lines and words (with the server's 0.25 s margin), said so.
  assert.match(await page.locator('#clip-only').innerText(), /Only the shared clips/);
  const words = await page.locator('#transcript .w').evaluateAll((ws) => ws.map((w) => [Number(w.dataset.start), Number(w.dataset.end)]));
  assert.ok(words.length >= 3 && words.every(([s, e]) => s >= 1.75 && e <= 9.75), `only the clip's words: ${JSON.stringify(words)}`);
  const clip = await page.locator('#transcript .w.clip').evaluateAll((ws) => ws.map((w) => [Number(w.dataset.start), Number(w.dataset.end)]));
  assert.ok(clip.length >= 3 && clip.every(([s, e]) => s >= 2 && e <= 9.5), `the clip's words are marked: ${JSON.stringify(clip)}`);
  assert.equal(await page.locator('#comments').count(), 0, "no comments of Daniel's");
  assert.equal((await api(page, `/api/calls/${CALL}/comments`)).status, 404);
  assert.equal((await api(page, '/api/sellers/s-daniel/insights')).status, 403, "nothing else of Daniel's");
  await page.screenshot({ path: `${SHOTS}/shared-clip.png`, fullPage: true });
  await page.locator('#logout').click();
  await page.waitForSelector('text=Demo login');
  // Rachel, of another team: nothing shared, and the call does not exist for her.
  await login(page, 'Rachel Stone');
  await page.waitForSelector('#shared .empty');
  await page.locator('#library-link').click();
  await page.waitForSelector('#library');
  assert.equal(await page.locator(`#library [data-collection="${COLLECTION}"]`).count(), 0, "not in another team's library");
  await page.goto(`${BASE}/#/call/${CALL}`);
  await page.waitForSelector('h1:has-text("Not found")');
  assert.equal((await api(page, `/api/calls/${CALL}`)).status, 404);
});

await test("a seller cannot reach another seller's call", async (page) => {
  await login(page, 'Daniel Price');
  await page.goto(`${BASE}/#/call/dev-02-security-renewal-unhappy`);
  // Another seller's call is answered like a call that does not exist.
  await page.waitForSelector('h1:has-text("Not found")');
  assert.equal((await api(page, '/api/calls/dev-02-security-renewal-unhappy')).status, 404);
  assert.equal((await api(page, '/api/calls/dev-02-security-renewal-unhappy/comments')).status, 404);
  assert.equal((await api(page, '/api/sellers/s-rachel/insights')).status, 403);
  const audio = await page.evaluate(async () => (await fetch('/api/calls/dev-05-endpoint-expansion/audio')).status);
  assert.equal(audio, 404);
});

await test('the page works at phone width', async (page) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await login(page, 'Maria Lopez');
  await page.goto(`${BASE}/#/seller/s-daniel?${RANGE}&preset=custom`);
  await page.waitForSelector('[data-kpi="avg_talk_ratio"]');
  // Everything loaded, the coaching examples (which come last) included.
  await page.waitForSelector('#coaching table, #coaching .empty');
  await page.waitForFunction(() => [...document.querySelectorAll('#differences .examples')].every((e) => !e.innerText.startsWith('…')));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `no horizontal scrolling at 390 px (overflow ${overflow}px)`);
  await page.screenshot({ path: `${SHOTS}/manager-view-phone.png`, fullPage: true });
});

await test('a search finds a phrase, highlights it and opens the call at that line', async (page) => {
  await login(page, 'Maria Lopez');
  await page.goto(`${BASE}/#/seller/s-daniel?${RANGE}&preset=custom`);
  await page.waitForSelector('[data-kpi="avg_talk_ratio"]');
  // The header's box searches the period on screen.
  const PHRASE = 'free version of hubspot';
  await page.locator('#search-q').fill('Free version of "HubSpot"');
  await page.locator('#search-go').click();
  await page.waitForSelector('#search-results .hits a, #search-results .empty');
  assert.match(page.url(), /#\/search\?q=Free/);
  const { status, body } = await api(page, `/api/search?q=${encodeURIComponent(PHRASE)}&${RANGE}`);
  assert.equal(status, 200);
  const hit = body.hits.find((h) => h.call_id === 'dev-01-crm-discovery');
  assert.ok(hit, `the recorded sample call says it: ${JSON.stringify(body.hits.map((h) => h.call_id))}`);
  const links = page.locator('#search-results .hits a');
  assert.equal(await links.count(), body.hits.length, 'one result per hit of the API');
  const link = page.locator(`#search-results a[data-call="dev-01-crm-discovery"][data-turn="${hit.turn}"]`);
  assert.deepEqual((await link.locator('mark').allInnerTexts()).map((m) => m.toLowerCase()), [PHRASE], 'the phrase is marked');
  assert.match(await link.innerText(), /Daniel Price/, 'the seller by name');
  assert.match(await link.innerText(), /customer at/, 'who said it');
  await page.screenshot({ path: `${SHOTS}/search.png`, fullPage: true });
  // Opening it: the call, its line marked and in view, the player at the line.
  await link.click();
  await page.waitForSelector('#transcript .turn.found');
  const found = page.locator('#transcript .turn.found');
  assert.equal(await found.count(), 1);
  assert.equal(await found.getAttribute('data-turn'), String(hit.turn));
  assert.ok((await found.locator('.words').innerText()).toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').includes(PHRASE), 'the line says it');
  const inView = await found.evaluate((el) => {
    const r = el.getBoundingClientRect(), box = el.closest('.transcript').getBoundingClientRect();
    return r.top >= box.top - 1 && r.bottom <= box.bottom + 1 && r.top >= 0 && r.bottom <= window.innerHeight;
  });
  assert.ok(inView, 'the line is in view');
  await page.waitForFunction(() => document.querySelector('#player').readyState >= 1, null, { timeout: 15000 });
  const at = await page.locator('#player').evaluate((a) => a.currentTime);
  assert.ok(Math.abs(at - hit.start_s) < 1.0, `player at ${at}s, line at ${hit.start_s}s`);
  await page.screenshot({ path: `${SHOTS}/search-opened.png`, fullPage: true });
});

await test('search filters by seller and said-by, and a call without a recording opens at the line', async (page) => {
  await login(page, 'Maria Lopez');
  await page.goto(`${BASE}/#/search?q=${encodeURIComponent('lifting a finger')}&${LONG}`);
  await page.waitForSelector('#search-seller');
  await page.locator('#search-seller').selectOption('s-daniel');
  await page.locator('#search-said-by').selectOption('seller');
  await page.locator('#search-form button[type="submit"]').click();
  await page.waitForFunction(() => /said_by=seller/.test(location.hash) && document.querySelector('#search-results .hits a, #search-results .empty'));
  const { body } = await api(page, `/api/search?q=lifting+a+finger&${LONG}&seller=s-daniel&said_by=seller`);
  assert.ok(body.hits.length >= 1, 'Daniel says it');
  assert.ok(body.hits.every((h) => h.seller_id === 's-daniel' && h.role === 'seller'));
  const metas = await page.locator('#search-results .hits .meta').allInnerTexts();
  assert.equal(metas.length, body.hits.length);
  assert.ok(metas.every((m) => /Daniel Price/.test(m) && /seller at/.test(m)), metas.join(' | '));
  const hit = body.hits.find((h) => h.call_id.startsWith('tc-'));
  assert.ok(hit, 'a transcript-only call');
  await page.locator(`#search-results a[data-call="${hit.call_id}"][data-turn="${hit.turn}"]`).click();
  await page.waitForSelector('#transcript .turn.found');
  assert.equal(await page.locator('#player').count(), 0, 'no recording');
  assert.match((await page.locator('#transcript .turn.found .words').innerText()).toLowerCase(), /lifting a finger/);
  // Another team's manager finds none of it.
  await page.locator('#logout').click();
  await login(page, 'Kenji');
  const other = await api(page, `/api/search?q=lifting+a+finger&${LONG}`);
  assert.equal(other.status, 200);
  assert.ok(other.body.hits.every((h) => h.seller_id !== 's-daniel'), 'not another team\'s calls');
});

// ---------- languages ----------
// Formats as a Finnish reader expects them (Node's ICU, as the browser's).
const FI = {
  pct: (v) => new Intl.NumberFormat('fi', { style: 'percent', maximumFractionDigits: 0 }).format(v),
  n1: (v) => new Intl.NumberFormat('fi', { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v),
  day: (d) => new Intl.DateTimeFormat('fi', { year: 'numeric', month: 'numeric', day: 'numeric', timeZone: 'UTC' }).format(new Date(`${d}T00:00:00Z`)),
  time: (ts, tz) => new Intl.DateTimeFormat('fi', { year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: tz }).format(new Date(ts)),
};
// Words that give away an English string left in the page's own text.
const ENGLISH = /\b(the|and|with|from|your|calls?|customers?|sellers?|team|none|loading|comments?|share|shared|average|talk|ratio|speed|pause|questions?|history|keywords?|competitors?|insights|statistics|sentiment|coaching|performers?|period|apply|custom|previous|next|date|duration|signals|summary|recording|transcript|reply|edit|delete|post|positive|negative|neutral)\b/i;

// The page's own text and labels: everything but data (names, transcripts,
// comments, keywords: marked translate="no") and chart tooltips (which quote data).
async function ownText(page) {
  return page.evaluate(() => {
    const out = [];
    const skip = (el) => !el || el.closest('[translate="no"], script, style, svg');
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!skip(n.parentElement) && n.textContent.trim()) out.push(n.textContent.trim());
    }
    document.querySelectorAll('[title], [aria-label], option').forEach((el) => {
      if (skip(el)) return;
      for (const a of ['title', 'aria-label']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
      if (el.tagName === 'OPTION' && !el.closest('#lang')) out.push(el.textContent);
    });
    return out;
  });
}

// English text of the catalogue (its literal parts), where Finnish differs.
async function englishOnly(page) {
  const [en, fi] = [(await api(page, '/i18n/en.json')).body, (await api(page, '/i18n/fi.json')).body];
  const parts = (v) => (typeof v === 'string' ? [v] : Object.values(v)).flatMap((x) => x.split(/\{\w+\}/)).map((x) => x.trim()).filter((x) => x.length >= 12);
  return Object.keys(en).filter((k) => JSON.stringify(en[k]) !== JSON.stringify(fi[k])).flatMap((k) => parts(en[k]));
}

async function assertAllFinnish(page, where) {
  const texts = await ownText(page);
  assert.ok(texts.length > 10, `${where}: the page has text`);
  const english = texts.filter((x) => ENGLISH.test(x));
  assert.deepEqual(english, [], `${where}: English words outside the data`);
  const joined = texts.join('\n');
  const left = (await englishOnly(page)).filter((x) => joined.includes(x));
  assert.deepEqual(left, [], `${where}: English catalogue text on the Finnish page`);
  assert.deepEqual(await page.evaluate(() => window.__i18nMissing), [], `${where}: missing Finnish keys`);
}

await test('the catalogues have the same keys in English and Finnish', async (page) => {
  await page.goto(`${BASE}/`);
  const languages = (await api(page, '/i18n/languages.json')).body;
  assert.deepEqual(Object.keys(languages).sort(), ['en', 'fi']);
  const [en, fi] = [(await api(page, '/i18n/en.json')).body, (await api(page, '/i18n/fi.json')).body];
  const onlyEn = Object.keys(en).filter((k) => !(k in fi));
  const onlyFi = Object.keys(fi).filter((k) => !(k in en));
  assert.deepEqual([onlyEn, onlyFi], [[], []], 'every key in both');
  assert.ok(Object.keys(en).length > 150, 'the whole page is in the catalogue');
});

const TZ = 'Europe/Helsinki';
await test('a Finnish browser gets the page in Finnish, with Finnish numbers, dates and times', async (page) => {
  await login(page, 'Maria Lopez');
  assert.equal(await page.locator('html').getAttribute('lang'), 'fi', 'from navigator.languages');
  await page.goto(`${BASE}/#/seller/s-daniel?${LONG}&preset=custom`);
  await page.waitForSelector('#coaching table');
  await page.waitForSelector('#history table');
  const { body } = await api(page, `/api/sellers/s-daniel/insights?${LONG}`);
  const s = body.summary;
  assert.equal(await page.locator('#style-h').innerText(), 'Keskustelutyyli');
  assert.match(await page.locator('#hist-h').innerText(), /^Puheluhistoria/);
  assert.equal(await page.locator('[data-kpi="avg_talk_ratio"] .label').innerText(), 'Puheosuus');
  assert.equal(await page.locator('[data-kpi="avg_talk_ratio"] .value').innerText(), FI.pct(s.avg_talk_ratio));
  // Decimal commas: "1,5 s".
  assert.equal(await page.locator('[data-kpi="avg_pause_s"] .value').innerText(), `${FI.n1(s.avg_pause_s)} s`);
  assert.match(await page.locator('[data-kpi="avg_pause_s"] .value').innerText(), /^\d+,\d s$/);
  // Trends: the API's sentences as data, said in Finnish with the API's numbers.
  const trends = await page.locator('.trends li').allInnerTexts();
  assert.equal(trends.length, body.trends.length);
  const talk = body.trends.find((x) => x.kpi === 'avg_talk_ratio');
  const verb = talk.current > talk.previous ? 'nousi' : 'laski';
  assert.ok(trends.includes(`Puheosuus ${verb} (aiemmin ${FI.pct(talk.previous)}, nyt ${FI.pct(talk.current)}; tiimi ${FI.pct(talk.team)})`), trends.join(' | '));
  // The previous period in Finnish date format (d.m.yyyy).
  const compared = await page.locator('#compared').innerText();
  assert.ok(compared.includes(FI.day(body.previous_range.from)) && compared.includes(FI.day(body.previous_range.to)), compared);
  assert.match(compared, /\d{1,2}\.\d{1,2}\.\d{4}/);
  // Call times in the user's time zone, Finnish style ("12.10.2026 klo 14.05").
  const calls = (await api(page, `/api/sellers/s-daniel/calls?${LONG}&sort=started_at&desc=true&page=0&page_size=10`)).body;
  const firstRow = await page.locator('#history tbody tr:first-child td:first-child').innerText();
  assert.equal(firstRow, FI.time(calls.items[0].started_at, TZ));
  assert.match(firstRow, /\d{2}\.\d{2}$/);
  // Coaching: Finnish reasons and the Finnish advice of the shipped rules.
  const coaching = (await api(page, `/api/teams/crm/coaching?${LONG}`)).body;
  const daniel = coaching.sellers.find((x) => x.seller_id === 's-daniel');
  const flags = page.locator('#coaching [data-seller="s-daniel"] .flag');
  assert.equal(await flags.count(), daniel.flags.length);
  for (const [i, f] of daniel.flags.entries()) {
    assert.match(await flags.nth(i).locator('div').first().innerText(), /tiimin tavanomaisen vaihteluvälin (ylä|ala)puolella/);
    assert.equal(await flags.nth(i).locator('div').nth(1).innerText(), f.advice_by_language.fi);
  }
  await assertAllFinnish(page, 'seller page');
  await page.screenshot({ path: `${SHOTS}/manager-view-fi.png`, fullPage: true });
  // The call page too.
  await page.goto(`${BASE}/#/call/dev-01-crm-discovery`);
  await page.waitForSelector('#transcript .turn');
  assert.equal(await page.locator('#tr-h').innerText(), 'Litterointi');
  assert.ok((await page.locator('.turn .role').allInnerTexts()).every((r) => ['myyjä', 'asiakas', 'muu'].includes(r)));
  await assertAllFinnish(page, 'call page');
  await page.screenshot({ path: `${SHOTS}/call-page-fi.png`, fullPage: true });
}, { locale: 'fi-FI', timezoneId: TZ });

await test('a Finnish call: its lines, Finnish mentions and questions, and sentiment said unavailable', async (page) => {
  await login(page, 'Kaisa Korhonen');
  const { status, body } = await api(page, '/api/calls/fi-01-crm-discovery');
  assert.equal(status, 200);
  assert.equal(body.summary.language, 'fi');
  assert.equal(body.signals.sentiment.customer, null, 'no sentiment model reads Finnish');
  const terms = body.signals.mentions.map((m) => m.term);
  assert.ok(terms.includes('Salesforce') && terms.includes('kokeilu'), terms.join(', '));
  assert.ok(body.signals.mentions.some((m) => m.matched !== m.term), 'an inflected form was matched');
  await page.goto(`${BASE}/#/call/fi-01-crm-discovery`);
  await page.waitForSelector('#transcript .turn');
  // Without a sentiment timeline the lines are still there, one per run of a speaker's words.
  const lines = await page.locator('#transcript .turn').count();
  assert.ok(lines >= 10, `${lines} lines`);
  assert.equal(await page.locator('#transcript .w').count(), body.transcript.words.length, 'every word on a line');
  assert.equal(await page.locator('#transcript .turn .sent').count(), 0, 'no sentiment badge on a line');
  assert.match(await page.locator('#call-sentiment').innerText(), /ei saatavilla tämän puhelun kielelle \(suomi\)/);
  assert.ok((await page.locator('text=Salesforce').count()) >= 1);
  await assertAllFinnish(page, 'Finnish call page');
}, { locale: 'fi-FI', timezoneId: TZ });

await test('the language switch: Finnish on request, remembered, and back to English', async (page) => {
  await login(page, 'Maria Lopez');
  await page.goto(`${BASE}/#/seller/s-daniel?${LONG}&preset=custom`);
  await page.waitForSelector('#compared');
  assert.equal(await page.locator('#style-h').innerText(), 'Conversation style');
  const { body } = await api(page, `/api/sellers/s-daniel/insights?${LONG}`);
  const enDay = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'numeric', day: 'numeric', timeZone: 'UTC' }).format(new Date(`${body.previous_range.from}T00:00:00Z`));
  assert.ok((await page.locator('#compared').innerText()).includes(enDay));
  await page.locator('#lang').selectOption('fi');
  await page.waitForSelector('#style-h:has-text("Keskustelutyyli")');
  assert.equal(await page.locator('html').getAttribute('lang'), 'fi');
  assert.ok((await page.locator('#compared').innerText()).includes(FI.day(body.previous_range.from)), 'a Finnish date');
  assert.equal(await page.locator('.who #logout').innerText(), 'Kirjaudu ulos');
  // The choice outranks the browser's language, after a reload too.
  await page.reload();
  await page.waitForSelector('#style-h:has-text("Keskustelutyyli")');
  assert.equal(await page.evaluate(() => localStorage.getItem('callscope.lang')), 'fi');
  await page.locator('#lang').selectOption('en');
  await page.waitForSelector('#style-h:has-text("Conversation style")');
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.ok((await page.locator('#compared').innerText()).includes(enDay), 'an English date again');
});

await browser.close();
if (failures) {
  console.log(`${failures} browser test(s) failed`);
  process.exit(1);
}
console.log('all browser tests passed');
