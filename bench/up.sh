#!/usr/bin/env bash
# ./stratus up from a built tree: the time until every service of both regions answers its version
# document (identity, and in each region placement, compute, image, network, block storage, the
# dashboard), on a first up (nodes initialised) and on a second up (the same cloud resumed), and the
# resident memory of everything up runs (the process and its children: dnsmasq...) once idle.
# Goals (issue 13): a second up under 3 s, under 500 MiB; a two-region OpenStack install takes hours and many GiB.
# Usage: bench/up.sh [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-3}
one=127.89.0.72 two=127.89.0.73 compute=127.89.0.74 port=8089
data=$(mktemp -d)
up_pid=
stop_up() { [[ -n $up_pid ]] && kill -TERM "$up_pid" 2>/dev/null && wait "$up_pid" 2>/dev/null || true; up_pid=; }
cleanup() { stop_up; rm -rf "$data"; }
trap cleanup EXIT

"$here/stratus" help >/dev/null # builds the CLI first: the build is not measured

urls=("http://$one:5000/v3" "http://$one:$port/dashboard/auth/login/")
for a in $one $two; do
  urls+=("http://$a:8778/" "http://$a:8774/" "http://$a:9292/versions" "http://$a:9696/" "http://$a:8776/")
done

now() { date +%s.%N; }

answers() { # polls URL until it answers with a status below 500, as a client of that service would
  local code
  until code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1") && [[ $code =~ ^[1-4][0-9][0-9]$ ]]; do
    kill -0 "$up_pid" 2>/dev/null || return 1
    sleep 0.05
  done
}

start_up() { # starts up; sets $took to the seconds until every service answers
  local t0 t1
  t0=$(now)
  "$here/stratus" up --data "$data" --password bench-Pa55 --region-one-address $one --region-two-address $two \
    --region-two-compute-address $compute --dashboard-port $port >"$data/up.log" 2>&1 &
  up_pid=$!
  # Every service polled at once, each by a client of its own; done when the last one answers.
  local pollers=() u p
  for u in "${urls[@]}"; do answers "$u" & pollers+=($!); done
  for p in "${pollers[@]}"; do wait "$p" || { cat "$data/up.log" >&2; exit 1; }; done
  t1=$(now)
  took=$(echo "$t1 - $t0" | bc)
}

descendants() { # a process and everything under it (./stratus is a script that runs dotnet)
  local p
  echo "$1"
  for p in $(pgrep -P "$1"); do descendants "$p"; done
}

rss_mib() { # everything up runs, once idle
  local total=0 p
  sleep 10
  for p in $(descendants "$up_pid"); do total=$((total + $(awk '/VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done
  echo $((total / 1024))
}

start_up
stop_up
echo "first up (nodes initialised): $took s to every service answering"
for ((r = 1; r <= rounds; r++)); do
  start_up
  m=$(rss_mib)
  stop_up
  echo "second up, round $r: $took s to every service answering; $m MiB resident when idle (goals: 3 s, 500 MiB)"
done
