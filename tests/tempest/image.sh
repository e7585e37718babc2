#!/usr/bin/env bash
# Tempest 33's image API tests (tempest.api.image) against a fresh Stratus node (see run.sh).
exec "$(dirname "${BASH_SOURCE[0]}")/run.sh" image "$@"
