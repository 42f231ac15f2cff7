# hack/demo-stack.sh: the local Sigstore stack for make demo (sourced by
# hack/demo.sh). stack_up reuses a healthy stack, whoever started it, and
# leaves it running; when none is running it installs (with progress, and
# saying how long a first build takes) and starts a minimal one, which
# stack_down stops again unless DEMO_KEEP_STACK=1. A stack that is
# recorded but unhealthy is not touched: the demo stops and says so.
# DEMO_STACK (default hack/local-stack) is the driver; tests replace it.
demo_stack=${DEMO_STACK:-$PWD/hack/local-stack}
demo_stack_started=
# make demo runs with a temporary HOME: keep the real caches
export SIGNET_STACK_CACHE=${SIGNET_STACK_CACHE:-${HOME:+$HOME/.cache/signet-stack}}
if command -v go >/dev/null 2>&1; then
	export GOCACHE=${GOCACHE:-$(go env GOCACHE)} GOMODCACHE=${GOMODCACHE:-$(go env GOMODCACHE)} GOPATH=${GOPATH:-$(go env GOPATH)}
fi

stack_status() {
	local rc=0
	"$demo_stack" status >/dev/null 2>&1 || rc=$?
	echo "$rc"
}

stack_up() {
	case "$(stack_status)" in
	0)
		echo "(using the local Sigstore stack that is already running; it is left running)"
		return 0
		;;
	3) ;;
	*)
		echo "demo: a local Sigstore stack is recorded but not healthy (\`$demo_stack status\` says which service);" >&2
		echo "demo: it was not started by this demo, so it is left alone: \`$demo_stack down\` and run again" >&2
		exit 1
		;;
	esac
	echo "(no local Sigstore stack is running: starting a minimal one — OIDC issuer, Fulcio, Rekor v2,"
	echo " timestamp authority, registry — on 127.0.0.1, stopped again at the end; DEMO_KEEP_STACK=1 keeps it."
	echo " The first time, its servers are built from source: about 3 minutes on 2 cores; later, a second.)"
	local t0=$SECONDS
	"$demo_stack" install -minimal -no-tools # one line per component it builds: the progress
	local env
	if ! env=$("$demo_stack" up -minimal); then
		# another run may have started one meanwhile: use it if healthy
		if [ "$(stack_status)" = 0 ]; then
			echo "(a local stack came up meanwhile: using it, left running)"
			return 0
		fi
		echo "demo: could not start the local Sigstore stack (above)" >&2
		exit 1
	fi
	demo_stack_started=1
	echo "(local stack ready in $((SECONDS - t0))s)"
	: "$env" # the environment is read back with \`env\`
}

stack_down() {
	if [ -n "$demo_stack_started" ]; then
		if [ "${DEMO_KEEP_STACK:-}" = 1 ]; then
			echo "(the local stack is left running: \`$demo_stack down\` stops it)"
		else
			"$demo_stack" down >/dev/null 2>&1 && echo "(the local stack this demo started is stopped)"
		fi
	fi
}
