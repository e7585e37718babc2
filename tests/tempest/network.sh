#!/usr/bin/env bash
# Tempest 33's network API tests (tempest.api.network) against a fresh Stratus node (see run.sh): the
# network service with the extensions it reports, IPv6, and an external network "public"
# (tests/tempest/network_setup.py). Compute is off for these tests, as in Neutron's API-only jobs.
# Four at a time: Debian's Tempest sleeps 10 s before every subnet delete, so the runners mostly wait.
exec "$(dirname "${BASH_SOURCE[0]}")/run.sh" network "${1:-tempest.api.network}" "${2:-4}"
