#!/usr/bin/env bash
# Image data throughput, side by side in one run: Stratus's image service and the real Glance Zed
# (Debian's glance-api, 2 workers, file store) on the same machine, both validating tokens against
# the same Stratus identity. Uploads and downloads a 1 GiB image with curl and samples the resident
# memory of each service while the data moves.
# Usage: bench/image.sh [SIZE_MIB]   (SKIP_GLANCE=1 measures Stratus alone)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mib=${1:-1024}
pass=bench-Pa55word addr=127.88.0.2 gaddr=127.88.0.3
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

family() { # the given PIDs and their children
  echo "$@" $(pgrep -P "$(IFS=,; echo "$*")" 2>/dev/null || true)
}

proc_sum() { # FILE AWK PIDS...: the sum, over the PIDs and their children, of what AWK prints from /proc/PID/FILE
  local file=$1 prog=$2 total=0 p; shift 2
  for p in $(family "$@"); do
    total=$((total + $(awk "$prog" "/proc/$p/$file" 2>/dev/null || echo 0)))
  done
  echo $total
}

rss_kib() { proc_sum status '/VmRSS/{print $2}' "$@"; } # resident memory in KiB

cpu_ticks() { proc_sum stat '{print $14 + $15}' "$@"; } # CPU time, user + system, in clock ticks

peak_rss() { # samples the RSS of PIDs (and their children) every 100 ms until the file $1 exists; prints the peak in MiB
  local stop=$1 peak=0 now p k v; shift
  local all=($(family "$@"))
  # Bash builtins only: the sampler must not take the CPU the transfer needs.
  while [[ ! -e $stop ]]; do
    now=0
    for p in "${all[@]}"; do
      while read -r k v _; do [[ $k == VmRSS: ]] && now=$((now + v)) && break; done <"/proc/$p/status"
    done
    ((now > peak)) && peak=$now
    read -rt 0.1 <> <(:) || true
  done
  echo $((peak / 1024))
}

settle() { # waits (at most 60 s) until the PIDs use under 5% of a core: a service just started still
  # compiles its hot code (the runtime's tiered JIT, Python's imports) and that must not be measured
  local before now i
  before=$(cpu_ticks "$@")
  for ((i = 0; i < 60; i++)); do
    sleep 1
    now=$(cpu_ticks "$@")
    ((now - before < 5)) && return
    before=$now
  done
}

measure() { # NAME URL PIDS...: create an image, upload, download, with memory
  local name=$1 url=$2; shift 2
  local token id wid up down idle peak_up peak_down
  token=$(curl -si "http://$addr:5000/v3/auth/tokens" -H 'Content-Type: application/json' -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"admin\",\"domain\":{\"id\":\"default\"},\"password\":\"$pass\"}}},\"scope\":{\"project\":{\"name\":\"admin\",\"domain\":{\"id\":\"default\"}}}}}" \
    | awk 'tolower($1)=="x-subject-token:"{print $2}' | tr -d '\r')
  new_image() {
    curl -sf "$url/v2/images" -H "X-Auth-Token: $token" -H 'Content-Type: application/json' \
      -d '{"name":"bench","disk_format":"raw","container_format":"bare"}' | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
  }
  id=$(new_image) wid=$(new_image)
  # One small upload and download first, as a running service has done: the figures are steady-state ones.
  curl -sf -o /dev/null -X PUT -T "$work/warmup.raw" "$url/v2/images/$wid/file" -H "X-Auth-Token: $token" -H 'Content-Type: application/octet-stream'
  curl -sf -o /dev/null "$url/v2/images/$wid/file" -H "X-Auth-Token: $token"
  settle "$@"
  idle=$(( $(rss_kib "$@") / 1024 ))
  rm -f "$work/stop"; peak_rss "$work/stop" "$@" >"$work/peak" &
  up=$(curl -sf -o /dev/null -w '%{time_total}' -X PUT -T "$work/image.raw" "$url/v2/images/$id/file" \
    -H "X-Auth-Token: $token" -H 'Content-Type: application/octet-stream')
  touch "$work/stop"; wait $!; peak_up=$(cat "$work/peak")
  rm -f "$work/stop"; peak_rss "$work/stop" "$@" >"$work/peak" &
  down=$(curl -sf -o /dev/null -w '%{time_total}' "$url/v2/images/$id/file" -H "X-Auth-Token: $token")
  touch "$work/stop"; wait $!; peak_down=$(cat "$work/peak")
  awk -v n="$name" -v m="$mib" -v u="$up" -v d="$down" -v i="$idle" -v pu="$peak_up" -v pd="$peak_down" 'BEGIN {
    printf "%-22s upload %7.0f MiB/s (%5.2f s)  download %7.0f MiB/s (%5.2f s)  RSS idle %4d MiB, peak %4d MiB up, %4d MiB down (+%d)\n",
      n, m/u, u, m/d, d, i, pu, pd, (pu > pd ? pu : pd) - i }'
}

head -c $((mib * 1024 * 1024)) /dev/urandom >"$work/image.raw"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$work/warmup.raw"
sync # the source files written back first: their writeback must not compete with the uploads
"$here/stratus" node init --config-dir "$work/stratus" --region RegionOne --address $addr --password $pass >/dev/null
# The node of this figure: the identity and the image service (node init configures the regional services too).
rm -rf "$work/stratus"/{nova,placement,neutron,cinder,dashboard}
"$here/stratus" node start --config-dir "$work/stratus" >"$work/stratus.log" 2>&1 &
spid=$!; pids+=($spid)
until curl -sf "http://$addr:9292/versions" >/dev/null; do sleep 0.2; done
echo "== $mib MiB image, curl over loopback"
measure "Stratus (node)" "http://$addr:9292" $spid

if [[ ${SKIP_GLANCE:-} != 1 ]]; then
  command -v glance-api >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q glance-api >/dev/null
  mkdir -p "$work/glance/images" "$work/glance/staging"
  cat >"$work/glance/glance-api.conf" <<CONF
[DEFAULT]
bind_host = $gaddr
bind_port = 9292
workers = 2
log_file = $work/glance/api.log
node_staging_uri = file://$work/glance/staging
[database]
connection = sqlite:///$work/glance/glance.db
[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = $work/glance/images/
[keystone_authtoken]
www_authenticate_uri = http://$addr:5000
auth_url = http://$addr:5000
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = glance
password = $pass
region_name = RegionOne
[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini
CONF
  glance-manage --config-file "$work/glance/glance-api.conf" db_sync >/dev/null 2>&1
  glance-api --config-file "$work/glance/glance-api.conf" >/dev/null 2>&1 &
  gpid=$!; pids+=($gpid)
  until curl -sf "http://$gaddr:9292/versions" >/dev/null; do sleep 0.2; done
  sleep 1
  measure "Glance Zed (2 workers)" "http://$gaddr:9292" $gpid
fi
