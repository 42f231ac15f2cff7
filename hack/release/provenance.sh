#!/usr/bin/env bash
# hack/release/provenance.sh: the SLSA v1 provenance of the release, as an
# in-toto statement whose subjects are every archive and checksums.txt,
# built from GitLab CI's predefined variables (CI_PROJECT_URL,
# CI_COMMIT_SHA, CI_PIPELINE_ID, CI_JOB_URL, the runner's…) of the job
# that ran build.sh: $DIST_DIR/provenance.intoto.json. sign.sh attests it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mapfile -t files < <(archives)
release_tool provenance -o "$dist/provenance.intoto.json" "${files[@]}" "$dist/checksums.txt"
echo "provenance.sh: wrote $dist/provenance.intoto.json" >&2
