#!/usr/bin/env bash
# hack/release/publish.sh: publish a signed, verified release from a tag
# pipeline: upload every file of $DIST_DIR (archives, their bundles,
# checksums.txt, the SBOM and the attestations) to the project's generic
# package registry, then create the GitLab release linking them. Uses the
# job's CI_JOB_TOKEN (never printed). PUBLISH_DRY_RUN=1 only lists what it
# would do.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${CI_COMMIT_TAG:?publish.sh runs in tag pipelines only}" "${CI_API_V4_URL:?}" "${CI_PROJECT_ID:?}"
base="$CI_API_V4_URL/projects/$CI_PROJECT_ID/packages/generic/signet/${CI_COMMIT_TAG#v}"
mapfile -t files < <(find "$dist" -maxdepth 1 -type f \( -name 'signet_*' -o -name '*.sigstore.json' \
	-o -name checksums.txt -o -name '*.intoto.json' -o -name '*.cdx.json' \) | LC_ALL=C sort)
links=""
for f in "${files[@]}"; do
	name=$(basename "$f")
	if [ "${PUBLISH_DRY_RUN:-}" = 1 ]; then
		echo "would upload $f to $base/$name"
	else
		curl --fail-with-body -sS --retry 3 -H "JOB-TOKEN: ${CI_JOB_TOKEN:?}" --upload-file "$f" "$base/$name" >/dev/null
	fi
	links+="${links:+,}{\"name\":\"$name\",\"url\":\"$base/$name\",\"link_type\":\"package\"}"
done
body="{\"tag_name\":\"$CI_COMMIT_TAG\",\"name\":\"signet $CI_COMMIT_TAG\",\"description\":\"Signed keylessly by $CI_PROJECT_URL//.gitlab-ci.yml@refs/tags/$CI_COMMIT_TAG; verify with signet verify-blob (see README).\",\"assets\":{\"links\":[$links]}}"
if [ "${PUBLISH_DRY_RUN:-}" = 1 ]; then
	echo "would create release: $body"
	exit 0
fi
curl --fail-with-body -sS --retry 3 -H "JOB-TOKEN: $CI_JOB_TOKEN" -H 'Content-Type: application/json' \
	--data "$body" "$CI_API_V4_URL/projects/$CI_PROJECT_ID/releases" >/dev/null
echo "publish.sh: released $CI_COMMIT_TAG with ${#files[@]} files" >&2
