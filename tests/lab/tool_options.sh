#!/usr/bin/env bash
# The lab tools refuse option values they cannot read, before doing
# anything (exit 2, one line naming the option), where they used to take
# the digits in front ("--port 80x" was port 80, "--delay 5s" 5 ms) or 0
# ("--queue abc" was queue 0). Needs no root: every case stops at parsing.
set -uo pipefail
B=${SAF_BUILD_DIR:?}
fails=0 passes=0
refused() { # refused OPTION TOOL ARGS...: exit 2 within 5 s, stderr names OPTION
  local opt=$1 tool=$2 err rc; shift 2
  err=$(timeout 5 "$B/$tool" "$@" 2>&1 >/dev/null); rc=$?
  if [[ $rc -eq 2 && $err == *"$opt: '"* ]]; then
    echo "ok   - $tool $* : $err"; passes=$((passes+1))
  else
    echo "FAIL - $tool $* : exit $rc, '$err'"; fails=$((fails+1))
  fi
}
refused --queue saf-delay --queue abc --delay 5
refused --delay saf-delay --queue 1 --delay 5x
refused --delay saf-delay --queue 1 --delay 11s
refused --max-held saf-delay --queue 1 --delay 5 --max-held 0
refused --interval saf-streams --name t --target 127.0.0.1:9 --interval 5x
refused --count saf-streams --name t --target 127.0.0.1:9 --count 2000
refused --duration saf-streams --name t --target 127.0.0.1:9 --duration 1x
refused --chunk saf-streams --name t --target 127.0.0.1:9 --chunk 65537
refused --port saf-load echo --port 80x
refused --max-conns saf-load echo --port 8080 --max-conns 0
refused --count saf-load run --service 127.0.0.1:9 --count 1e3
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
