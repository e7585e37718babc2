#!/usr/bin/env bash
# Tempest 33's identity API tests against a fresh Stratus node (see run.sh).
exec "$(dirname "${BASH_SOURCE[0]}")/run.sh" identity "$@"
