#!/usr/bin/env bash
# End-to-end check of the embedded default, run by .ci/run on a fresh clone:
# `callscope demo --no-serve` processes every sample call (folder source →
# whisper → KPIs and signals → SQLite); then every call must be in the store
# with KPIs and signals, and the API must answer the seller page for a demo
# seller (signed in as that seller) and refuse another seller's page.
# Usage: tools/demo/e2e.sh [CALLSCOPE_BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-target/release/callscope}
PORT=${CALLSCOPE_DEMO_PORT:-18481}
DATA=$(mktemp -d)
SERVE_PID=""
trap '[ -n "$SERVE_PID" ] && kill $SERVE_PID 2>/dev/null; rm -rf "$DATA"' EXIT

"$BIN" demo --no-serve --data-dir "$DATA"

EXPECTED=$(ls samples/calls/*.meta.json samples/team-calls/*.meta.json samples/calls-fi/*.meta.json | wc -l)
python3 - "$DATA/callscope.db" "$EXPECTED" <<'PY'
import json, sqlite3, sys
db, expected = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
calls = c.execute("SELECT call_id, seller_id FROM calls").fetchall()
assert len(calls) == expected, f"{len(calls)} calls stored, expected {expected}"
for (call_id, seller) in calls:
    utt = c.execute("SELECT count(*) FROM utterances WHERE call_id = ?", (call_id,)).fetchone()[0]
    assert utt >= 4, f"{call_id}: {utt} utterances"
mentions = c.execute("SELECT count(*) FROM mentions").fetchone()[0]
competitors = c.execute("SELECT count(DISTINCT term) FROM mentions WHERE kind = 'competitor'").fetchone()[0]
assert mentions >= 20 and competitors >= 3, f"{mentions} mentions, {competitors} competitors"
# The Finnish calls: detected or given as Finnish, transcribed by the multilingual
# model, Finnish keywords found in their inflected forms, no sentiment.
fi = c.execute("SELECT call_id, asr_model, sentiment_model, customer_sentiment FROM calls WHERE language = 'fi'").fetchall()
assert len(fi) == 2, f"Finnish calls: {fi}"
for call_id, asr_model, sentiment_model, sentiment in fi:
    assert not asr_model.endswith(".en") and ".en-" not in asr_model, f"{call_id}: {asr_model}"
    assert sentiment_model == "none" and sentiment == "", f"{call_id}: {sentiment_model} {sentiment!r}"
fi_mentions = c.execute("SELECT count(*) FROM mentions WHERE call_id IN (SELECT call_id FROM calls WHERE language = 'fi')").fetchone()[0]
assert fi_mentions >= 2, f"{fi_mentions} mentions in the Finnish calls"
print(f"store: {len(calls)} calls, {mentions} tracked mentions ({competitors} competitors); Finnish: {len(fi)} calls, {fi_mentions} mentions")
PY

cat >"$DATA/serve.toml" <<CONF
[store]
sqlite_path = "$DATA/callscope.db"
[app]
listen = "127.0.0.1:$PORT"
directory = "samples/users.toml"
dev_login = true
audio_root = "$DATA/calls"
CONF
"$BIN" --config "$DATA/serve.toml" serve >"$DATA/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
JAR="$DATA/cookies"
curl -fsS -c "$JAR" -H 'content-type: application/json' -d '{"user_id":"s-daniel"}' \
  "http://127.0.0.1:$PORT/api/auth/dev-login" >/dev/null
curl -fsS -b "$JAR" "http://127.0.0.1:$PORT/api/sellers/s-daniel/insights?from=2026-10-01&to=2026-11-30" >"$DATA/insights.json"
python3 - "$DATA/insights.json" <<'PY'
import json, sys
page = json.load(open(sys.argv[1]))
text = json.dumps(page)
assert '"s-daniel"' in text, "the page is Daniel's"
calls = page.get("summary", page).get("calls") if isinstance(page.get("summary", page), dict) else None
assert "talk_ratio" in text or "talk" in text, "KPIs present"
assert "Salesforce" in text or "HubSpot" in text or "Pipedrive" in text, "competitors present"
print("API: seller page for s-daniel answered, with KPIs and competitors")
PY
# The generated months make the coaching parts appear: trends for Daniel, and
# for his manager flags and top performers.
curl -fsS -b "$JAR" "http://127.0.0.1:$PORT/api/sellers/s-daniel/insights?from=2026-10-01&to=2026-11-30" >"$DATA/trends.json"
curl -fsS -c "$JAR.m" -H 'content-type: application/json' -d '{"user_id":"m-maria"}' \
  "http://127.0.0.1:$PORT/api/auth/dev-login" >/dev/null
curl -fsS -b "$JAR.m" "http://127.0.0.1:$PORT/api/teams/crm/coaching?from=2026-10-01&to=2026-11-30" >"$DATA/coaching.json"
python3 - "$DATA/trends.json" "$DATA/coaching.json" <<'PY'
import json, sys
page, coaching = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert page["trends"], f"no trends for s-daniel: {page['trends_note']}"
assert coaching["top_performers"], "no top performers"
assert any(s["flags"] for s in coaching["sellers"]), "no coaching flags"
assert coaching["differences"], "no differences"
print(f"API: {len(page['trends'])} trend(s) for s-daniel; top performers {coaching['top_performers']}")
PY
CODE=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" "http://127.0.0.1:$PORT/api/sellers/s-sofia/insights?from=2026-10-01&to=2026-11-30")
[ "$CODE" = 403 ] || [ "$CODE" = 404 ] || { echo "a seller read another seller's page (HTTP $CODE)" >&2; exit 1; }
echo "API: s-daniel cannot read s-sofia's page (HTTP $CODE)"
echo "demo end to end: ok"
