package localstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

func (c Config) binDir() string { return filepath.Join(c.CacheDir, "bin") }

// dir is where the component's binaries live: CacheDir/bin/<name@version>.
func (comp Component) dir(c Config) string { return filepath.Join(c.binDir(), comp.Key) }

// InstallOptions tunes Install.
type InstallOptions struct {
	Mode    Mode // Minimal skips Trillian, Rekor v1, the CT log and MariaDB
	NoTools bool // skip the client tools (cosign…): up does not need them
}

// Install builds every missing pinned component into the cache and makes
// sure MariaDB is present (full mode). It is idempotent: a component whose
// directory holds an .ok stamp is skipped, so a warm install only stats
// files. A component is built into a temporary directory and renamed into
// place, so an interrupted build leaves nothing half-installed.
func Install(ctx context.Context, c Config, opts InstallOptions) error {
	start := time.Now()
	if err := os.MkdirAll(c.binDir(), 0o755); err != nil {
		return err
	}
	// Two installs at once (two test binaries, two worktrees) take turns.
	unlock, err := flock(filepath.Join(c.CacheDir, "install.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	built := 0
	var selected []Component
	for _, comp := range Components {
		if comp.FullOnly && opts.Mode != Full || comp.Tool && opts.NoTools {
			continue
		}
		selected = append(selected, comp)
	}
	prefetched := prefetchWrappers(ctx, c, selected)
	for _, comp := range selected {
		if done, ok := prefetched[comp.Key]; ok {
			<-done
		}
		for _, bin := range sortedKeys(comp.Debian) {
			if err := ensureDebian(ctx, c, bin, comp.Debian[bin]); err != nil {
				return fmt.Errorf("%s: %w", comp.Key, err)
			}
		}
		did, err := comp.install(ctx, c)
		if err != nil {
			return err
		}
		if did {
			built++
		}
	}
	if opts.Mode == Full {
		if err := ensureMariaDB(ctx, c); err != nil {
			return err
		}
		if err := ensureAptPackages(ctx, c); err != nil {
			return err
		}
	}
	c.logf("local-stack: install done in %.1fs (%d components built, cache %s)", time.Since(start).Seconds(), built, c.binDir())
	return nil
}

// prefetchWrappers starts downloading the modules of each wrapper
// component still to be built and returns, per component key, a channel
// closed when that download ends. Vault's are ≈3 GB: network time that
// overlaps the CPU-bound builds listed before it. A failed download is
// not reported here: the build that follows fetches what is missing and
// names the error.
func prefetchWrappers(ctx context.Context, c Config, comps []Component) map[string]<-chan struct{} {
	done := map[string]<-chan struct{}{}
	for _, comp := range comps {
		if comp.Wrapper == "" || comp.complete(comp.dir(c)) {
			continue
		}
		ch := make(chan struct{})
		done[comp.Key] = ch
		cmd := exec.CommandContext(ctx, "go", "mod", "download")
		cmd.Dir = filepath.Join(c.SourceDir, comp.Wrapper)
		cmd.Env = append(os.Environ(), wrapperEnv...)
		go func() {
			defer close(ch)
			_ = cmd.Run()
		}()
	}
	return done
}

// wrapperEnv keeps a wrapper module's go.sum the pin: never let a command
// rewrite it, nor a go.work above it change the module graph.
var wrapperEnv = []string{"GOFLAGS=-mod=readonly -buildvcs=false", "GOWORK=off"}

func (comp Component) install(ctx context.Context, c Config) (bool, error) {
	dir := comp.dir(c)
	if comp.complete(dir) {
		return false, nil
	}
	if _, err := os.Stat(filepath.Join(dir, ".ok")); err == nil && comp.haveBinaries(dir) {
		// Built, but a file from the module is missing: fetch only that.
		return false, comp.copyModuleFiles(ctx, dir)
	}
	failed := filepath.Join(c.binDir(), comp.Key+".failed-"+runtime.Version())
	if comp.Optional {
		if _, err := os.Stat(failed); err == nil {
			c.logf("local-stack: skipping optional %s: it failed to build with %s before (see %s)", comp.Key, runtime.Version(), failed)
			return false, nil
		}
	}
	c.logf("local-stack: building %s ...", comp.Key)
	start := time.Now()
	tmp, err := os.MkdirTemp(c.binDir(), ".build-"+strings.ReplaceAll(comp.Key, "@", "-")+"-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	if err := comp.build(ctx, c, tmp); err != nil {
		if comp.Optional && ctx.Err() == nil {
			_ = os.WriteFile(failed, []byte(err.Error()), 0o644)
			c.logf("local-stack: optional %s did not build (recorded in %s)", comp.Key, failed)
			return false, nil
		}
		return false, err
	}
	if err := comp.copyModuleFiles(ctx, tmp); err != nil {
		return false, err
	}
	if err := os.WriteFile(filepath.Join(tmp, ".ok"), []byte(time.Now().UTC().Format(time.RFC3339)+" "+runtime.Version()+"\n"), 0o644); err != nil {
		return false, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return false, err
	}
	_ = os.RemoveAll(dir) // a directory without .ok is a leftover
	if err := os.Rename(tmp, dir); err != nil {
		return false, err
	}
	c.logf("local-stack: built %s in %.0fs", comp.Key, time.Since(start).Seconds())
	return true, nil
}

// build compiles the component's binaries into tmp.
func (comp Component) build(ctx context.Context, c Config, tmp string) error {
	flags := []string{"-trimpath", "-ldflags=-s -w"}
	if len(comp.Tags) > 0 {
		flags = append(flags, "-tags="+strings.Join(comp.Tags, ","))
	}
	env := os.Environ()
	if comp.CGO {
		env = append(env, "CGO_ENABLED=1")
	}
	run := func(cmd *exec.Cmd) error {
		var out strings.Builder
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, out.String())
		}
		return nil
	}
	if comp.NPM != "" {
		return run(exec.CommandContext(ctx, "npm", "install", "--prefix", tmp, "--no-audit", "--no-fund", "--no-save", "--ignore-scripts", comp.NPM))
	}
	if comp.Wrapper == "" {
		// One go install for all of a component's packages (they share a
		// module version), so shared dependencies compile once.
		env = append(env, "GOBIN="+tmp)
		return run(exec.CommandContext(ctx, "go", append(append([]string{"install"}, flags...), comp.Packages...)...))
	}
	if len(comp.Packages) != len(comp.Binaries) {
		return fmt.Errorf("component %s: a wrapper component names one binary per package", comp.Key)
	}
	dir := filepath.Join(c.SourceDir, comp.Wrapper)
	if _, err := os.Stat(filepath.Join(dir, "go.sum")); err != nil {
		return fmt.Errorf("component %s: wrapper module: %w (is SIGNET_STACK_SOURCE the repository?)", comp.Key, err)
	}
	env = append(env, wrapperEnv...)
	for i, pkg := range comp.Packages {
		cmd := exec.CommandContext(ctx, "go", append(append([]string{"build"}, flags...), "-o", filepath.Join(tmp, comp.Binaries[i]), pkg)...)
		cmd.Dir = dir
		if err := run(cmd); err != nil {
			return err
		}
	}
	return nil
}

// complete reports whether dir holds the stamp, every binary and every
// module file of the component.
func (comp Component) complete(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, ".ok")); err != nil {
		return false
	}
	if !comp.haveBinaries(dir) {
		return false
	}
	for _, f := range comp.ModuleFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

func (comp Component) haveBinaries(dir string) bool {
	for _, b := range comp.Binaries {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return false
		}
	}
	return true
}

// copyModuleFiles copies the component's ModuleFiles from the module cache
// into dir.
func (comp Component) copyModuleFiles(ctx context.Context, dir string) error {
	if comp.Module == "" {
		return nil
	}
	modDir, err := moduleDir(ctx, comp.Module)
	if err != nil {
		return err
	}
	for src, dst := range comp.ModuleFiles {
		b, err := os.ReadFile(filepath.Join(modDir, src))
		if err != nil {
			return fmt.Errorf("copying %s from %s: %w", src, comp.Module, err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// moduleDir returns the module cache directory of path@version,
// downloading the module if needed.
func moduleDir(ctx context.Context, modVersion string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", modVersion).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", modVersion, err)
	}
	const key = `"Dir": "`
	s := string(out)
	i := strings.Index(s, key)
	if i < 0 {
		return "", fmt.Errorf("go mod download %s: no Dir in output", modVersion)
	}
	s = s[i+len(key):]
	return s[:strings.IndexByte(s, '"')], nil
}

// ToolPath is the path of a client tool's binary in the cache (bin is
// one of the component's Binaries), or an error saying how to install it.
func ToolPath(c Config, key, bin string) (string, error) {
	for _, comp := range Components {
		if comp.Key != key {
			continue
		}
		if !comp.complete(comp.dir(c)) {
			return "", fmt.Errorf("%s is not installed in %s: run `hack/local-stack install`", key, c.binDir())
		}
		return filepath.Join(comp.dir(c), bin), nil
	}
	return "", fmt.Errorf("no pinned component %s", key)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ensureMariaDB installs Debian's mariadb-server when mariadbd is missing.
// Its service is never started: up runs a private server.
func ensureMariaDB(ctx context.Context, c Config) error {
	for _, bin := range []string{"mariadbd", "mariadb-install-db"} {
		if err := ensureDebian(ctx, c, bin, "mariadb-server"); err != nil {
			return fmt.Errorf("full mode needs MariaDB for Trillian: %w", err)
		}
	}
	return nil
}

// ensureAptPackages installs each of AptPackages whose program is missing.
func ensureAptPackages(ctx context.Context, c Config) error {
	for _, p := range AptPackages {
		if err := ensureDebian(ctx, c, p.Probe, p.Package); err != nil {
			return fmt.Errorf("the key-backend e2e tests need %s: %w", p.Package, err)
		}
	}
	return nil
}

// ensureDebian installs the Debian package pkg when the command bin is not
// found (as root; otherwise it says what to install).
func ensureDebian(ctx context.Context, c Config, bin, pkg string) error {
	if _, err := lookPathSbin(bin); err == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s not found and not root: install it with `sudo apt-get install %s`", bin, pkg)
	}
	c.logf("local-stack: installing %s from Debian ...", pkg)
	start := time.Now()
	log := filepath.Join(c.CacheDir, "apt-"+pkg+".log")
	install := func() error {
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "-q", "--no-install-recommends", pkg)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return runLogged(cmd, log, "apt-get install "+pkg)
	}
	if err := install(); err != nil {
		// Package lists may be missing or stale on a fresh machine.
		upd := exec.CommandContext(ctx, "apt-get", "update", "-q")
		if uerr := runLogged(upd, log, "apt-get update"); uerr != nil {
			return errors.Join(err, uerr)
		}
		if err := install(); err != nil {
			return err
		}
	}
	c.logf("local-stack: %s installed in %.0fs", pkg, time.Since(start).Seconds())
	return nil
}
