#!/usr/bin/env bash
# Identity load, side by side in one run: Stratus and the real Keystone Zed (Debian's package, on
# MariaDB, uwsgi as Debian runs it) on the same machine, with the same wrk load (the anchors' bench.sh):
# token issue, validation, catalog and regions at concurrency 1, 8, 32; then resident memory.
# Usage: bench/identity.sh [SECONDS]   (SKIP_KEYSTONE=1 measures Stratus alone)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
anchors=${ANCHORS:-$here/../shared/anchors}
secs=${1:-10}
pass=bench-Pa55word
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null
work=$(mktemp -d)
chmod 755 "$work" # the real Keystone runs as the keystone user and must reach its state directory
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

rss_mib() { # total resident memory of the given PIDs and their children (FIELD=VmHWM: the most each has had)
  local total=0 p
  for p in "$@" $(pgrep -P "$(IFS=,; echo "$*")" 2>/dev/null || true); do
    total=$((total + $(awk -v f="${FIELD:-VmRSS}:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo $((total / 1024))
}

addr=127.88.0.1
"$here/stratus" node init --config-dir "$work/stratus" --region RegionOne --address $addr --password $pass >/dev/null
# node init also configures the region's image, compute, placement and network services: measure the identity alone
# (they stay registered in its catalog, as on a real controller).
rm -rf "$work/stratus/glance" "$work/stratus/nova" "$work/stratus/placement" "$work/stratus/neutron" "$work/stratus/cinder" "$work/stratus/dashboard"
"$here/stratus" node start --config-dir "$work/stratus" >"$work/stratus.log" 2>&1 &
spid=$!; pids+=($spid)
until curl -sf "http://$addr:5000/v3" >/dev/null; do sleep 0.2; done
sleep 3 # let start-up (and the JIT's background tiering) settle before the idle figure
echo "== Stratus identity (SQLite) at http://$addr:5000, idle RSS $(rss_mib $spid) MiB"
bash "$anchors/bench.sh" "http://$addr:5000" $pass "$secs"
sleep 2
echo "Stratus RSS after load: $(rss_mib $spid) MiB (2 s after; peak $(FIELD=VmHWM rss_mib $spid) MiB)"

if [[ ${SKIP_KEYSTONE:-} != 1 ]]; then
  echo
  mpid=$(bash "$anchors/mariadb-start.sh"); pids+=($mpid)
  kpid=$(KS_DB=mysql+pymysql://keystone:ks@127.0.0.1/keystone PASS=$pass bash "$anchors/start.sh" 127.0.0.1 5001 "$work/keystone")
  pids+=($kpid)
  echo "== Keystone Zed (Debian, uwsgi, MariaDB) at http://127.0.0.1:5001, idle RSS $(rss_mib $kpid) MiB"
  bash "$anchors/bench.sh" "http://127.0.0.1:5001" $pass "$secs"
  echo "Keystone RSS after load: $(rss_mib $kpid) MiB (peak $(FIELD=VmHWM rss_mib $kpid) MiB)"
fi
