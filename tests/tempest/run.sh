#!/usr/bin/env bash
# Tempest 33's API tests of one service (tempest.api.SUITE) against a fresh Stratus node.
# Usage: tests/tempest/run.sh identity|image|compute|network|volume [REGEX] [CONCURRENCY]
# Prints Tempest's summary; the last line is "SUITE: P passed, F failed, S skipped".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
suite=${1:?usage: run.sh identity|image|compute|network|volume [REGEX] [CONCURRENCY]}
regex=${2:-tempest.api.$suite} conc=${3:-2}
addr=${TEMPEST_ADDRESS:-127.66.0.1} pass=tempest-Pa55word
command -v tempest >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=900 tempest python3-stestr >/dev/null
work=$(mktemp -d /tmp/stratus-tempest.XXXXXX)
node_pid= web_pid=
cleanup() { kill $node_pid $web_pid 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

"$here/stratus" node init --config-dir "$work/node" --region RegionOne --address "$addr" --password "$pass" >/dev/null
# Hundreds of servers: Nova's fake driver, as Nova's own fake-driver CI jobs (real TCG guests are too slow on 2 cores).
[[ $suite == compute ]] && sed -i 's/^compute_driver = .*/compute_driver = fake.FakeDriver/' "$work/node/nova/nova.conf"
"$here/stratus" node start --config-dir "$work/node" >"$work/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 300); do curl -sf "http://$addr:9292/versions" >/dev/null && break; sleep 0.1; done
# What the image import tests download (web-download): a small file on a web server of our own.
mkdir -p "$work/www" && head -c 1048576 /dev/urandom >"$work/www/image.img"
(cd "$work/www" && exec /usr/bin/python3 -m http.server 8000 --bind "$addr" >/dev/null 2>&1) &
web_pid=$!
image=false nova=false neutron=false cinder=false; [[ $suite == image ]] && image=true
extra=
if [[ $suite == compute ]]; then
  image=true nova=true neutron=true cinder=true
  # Two flavors and two images for [compute], once the compute host has reported to placement; the network
  # service's "public" and a shared network "private" routed to it, which every test server is on.
  extra=$(/usr/bin/python3 "$here/tests/tempest/compute_setup.py" "$addr" "$pass") || { tail -30 "$work/node.log"; exit 1; }
  extra+=$'\n'$(/usr/bin/python3 "$here/tests/tempest/network_setup.py" "$addr" "$pass" private) || { tail -30 "$work/node.log"; exit 1; }
  # The node's block storage, for the compute tests' volumes (attach, boot from volume, the os-volumes proxy).
  extra+=$'\n'"[volume]
region = RegionOne
catalog_type = volumev3
max_microversion = 3.70
build_timeout = 120
[volume-feature-enabled]
backup = false"
fi
if [[ $suite == volume ]]; then
  image=true cinder=true
  extra=$(/usr/bin/python3 "$here/tests/tempest/volume_setup.py" "$addr" "$pass") || { tail -30 "$work/node.log"; exit 1; }
  extra+=$'\n'"[volume]
region = RegionOne
catalog_type = volumev3
endpoint_type = publicURL
min_microversion = 3.0
max_microversion = 3.70
volume_size = 1
build_timeout = 120
storage_protocol = local
vendor_name = Stratus
[volume-feature-enabled]
api_v2 = false
api_v3 = true
backup = true
snapshot = true
clone = true
manage_volume = false
manage_snapshot = false
multi_backend = false
extend_attached_volume = false
volume_revert = false
cluster_active_active = false"
fi
if [[ $suite == network ]]; then
  neutron=true
  extra=$(/usr/bin/python3 "$here/tests/tempest/network_setup.py" "$addr" "$pass") || { tail -30 "$work/node.log"; exit 1; }
fi

tempest init --name "stratus-$(basename "$work")" "$work/ws" >/dev/null 2>&1
cat >"$work/ws/etc/tempest.conf" <<CONF
[DEFAULT]
log_dir = $work/ws/logs
log_file = tempest.log
[auth]
admin_username = admin
admin_password = $pass
admin_project_name = admin
admin_domain_name = Default
use_dynamic_credentials = true
create_isolated_networks = false
[identity]
uri_v3 = http://$addr:5000/v3
auth_version = v3
region = RegionOne
v3_endpoint_type = publicURL
[identity-feature-enabled]
api_v2 = false
api_v3 = true
trust = true
security_compliance = false
application_credentials = true
access_rules = true
project_tags = true
[image]
region = RegionOne
endpoint_type = publicURL
http_image = http://$addr:8000/image.img
[image-feature-enabled]
api_v2 = true
api_v1 = false
import_image = true
os_glance_reserved = true
manage_locations = false
[service_available]
glance = $image
nova = $nova
cinder = $cinder
neutron = $neutron
swift = false
${TEMPEST_EXTRA_CONF:-}
$extra
CONF
cd "$work/ws"
timeout 3000 tempest run --regex "$regex" ${TEMPEST_EXCLUDE:+--exclude-regex "$TEMPEST_EXCLUDE"} --concurrency "$conc" >"$work/run.log" 2>&1 || true
grep -E "^ - (Passed|Failed|Skipped)|Sum of execute" "$work/run.log" || tail -20 "$work/run.log"
grep -E "^\{[0-9]+\} .*(FAILED)" "$work/run.log" | sed 's/^/  /' || true
p=$(awk '/^ - Passed:/{print $3}' "$work/run.log"); f=$(awk '/^ - Failed:/{print $3}' "$work/run.log"); s=$(awk '/^ - Skipped:/{print $3}' "$work/run.log")
echo "logs: $work"
echo "$suite: ${p:-0} passed, ${f:-0} failed, ${s:-0} skipped"
