#!/usr/bin/env bash
# make bench: signet against openssl (and cosign, when the local-stack cache
# has it) on the same file, in one run. Reports wall time and peak RSS.
#
#   SIZE_MIB=1024 RUNS=5 hack/bench.sh
#
# Timing is only meaningful on a quiet machine; the script warms the page
# cache and takes the median of RUNS runs.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-5}
WORK=${BENCH_DIR:-.bench}
SIGNET=${SIGNET:-bin/signet}
COSIGN=${COSIGN:-$(ls -1d "${SIGNET_STACK_CACHE:-$HOME/.cache/signet-stack}"/bin/cosign@v3*/cosign 2>/dev/null | tail -1 || true)}

command -v openssl >/dev/null || { echo "bench: openssl is required" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: GNU time (/usr/bin/time) is required: apt-get install time" >&2; exit 1; }
[ -x "$SIGNET" ] || { echo "bench: $SIGNET not built (make build)" >&2; exit 1; }

mkdir -p "$WORK"
blob="$WORK/blob-${SIZE_MIB}m"
if [ ! -f "$blob" ] || [ "$(stat -c %s "$blob")" != "$((SIZE_MIB * 1024 * 1024))" ]; then
  echo "creating $blob ($SIZE_MIB MiB)…" >&2
  head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom >"$blob.tmp" && mv "$blob.tmp" "$blob"
fi
if [ ! -f "$WORK/key.pem" ]; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/key.pem"
  openssl ec -in "$WORK/key.pem" -pubout -out "$WORK/key.pub" 2>/dev/null
fi
if [ ! -f "$blob.sig" ] || [ "$blob.sig" -ot "$blob" ]; then
  openssl dgst -sha256 -sign "$WORK/key.pem" "$blob" | base64 -w0 >"$blob.sig"
fi
cat "$blob" >/dev/null # warm the page cache

# measure NAME CMD...: median wall seconds and max peak RSS (KiB) of RUNS runs.
measure() {
  local name=$1; shift
  local times=() rss=0 t m
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$WORK/time.out" "$@" >/dev/null 2>&1 || { echo "bench: $name failed" >&2; exit 1; }
    read -r t m <"$WORK/time.out"
    times+=("$t"); [ "$m" -gt "$rss" ] && rss=$m
  done
  local med
  med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-34s %8.2f s %10.1f MiB\n' "$name" "$med" "$(echo "$rss/1024" | bc -l)"
  eval "${name//[^a-zA-Z0-9]/_}_t=$med; ${name//[^a-zA-Z0-9]/_}_rss=$rss"
}

# Each command must succeed once before it is timed.
"$SIGNET" verify-blob --key "$WORK/key.pub" --signature "$blob.sig" --insecure-ignore-tlog "$blob" 2>/dev/null \
  || { echo "bench: signet verify-blob failed" >&2; exit 1; }

echo "file: $blob ($SIZE_MIB MiB), median of $RUNS runs, peak RSS is the max"
printf '%-34s %10s %14s\n' "command" "time" "peak RSS"
measure "openssl dgst -sha256" openssl dgst -sha256 "$blob"
measure "signet verify-blob --key" "$SIGNET" verify-blob --key "$WORK/key.pub" --signature "$blob.sig" --insecure-ignore-tlog "$blob"
if [ -n "$COSIGN" ] && [ -x "$COSIGN" ]; then
  measure "cosign verify-blob --key" "$COSIGN" verify-blob --key "$WORK/key.pub" --signature "$blob.sig" --insecure-ignore-tlog=true --private-infrastructure "$blob"
else
  echo "(cosign not found: run hack/local-stack install, or set COSIGN=path, to compare)"
fi

# div A B: A/B, or 0 when B rounds to zero (a tiny SIZE_MIB).
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.4f", a / b; else print 0 }'; }
ratio=$(div "$signet_verify_blob___key_t" "$openssl_dgst__sha256_t")
rss_mib=$(echo "$signet_verify_blob___key_rss / 1024" | bc -l)
printf '\nverify: signet/openssl time %.2fx (target <= 1.15x); signet peak RSS %.1f MiB (target < 32 MiB)\n' "$ratio" "$rss_mib"
verify_ok=$(awk -v r="$ratio" -v m="$rss_mib" 'BEGIN { print (r <= 1.15 && m < 32) }')

# --- sign-blob with a key, same file -----------------------------------------
# The key is made by signet (cosign reads it too). No log: this measures
# hashing and signing, not the network. The trusted root only satisfies the
# post-signing check, which a key-signed bundle without a log does not use.
export COSIGN_PASSWORD=bench
[ -f "$WORK/signet.key" ] || "$SIGNET" generate-key-pair --output-key-prefix "$WORK/signet" >/dev/null 2>&1
TR=internal/trust/embedded/production-trusted-root.json
echo
measure "signet sign-blob --key" "$SIGNET" sign-blob --key "$WORK/signet.key" --tlog-upload=false --use-signing-config=false \
	--trusted-root "$TR" --bundle "$WORK/signet.bundle" "$blob"
if [ -n "$COSIGN" ] && [ -x "$COSIGN" ]; then
	measure "cosign sign-blob --key" env HOME="$WORK" "$COSIGN" sign-blob --yes --key "$WORK/signet.key" --tlog-upload=false \
		--use-signing-config=false --bundle "$WORK/cosign.bundle" "$blob"
fi
# The same key on a 1 KiB file: what does not depend on the blob (the Go
# runtime, and cosign's key format, whose scrypt N=65536 r=8 needs 64 MiB).
head -c 1024 /dev/urandom >"$WORK/small"
measure "signet sign-blob --key, 1 KiB" "$SIGNET" sign-blob --key "$WORK/signet.key" --tlog-upload=false --use-signing-config=false \
	--trusted-root "$TR" --bundle "$WORK/small.bundle" "$WORK/small"
sratio=$(div "$signet_sign_blob___key_t" "$openssl_dgst__sha256_t")
srss=$(echo "$signet_sign_blob___key_rss / 1024" | bc -l)
sgrowth=$(echo "($signet_sign_blob___key_rss - $signet_sign_blob___key__1_KiB_rss) / 1024" | bc -l)
printf '\nsign: signet/openssl time %.2fx (target <= 1.15x); peak RSS %.1f MiB, of which %.1f MiB grows with the blob (streaming: ~0)\n' "$sratio" "$srss" "$sgrowth"
sign_ok=$(awk -v r="$sratio" -v g="$sgrowth" 'BEGIN { print (r <= 1.15 && g <= 8) }')

# --- start-up, size, policies ------------------------------------------------
# Budgets (issue 9): stripped binary <= 45 MB; `signet version` <= 10 ms
# median and <= 32 MiB peak RSS; CUE and Rego policies over a 5 MB SBOM
# statement <= 0.5 s and <= 200 MiB each, judged on the engine's share
# (signet-policy alone; the whole verify-blob-attestation runs are
# reported beside it).
echo
size=$(stat -c %s "$SIGNET")
printf 'binary: %s bytes (%.1f MB; budget 45 MB)\n' "$size" "$(echo "$size / 1000000" | bc -l)"
size_ok=$(awk -v s="$size" 'BEGIN { print (s <= 45000000) }')
engine="$(dirname "$SIGNET")/signet-policy"
if [ -x "$engine" ]; then
	esize=$(stat -c %s "$engine")
	printf 'signet-policy (the CUE and Rego engines, run only for policies): %s bytes (%.1f MB)\n' "$esize" "$(echo "$esize / 1000000" | bc -l)"
fi
# Calibration: a Go program that only prints, on this machine, now.
hello="$WORK/hello"
if [ ! -x "$hello" ]; then
	mkdir -p "$WORK/hello.src" && printf 'package main\n\nimport "os"\n\nfunc main() { os.Stdout.WriteString("x\\n") }\n' >"$WORK/hello.src/main.go"
	(cd "$WORK/hello.src" && go build -o ../hello main.go)
fi
vtimes=()
vrss=0
for _ in $(seq 21); do
	/usr/bin/time -f "%e %M" -o "$WORK/time.out" "$SIGNET" version >/dev/null 2>&1
	read -r t m <"$WORK/time.out"
	vtimes+=("$t"); [ "$m" -gt "$vrss" ] && vrss=$m
done
vmed=$(printf '%s\n' "${vtimes[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
init_ms=$(GODEBUG=inittrace=1 "$SIGNET" version 2>&1 >/dev/null | awk '/^init / {s += $5} END {printf "%.1f", s}')
printf 'signet version: median %.0f ms of 21 runs (budget 10 ms; /usr/bin/time has 10 ms steps), peak RSS %.1f MiB (budget 32), package init %s ms\n' \
	"$(echo "$vmed * 1000" | bc -l)" "$(echo "$vrss / 1024" | bc -l)" "$init_ms"
version_ok=$(awk -v t="$vmed" -v m="$vrss" 'BEGIN { print (t <= 0.010 && m <= 32 * 1024) }')
if command -v perf >/dev/null && perf stat -r 1 true >/dev/null 2>&1; then
	# perf's mean of 50 runs resolves what /usr/bin/time's 10 ms steps cannot.
	pv=$(perf stat -r 50 "$SIGNET" version 2>&1 >/dev/null | awk '/seconds time elapsed/ {printf "%.1f", $1 * 1000}')
	ph=$(perf stat -r 50 "$hello" 2>&1 >/dev/null | awk '/seconds time elapsed/ {printf "%.1f", $1 * 1000}')
	printf 'signet version: mean %s ms of 50 runs (perf stat); a Go program that only prints: %s ms\n' "$pv" "$ph"
	# The floor: a program that links only sigstore-go, go-containerregistry
	# and cobra, and prints (hack/startupfloor).
	if go build -trimpath -ldflags='-s -w' -o "$WORK/startupfloor" ./hack/startupfloor 2>/dev/null; then
		pf=$(perf stat -r 50 "$WORK/startupfloor" 2>&1 >/dev/null | awk '/seconds time elapsed/ {printf "%.1f", $1 * 1000}')
		printf 'the same program linking sigstore-go, go-containerregistry and cobra (the floor): %s ms\n' "$pf"
	fi
	# The finer figure decides the budget.
	version_ok=$(awk -v t="$pv" -v m="$vrss" 'BEGIN { print (t <= 10 && m <= 32 * 1024) }')
fi

policy_ok=1
if [ "${BENCH_POLICY:-1}" = 1 ]; then
	sbom="$WORK/sbom-5m.cdx.json"
	if [ ! -f "$sbom" ]; then
		# A syft-like CycloneDX document of about 5 MB: 16000 components.
		awk 'BEGIN {
			printf "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"metadata\":{\"tools\":{\"components\":[{\"type\":\"application\",\"author\":\"anchore\",\"name\":\"syft\",\"version\":\"1.57.1\"}]}},\"components\":["
			for (i = 0; i < 16000; i++) {
				if (i) printf ","
				printf "{\"type\":\"library\",\"name\":\"pkg-%d\",\"version\":\"1.%d.0\",\"purl\":\"pkg:golang/example.com/pkg-%d@v1.%d.0\",\"licenses\":[{\"license\":{\"id\":\"Apache-2.0\"}}],\"properties\":[{\"name\":\"syft:package:foundBy\",\"value\":\"go-module-binary-cataloger\"},{\"name\":\"syft:location:0:path\",\"value\":\"/usr/local/bin/tool-%d\"}]}", i, i % 97, i, i % 97, i
			}
			printf "]}\n"
		}' >"$sbom.tmp" && mv "$sbom.tmp" "$sbom"
	fi
	printf 'predicateType: "https://cyclonedx.org/bom"\npredicate: metadata: tools: components: [...{name: "syft"}]\npredicate: components: [...{name: !="log4j-core"}]\n' >"$WORK/sbom.cue"
	printf 'package signature\n\nimport rego.v1\n\nallow if {\n\tinput.predicate.metadata.tools.components[_].name == "syft"\n\tnot forbidden\n}\n\nforbidden if input.predicate.components[_].name == "log4j-core"\n' >"$WORK/sbom.rego"
	if [ ! -f "$WORK/sbom.att.json" ] || [ "$WORK/sbom.att.json" -ot "$sbom" ] || [ "$WORK/sbom.att.json" -ot "$WORK/small" ]; then
		"$SIGNET" attest-blob --yes --key "$WORK/signet.key" --tlog-upload=false --use-signing-config=false --trusted-root "$TR" \
			--type cyclonedx --predicate "$sbom" --bundle "$WORK/sbom.att.json" "$WORK/small" >/dev/null 2>&1 \
			|| { echo "bench: attest-blob of the 5 MB SBOM failed" >&2; exit 1; }
	fi
	printf 'policy over a %s-byte SBOM statement (verify-blob-attestation, budget 0.5 s, 200 MiB; with a policy, peak RSS is the larger of signet and the signet-policy it runs):\n' "$(stat -c %s "$sbom")"
	for p in none sbom.cue sbom.rego; do
		args=()
		[ "$p" = none ] || args=(--policy "$WORK/$p")
		measure "verify-blob-attestation, $p" "$SIGNET" verify-blob-attestation --key "$WORK/signet.pub" --insecure-ignore-tlog \
			--type cyclonedx --bundle "$WORK/sbom.att.json" "${args[@]}" "$WORK/small"
	done
	# The engine's share: signet-policy fed what signet sends it for the
	# same statement, written and checked by pkg/policy's own code
	# (hack/policyrequest), so the bench follows the pipe protocol.
	if [ -x "$engine" ]; then
		{ printf '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://cyclonedx.org/bom","subject":[{"name":"small","digest":{"sha256":"%s"}}],"predicate":' \
			"$(sha256sum "$WORK/small" | cut -d' ' -f1)"; tr -d '\n' <"$sbom"; printf '}'; } >"$WORK/sbom.statement.json"
		"${GO:-go}" build -o "$WORK/policyrequest" ./hack/policyrequest
		for p in sbom.cue sbom.rego; do
			"$WORK/policyrequest" -policy "$WORK/$p" -statement "$WORK/sbom.statement.json" >"$WORK/$p.request"
			"$engine" <"$WORK/$p.request" | "$WORK/policyrequest" -answers \
				|| { echo "bench: signet-policy did not pass the 5 MB SBOM with $p" >&2; exit 1; }
			measure "signet-policy alone, $p" sh -c 'exec "$0" <"$1"' "$engine" "$WORK/$p.request"
		done
	fi
	# The budget is the policy's evaluation (issue 9), so it judges the
	# engine's share; the whole runs above add verification, reported
	# beside it.
	policy_ok=0
	if [ -x "$engine" ]; then
		policy_ok=$(awk -v a="$signet_policy_alone__sbom_cue_t" -v b="$signet_policy_alone__sbom_rego_t" \
			-v c="$signet_policy_alone__sbom_cue_rss" -v d="$signet_policy_alone__sbom_rego_rss" \
			'BEGIN { print (a <= 0.5 && b <= 0.5 && c <= 200 * 1024 && d <= 200 * 1024) }')
		printf 'policy evaluation (signet-policy alone): CUE %s s %.0f MiB, Rego %s s %.0f MiB (budget 0.5 s, 200 MiB each)\n' \
			"$signet_policy_alone__sbom_cue_t" "$(echo "$signet_policy_alone__sbom_cue_rss/1024" | bc -l)" \
			"$signet_policy_alone__sbom_rego_t" "$(echo "$signet_policy_alone__sbom_rego_rss/1024" | bc -l)"
	fi
fi

# --- keyless: 100 files in one run against the local stack --------------------
if [ "${BENCH_STACK:-1}" = 1 ] && [ -n "$COSIGN" ]; then
	started=
	if ! hack/local-stack status >/dev/null 2>&1; then
		hack/local-stack install >/dev/null && hack/local-stack up >/dev/null 2>&1 && started=1
	fi
	set -a; eval "$(hack/local-stack env)"; set +a
	[ -n "$started" ] && trap 'hack/local-stack down >/dev/null 2>&1' EXIT
	mkdir -p "$WORK/many"
	files=()
	for i in $(seq -w 1 100); do printf 'file %s\n' "$i" >"$WORK/many/f$i"; files+=("$WORK/many/f$i"); done
	token=$(curl -sf "$SIGNET_STACK_OIDC_TOKEN_URL?project_path=acme/bench&ttl=1h" | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
	echo
	measure "signet sign-blob keyless, $SIZE_MIB MiB" env SIGSTORE_ID_TOKEN="$token" "$SIGNET" sign-blob --yes \
		--signing-config "$SIGNET_STACK_SIGNING_CONFIG_V1" --trusted-root "$SIGNET_STACK_TRUSTED_ROOT" --bundle "$WORK/keyless.bundle" "$blob"
	start=$(date +%s.%N)
	SIGSTORE_ID_TOKEN=$token "$SIGNET" sign-blob --yes --signing-config "$SIGNET_STACK_SIGNING_CONFIG_V1" \
		--trusted-root "$SIGNET_STACK_TRUSTED_ROOT" "${files[@]}" 2>/dev/null
	signet_many=$(echo "$(date +%s.%N) - $start" | bc -l)
	start=$(date +%s.%N)
	for f in "${files[@]}"; do
		HOME="$WORK" "$COSIGN" sign-blob --yes --signing-config "$SIGNET_STACK_SIGNING_CONFIG_V1" \
			--trusted-root "$SIGNET_STACK_TRUSTED_ROOT" --identity-token "$token" --bundle "$f.cosign.json" "$f" >/dev/null 2>&1
	done
	cosign_many=$(echo "$(date +%s.%N) - $start" | bc -l)
	printf '%-34s %8.2f s\n' "signet sign-blob, 100 files, 1 run" "$signet_many" "cosign sign-blob, 100 runs" "$cosign_many"
	printf 'keyless, Rekor v1, local stack: signet is %.1fx faster\n' "$(div "$cosign_many" "$signet_many")"
fi

# --- images: verify --key of an image with IMAGE_SIGS signatures ------------
# On the local stack's registry (crane's: no referrers API, so bundles are
# listed by the sha256-<hex> fallback index), in both storage formats:
# IMAGE_SIGS bundle referrers (cosign v3's default), and one legacy .sig
# image of IMAGE_SIGS layers. Signed once (by signet when it can sign
# images, else by cosign) and cached in $WORK/image-*.ref while the
# registry keeps them. BENCH_IMAGE=0 skips this part; SIZE_MIB=1
# BENCH_STACK=0 makes the blob parts above quick.
bench_images() {
	local crane sc tr n=${IMAGE_SIGS:-50}
	if [ -z "$COSIGN" ] || [ ! -x "$COSIGN" ]; then
		echo "(images skipped: cosign not found: run hack/local-stack install, or set COSIGN=path)"; return
	fi
	if ! hack/local-stack status >/dev/null 2>&1; then
		echo "(images skipped: the local stack is down: hack/local-stack up)"; return
	fi
	if ! "$SIGNET" verify --help >/dev/null 2>&1; then
		echo "(images skipped: $SIGNET has no verify command yet)"; return
	fi
	set -a; eval "$(hack/local-stack env)"; set +a
	crane=$SIGNET_STACK_CRANE sc=$SIGNET_STACK_SIGNING_CONFIG_V1 tr=$SIGNET_STACK_TRUSTED_ROOT
	[ -x "$crane" ] || { echo "(images skipped: crane not found at $crane: hack/local-stack install)"; return; }
	export COSIGN_PASSWORD=bench
	[ -f "$WORK/signet.key" ] || "$SIGNET" generate-key-pair --output-key-prefix "$WORK/signet" >/dev/null 2>&1

	echo
	echo "image with $n signatures, key-based, Rekor v1, local registry $SIGNET_STACK_REGISTRY; median of $RUNS runs"
	local fmt flags ref signer i
	for fmt in bundle legacy; do
		flags=(--signing-config "$sc" --trusted-root "$tr")
		[ "$fmt" = legacy ] && flags=(--new-bundle-format=false --use-signing-config=false --rekor-url "$SIGNET_STACK_REKOR_V1_URL"
			--trusted-root "$tr")
		ref=$(cat "$WORK/image-$fmt-$n.ref" 2>/dev/null || true)
		if [ -z "$ref" ] || ! "$crane" digest "$ref" >/dev/null 2>&1; then
			head -c 4096 /dev/urandom >"$WORK/layer.bin" && tar -C "$WORK" -cf "$WORK/layer.tar" layer.bin
			local tag="$SIGNET_STACK_REGISTRY/bench/image-$fmt:$(date +%s)"
			"$crane" append --new_layer "$WORK/layer.tar" --new_tag "$tag" >/dev/null 2>&1 || { echo "bench: pushing $tag failed" >&2; exit 1; }
			ref="${tag%:*}@$("$crane" digest "$tag")"
			signer=signet
			for i in $(seq "$n"); do
				if [ "$signer" = signet ] && ! "$SIGNET" sign --yes --key "$WORK/signet.key" "${flags[@]}" "$ref" >/dev/null 2>&1; then
					[ "$i" = 1 ] || { echo "bench: signet sign failed on signature $i" >&2; exit 1; }
					signer=cosign
				fi
				if [ "$signer" = cosign ]; then
					HOME="$WORK" "$COSIGN" sign --yes --key "$WORK/signet.key" "${flags[@]}" "$ref" >/dev/null 2>&1 \
						|| { echo "bench: cosign sign failed on signature $i" >&2; exit 1; }
				fi
			done
			echo "($n $fmt signatures made by $signer)"
			echo "$ref" >"$WORK/image-$fmt-$n.ref"
		fi
		# Each command must succeed once, and see every signature, before it is timed.
		for cmd in "$SIGNET" "$COSIGN"; do
			got=$(HOME="$WORK" "$cmd" verify --key "$WORK/signet.pub" --trusted-root "$tr" "$ref" 2>/dev/null | grep -o docker-manifest-digest | wc -l) || true
			[ "$got" = "$n" ] || { echo "bench: $(basename "$cmd") verify of $ref found $got verified signatures, want $n" >&2; exit 1; }
		done
		measure "signet verify --key, $n $fmt" "$SIGNET" verify --key "$WORK/signet.pub" --trusted-root "$tr" "$ref"
		measure "cosign verify --key, $n $fmt" env HOME="$WORK" "$COSIGN" verify --key "$WORK/signet.pub" --trusted-root "$tr" "$ref"
	done
}
if [ "${BENCH_IMAGE:-1}" = 1 ]; then bench_images; fi

if [ "${BENCH_CHECK:-0}" = 1 ] && { [ "$verify_ok" != 1 ] || [ "$sign_ok" != 1 ] || [ "$size_ok" != 1 ] || [ "$version_ok" != 1 ] || [ "$policy_ok" != 1 ]; }; then
	echo "bench: target missed" >&2
	exit 1
fi
