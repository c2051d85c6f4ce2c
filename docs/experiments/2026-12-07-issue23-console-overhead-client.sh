#!/bin/bash
# Interleaved: console with one event-stream client (no browser) against no console; texts in results for both.
cd /work/main
export TAGSTREAM_OUTPUT_INCLUDE_TEXT=true
for i in 1 2 3; do
  echo "== none $i"
  /tmp/ts bench e2e --embedded --events 100000 --input ../shared/data/tweeteval_sentiment/dev.jsonl --json 2>/dev/null
  echo "== console-client $i"
  /tmp/ts bench e2e --embedded --events 100000 --input ../shared/data/tweeteval_sentiment/dev.jsonl --json --console --http.addr 127.0.0.1:18082 2>/dev/null
done
echo done
