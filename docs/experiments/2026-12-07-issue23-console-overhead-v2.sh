#!/bin/bash
# Issue 23, console overhead after sampling (ObserveResult): N interleaved pairs of
# `bench e2e --embedded` without the console, and with --console plus a headless Chromium on
# the console page for the whole run; texts in results for both. Usage: $0 BINARY N OUT.jsonl
bin=${1:-/tmp/ts}; n=${2:-6}; out=${3:-/tmp/overhead.jsonl}
cd "$(dirname "$0")/../.."
export TAGSTREAM_OUTPUT_INCLUDE_TEXT=true
args=(bench e2e --embedded --events 100000 --input ../shared/data/tweeteval_sentiment/dev.jsonl --json)
: > "$out"
for i in $(seq 1 "$n"); do
  "$bin" "${args[@]}" 2>/dev/null | sed 's/^{/{"run":"none",/' >> "$out"
  tmp=$(mktemp)
  "$bin" "${args[@]}" --console --http.addr 127.0.0.1:18080 2>/dev/null > "$tmp" &
  bp=$!
  for k in $(seq 1 100); do curl -sf http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.1; done
  chromium --headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
    --disable-sync --no-first-run --user-data-dir="$(mktemp -d)" http://127.0.0.1:18080/ >/dev/null 2>&1 &
  cp=$!
  wait $bp
  kill $cp 2>/dev/null; wait $cp 2>/dev/null
  sed 's/^{/{"run":"console+browser",/' "$tmp" >> "$out"; rm -f "$tmp"
done
python3 - "$out" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
key = next(k for k in ("events_per_sec", "rate", "throughput") if k in rows[0])
none = [r[key] for r in rows if r["run"] == "none"]
con = [r[key] for r in rows if r["run"] != "none"]
print("none", [round(x) for x in none]); print("console+browser", [round(x) for x in con])
print("ratios per pair", [round(c / n, 3) for n, c in zip(none, con)])
print("median ratio of medians %.3f" % (statistics.median(con) / statistics.median(none)))
PY
