#!/bin/bash
# Interleaved: console + a headless Chromium on the page, against no console; both with texts in results.
cd /work/main
export TAGSTREAM_OUTPUT_INCLUDE_TEXT=true
for i in 1 2 3; do
  echo "== none $i"
  /tmp/ts bench e2e --embedded --events 100000 --input ../shared/data/tweeteval_sentiment/dev.jsonl --json 2>/dev/null
  echo "== console+browser $i"
  /tmp/ts bench e2e --embedded --events 100000 --input ../shared/data/tweeteval_sentiment/dev.jsonl --json --console --http.addr 127.0.0.1:18080 2>/dev/null &
  bp=$!
  for k in $(seq 1 60); do curl -sf http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.2; done
  chromium --headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run --user-data-dir=/tmp/chr-$i http://127.0.0.1:18080/ >/dev/null 2>&1 &
  cp=$!
  wait $bp
  kill $cp 2>/dev/null; wait $cp 2>/dev/null
done
echo done
