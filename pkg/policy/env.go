package policy

import (
	"runtime"
	"strconv"
	"strings"
)

// engineVars are the variables signet-policy is given from signet's
// environment, and why. Nothing else passes: the child evaluates policies
// over a statement and touches no network, file or credential, so
// COSIGN_PASSWORD, SIGSTORE_ID_TOKEN, registry and cloud credentials,
// proxies and the like have no business in it (nor in its
// /proc/<pid>/environ, nor in a core dump of it). HOME, TMPDIR and PATH
// are not needed either: the engines write no file and start no program
// (pkg/policy's process tests run the engines under this environment).
var engineVars = []string{
	// The collector's settings, when the user chose them (signet-policy
	// has its own defaults otherwise; cmd/signet-policy).
	"GOGC", "GOMEMLIMIT", "GOMAXPROCS",
	// Runtime diagnostics (gctrace and the like) for measurements.
	"GODEBUG", "GOTRACEBACK",
	// Rego's time builtins take a time zone ("Local" included): the
	// engine's local time must be signet's.
	"TZ", "ZONEINFO",
}

// windowsVars: a Windows process without SYSTEMROOT cannot load
// system libraries.
var windowsVars = []string{"SYSTEMROOT"}

// EngineEnv is the environment signet-policy runs with: the variables of
// parent that engineVars names, and, when memoryLimit > 0, GOMEMLIMIT set
// to it (bytes) in place of the parent's.
func EngineEnv(parent []string, memoryLimit int64) []string {
	keep := engineVars
	if runtime.GOOS == "windows" {
		keep = append(append([]string(nil), engineVars...), windowsVars...)
	}
	var env []string
	for _, kv := range parent {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || (memoryLimit > 0 && k == "GOMEMLIMIT") {
			continue
		}
		for _, want := range keep {
			if k == want || (runtime.GOOS == "windows" && strings.EqualFold(k, want)) {
				env = append(env, kv)
				break
			}
		}
	}
	if memoryLimit > 0 {
		env = append(env, "GOMEMLIMIT="+strconv.FormatInt(memoryLimit, 10))
	}
	if env == nil {
		// exec.Cmd reads a nil Env as "inherit everything".
		env = []string{}
	}
	return env
}

// EngineMemoryLimit is signet-policy's soft memory limit (GOMEMLIMIT, in
// bytes) when neither Process.MemoryLimit nor the environment sets one:
// 256 MiB for each check it runs at once, as each holds its statement as
// the engine's values (a 5 MB SBOM keeps ~130 MiB live in CUE, peaking at
// 240 MiB RSS; docs/PERFORMANCE.md), and 256 MiB more for the compiled
// sets and the runtime: 512 MiB for one check at once, 1.25 GiB for four
// (Concurrency's default at most), 4.25 GiB at MaxConcurrency. A fixed limit would have the
// collector run back to back once a few large checks together outgrow
// it. It is soft: the collector works harder near it, nothing is refused.
func EngineMemoryLimit(concurrency int) int64 {
	n := int64(min(max(concurrency, 1), MaxConcurrency))
	return (n + 1) * 256 << 20
}

// envValue is key's value in env, "" when unset (the last one counts, as
// for exec.Cmd).
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		k, val, ok := strings.Cut(kv, "=")
		if ok && (k == key || (runtime.GOOS == "windows" && strings.EqualFold(k, key))) {
			v = val
		}
	}
	return v
}
