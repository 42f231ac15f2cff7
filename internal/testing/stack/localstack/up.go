package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Service names, as used by status, stop and start.
const (
	SvcOIDC           = "oidc"
	SvcTSA            = "tsa"
	SvcRegistry       = "registry"
	SvcRekorV2        = "rekor-v2"
	SvcMariaDB        = "mariadb"
	SvcTrillianServer = "trillian-log-server"
	SvcTrillianSigner = "trillian-log-signer"
	SvcRekorV1        = "rekor-v1"
	SvcCTLog          = "ctlog"
	SvcFulcio         = "fulcio"
)

// GitLabHost is the GitLab instance the OIDC issuer and Fulcio pretend
// tokens come from.
const GitLabHost = "gitlab.example.com"

// UpOptions tunes Up.
type UpOptions struct {
	Mode  Mode
	Reuse bool // if a healthy stack of the same mode runs, keep it instead of failing
}

// ErrAlreadyRunning is returned by Up when a stack is recorded as running.
var ErrAlreadyRunning = errors.New("a local stack is already running")

// Up wipes the run directory, generates the PKI, starts every service of
// the mode, waits for readiness and writes the trust documents. On failure
// it stops whatever it started.
func Up(ctx context.Context, c Config, opts UpOptions) (*State, error) {
	unlock, err := lock(c)
	if err != nil {
		return nil, err
	}
	defer unlock()

	if old, err := LoadState(c); err == nil {
		if running := old.runningProcs(); len(running) > 0 {
			if !opts.Reuse || old.Mode != opts.Mode {
				return nil, fmt.Errorf("%w (%s mode, %d services, state in %s): run `hack/local-stack down` first", ErrAlreadyRunning, old.Mode, len(running), c.StatePath())
			}
			herr := old.Healthy(ctx)
			if herr == nil {
				c.logf("local-stack: reusing the %s stack already running in %s", old.Mode, c.RunDir)
				return old, nil
			}
			c.logf("local-stack: the running stack is unhealthy, replacing it:\n%v", herr)
			if err := old.stopAll(); err != nil {
				return nil, err
			}
		}
	}
	bins, err := resolveBinaries(c, opts.Mode)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(c.RunDir); err != nil {
		return nil, fmt.Errorf("wiping %s: %w", c.RunDir, err)
	}
	for _, d := range []string{"logs", "data", "pki"} {
		if err := os.MkdirAll(c.path(d), 0o755); err != nil {
			return nil, err
		}
	}
	u := &upper{c: c, bins: bins, st: &State{Mode: opts.Mode, Created: time.Now().UTC(), TreeIDs: map[string]int64{}}}
	if err := u.checkPorts(); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := u.run(ctx); err != nil {
		if serr := u.st.stopAll(); serr != nil {
			c.logf("local-stack: cleaning up after the failed start: %s", u.st.redact(serr.Error()))
		}
		_ = os.Remove(c.StatePath())
		return nil, errors.New(u.st.redact(err.Error()))
	}
	c.logf("local-stack: %s stack up in %.1fs", opts.Mode, time.Since(start).Seconds())
	return u.st, nil
}

type upper struct {
	c    Config
	bins map[string]string
	st   *State
	pki  *PKI
}

// allPorts lists every port the mode needs, by owner.
func (u *upper) allPorts() map[int]string {
	m := map[int]string{
		PortOIDC: SvcOIDC, PortFulcio: SvcFulcio, PortFulcioGRPC: SvcFulcio, PortFulcioMetrics: SvcFulcio,
		PortRekorV2: SvcRekorV2, PortRekorV2GRPC: SvcRekorV2, PortRekorV2Metrics: SvcRekorV2,
		PortTSA: SvcTSA, PortTSAMetrics: SvcTSA, PortRegistry: SvcRegistry,
	}
	if u.st.Mode == Full {
		for p, s := range map[int]string{
			PortMariaDB: SvcMariaDB, PortTrillianRPC: SvcTrillianServer, PortTrillianHTTP: SvcTrillianServer,
			PortSignerRPC: SvcTrillianSigner, PortSignerHTTP: SvcTrillianSigner, PortRekorV1: SvcRekorV1,
			PortCTLog: SvcCTLog, PortCTLogMetrics: SvcCTLog,
		} {
			m[p] = s
		}
	}
	return m
}

// checkPorts fails before anything starts if a port is taken.
func (u *upper) checkPorts() error {
	ports := u.allPorts()
	var errs []string
	for _, port := range slices.Sorted(maps.Keys(ports)) {
		if err := portFree(port); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", ports[port], err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("cannot start the local stack:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

func (u *upper) run(ctx context.Context) error {
	c, full := u.c, u.st.Mode == Full
	var err error
	if u.pki, err = generatePKI(c.path("pki")); err != nil {
		return fmt.Errorf("generating PKI: %w", err)
	}
	u.st.Secrets = u.pki.secrets()

	// Phase 1: services with no dependencies. The TSA goes before Rekor v1,
	// which would otherwise take :2112.
	first := []*Proc{u.oidc(), u.tsa(), u.registry(), u.rekorV2()}
	if full {
		if err := u.initMariaDB(ctx); err != nil {
			return err
		}
		first = append(first, u.mariadb())
	}
	if err := u.startAll(ctx, first...); err != nil {
		return err
	}
	if full {
		if err := u.loadSchema(ctx); err != nil {
			return err
		}
		if err := u.startAll(ctx, u.trillianServer(), u.trillianSigner()); err != nil {
			return err
		}
		for _, name := range []string{"rekor", "ctlog"} {
			id, err := u.createTree(ctx, name)
			if err != nil {
				return err
			}
			u.st.TreeIDs[name] = id
		}
		ct, err := u.ctlog()
		if err != nil {
			return err
		}
		if err := u.startAll(ctx, u.rekorV1(), ct); err != nil {
			return err
		}
	}
	fulcio, err := u.fulcio()
	if err != nil {
		return err
	}
	if err := u.startAll(ctx, fulcio); err != nil {
		return err
	}
	return u.writeDocuments()
}

// startAll starts the processes together and waits for all of them.
func (u *upper) startAll(ctx context.Context, procs ...*Proc) error {
	for _, p := range procs {
		if err := p.start(); err != nil {
			return err
		}
		u.st.Procs = append(u.st.Procs, p)
	}
	if err := u.st.save(u.c); err != nil { // record PIDs at once, so down finds them
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.waitReady(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (u *upper) newProc(name string, ports []int, ready Check, argv ...string) *Proc {
	return &Proc{Name: name, Argv: argv, Log: u.c.path("logs", name+".log"), Ports: ports, Ready: ready}
}

func (u *upper) oidc() *Proc {
	return u.newProc(SvcOIDC, []int{PortOIDC},
		Check{URL: httpURL(PortOIDC) + "/.well-known/openid-configuration", Want: "jwks_uri"},
		u.bins["oidc-issuer"], "-listen", hostPort(PortOIDC), "-issuer", httpURL(PortOIDC),
		"-key-file", u.pki.OIDCKeyPath, "-gitlab-host", GitLabHost)
}

func (u *upper) tsa() *Proc {
	p := u.newProc(SvcTSA, []int{PortTSA, PortTSAMetrics}, Check{URL: httpURL(PortTSA) + "/ping"},
		u.bins["timestamp-server"], "serve", "--host="+loopback, "--port="+strconv.Itoa(PortTSA),
		"--timestamp-signer=file", "--file-signer-key-path="+u.pki.TSAKeyPath,
		"--certificate-chain-path="+u.pki.TSAChainPath, "--disable-ntp-monitoring")
	return p
}

func (u *upper) registry() *Proc {
	return u.newProc(SvcRegistry, []int{PortRegistry}, Check{URL: httpURL(PortRegistry) + "/v2/"},
		u.bins["crane"], "registry", "serve", "--address", hostPort(PortRegistry))
}

func (u *upper) rekorV2() *Proc {
	dir := u.c.path("data", "rekor-tiles")
	_ = os.MkdirAll(dir, 0o755)
	return u.newProc(SvcRekorV2, []int{PortRekorV2, PortRekorV2GRPC, PortRekorV2Metrics},
		Check{URL: httpURL(PortRekorV2) + "/healthz"},
		u.bins["posix"], "serve", "--hostname="+loopback,
		"--http-address="+loopback, "--http-port="+strconv.Itoa(PortRekorV2),
		"--grpc-address="+loopback, "--grpc-port="+strconv.Itoa(PortRekorV2GRPC),
		"--http-metrics-port="+strconv.Itoa(PortRekorV2Metrics),
		"--storage-dir="+dir, "--signer-filepath="+u.pki.RekorV2Key, "--checkpoint-interval=500ms")
}

func (u *upper) mysqlSocket() string { return u.c.path("data", "mysql.sock") }

func (u *upper) initMariaDB(ctx context.Context) error {
	datadir := u.c.path("data", "mysql")
	cmd := exec.CommandContext(ctx, u.bins["mariadb-install-db"], "--no-defaults", "--datadir="+datadir,
		"--user=root", "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve")
	return runLogged(cmd, u.c.path("logs", "mariadb-install-db.log"), "initialising MariaDB")
}

func (u *upper) mariadb() *Proc {
	// A private server: own datadir, socket and port; root-run needs --user=root.
	p := u.newProc(SvcMariaDB, []int{PortMariaDB}, Check{TCP: hostPort(PortMariaDB)},
		u.bins["mariadbd"], "--no-defaults", "--datadir="+u.c.path("data", "mysql"),
		"--port="+strconv.Itoa(PortMariaDB), "--bind-address="+loopback,
		"--socket="+u.mysqlSocket(), "--pid-file="+u.c.path("data", "mysql.pid"),
		"--user=root", "--skip-grant-tables", "--skip-name-resolve", "--skip-log-bin",
		"--innodb-buffer-pool-size=64M", "--innodb-flush-log-at-trx-commit=0", "--max-connections=200")
	p.Cleanup = []string{u.mysqlSocket()}
	return p
}

// loadSchema creates the trillian database from the schema shipped with
// the pinned Trillian module.
func (u *upper) loadSchema(ctx context.Context) error {
	schema, err := os.Open(u.bins["storage.sql"])
	if err != nil {
		return err
	}
	defer schema.Close()
	client := func(args ...string) *exec.Cmd {
		return exec.CommandContext(ctx, u.bins["mariadb"], append([]string{"--no-defaults", "--protocol=socket", "--socket=" + u.mysqlSocket(), "-uroot"}, args...)...)
	}
	// The TCP port answers slightly before the server accepts queries.
	var lastErr error
	for i := 0; i < 50; i++ {
		if lastErr = client("-e", "CREATE DATABASE IF NOT EXISTS trillian").Run(); lastErr == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if lastErr != nil {
		return fmt.Errorf("creating the trillian database: %w", lastErr)
	}
	cmd := client("trillian")
	cmd.Stdin = schema
	return runLogged(cmd, u.c.path("logs", "mariadb-schema.log"), "loading the Trillian schema")
}

func (u *upper) mysqlURI() string {
	// Grants are skipped on our private server, so any credentials work.
	return fmt.Sprintf("trillian:trillian@tcp(%s)/trillian", hostPort(PortMariaDB))
}

func (u *upper) trillianServer() *Proc {
	p := u.newProc(SvcTrillianServer, []int{PortTrillianRPC, PortTrillianHTTP}, Check{TCP: hostPort(PortTrillianRPC)},
		u.bins["trillian_log_server"], "--storage_system=mysql", "--quota_system=mysql", "--mysql_uri="+u.mysqlURI(),
		"--rpc_endpoint="+hostPort(PortTrillianRPC), "--http_endpoint="+hostPort(PortTrillianHTTP))
	p.StopTimeout = time.Second // it lingers ~5 s after SIGTERM; its state is disposable
	return p
}

func (u *upper) trillianSigner() *Proc {
	p := u.newProc(SvcTrillianSigner, []int{PortSignerRPC, PortSignerHTTP}, Check{TCP: hostPort(PortSignerHTTP)},
		u.bins["trillian_log_signer"], "--storage_system=mysql", "--quota_system=mysql", "--mysql_uri="+u.mysqlURI(),
		"--rpc_endpoint="+hostPort(PortSignerRPC), "--http_endpoint="+hostPort(PortSignerHTTP),
		"--force_master", "--sequencer_interval=100ms", "--batch_size=500")
	p.StopTimeout = time.Second // it takes ~12 s to exit on SIGTERM; its state is disposable
	return p
}

func (u *upper) createTree(ctx context.Context, name string) (int64, error) {
	var lastErr error
	for i := 0; i < 20; i++ {
		cmd := exec.CommandContext(ctx, u.bins["createtree"], "--admin_server="+hostPort(PortTrillianRPC), "--display_name="+name)
		out, err := cmd.Output()
		if err == nil {
			id, perr := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
			if perr == nil {
				return id, nil
			}
			err = perr
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		lastErr = err
		time.Sleep(250 * time.Millisecond)
	}
	return 0, fmt.Errorf("creating the %s Trillian tree: %w", name, lastErr)
}

func (u *upper) rekorV1() *Proc {
	return u.newProc(SvcRekorV1, []int{PortRekorV1}, Check{URL: httpURL(PortRekorV1) + "/api/v1/log", Want: "treeSize"},
		u.bins["rekor-server"], "serve",
		"--trillian_log_server.address="+loopback, "--trillian_log_server.port="+strconv.Itoa(PortTrillianRPC),
		"--trillian_log_server.tlog_id="+strconv.FormatInt(u.st.TreeIDs["rekor"], 10),
		"--rekor_server.address="+loopback, "--rekor_server.hostname="+loopback, "--port="+strconv.Itoa(PortRekorV1),
		"--rekor_server.signer="+u.pki.RekorV1Key, "--log_type=prod",
		// The search index (POST /api/v1/index/retrieve, what cosign's
		// lookup of a detached signature by artifact hash uses) lives in
		// the stack's MariaDB: rekor-server creates its EntryIndex table
		// there, so no Redis is needed.
		"--enable_retrieve_api=true", "--search_index.storage_provider=mysql",
		"--search_index.mysql.dsn="+u.mysqlURI()+"?parseTime=true")
}

func (u *upper) ctlog() (*Proc, error) {
	cfg := u.c.path("ctlog.cfg")
	text := fmt.Sprintf(`config {
  log_id: %d
  prefix: "test"
  roots_pem_file: %q
  private_key {
    [type.googleapis.com/keyspb.PEMKeyFile] {
      path: %q
      password: %q
    }
  }
  ext_key_usages: "CodeSigning"
}
`, u.st.TreeIDs["ctlog"], u.pki.FulcioCertPath, u.pki.CTLogKeyPath, u.pki.CTLogKeyPass)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		return nil, err
	}
	return u.newProc(SvcCTLog, []int{PortCTLog, PortCTLogMetrics}, Check{URL: httpURL(PortCTLog) + "/test/ct/v1/get-sth", Want: "tree_size"},
		u.bins["ct_server"], "--log_config="+cfg, "--log_rpc_server="+hostPort(PortTrillianRPC),
		"--http_endpoint="+hostPort(PortCTLog), "--metrics_endpoint="+hostPort(PortCTLogMetrics)), nil
}

func (u *upper) fulcio() (*Proc, error) {
	cfgPath := u.c.path("fulcio-config.yaml")
	if err := os.WriteFile(cfgPath, []byte(fulcioConfig()), 0o644); err != nil {
		return nil, err
	}
	sock := u.c.path("data", "fulcio-legacy.sock")
	argv := []string{u.bins["fulcio"], "serve",
		"--host=" + loopback, "--port=" + strconv.Itoa(PortFulcio),
		"--grpc-host=" + loopback, "--grpc-port=" + strconv.Itoa(PortFulcioGRPC),
		"--metrics-port=" + strconv.Itoa(PortFulcioMetrics),
		"--ca=fileca", "--fileca-cert=" + u.pki.FulcioCertPath, "--fileca-key=" + u.pki.FulcioKeyPath,
		"--fileca-key-passwd=" + u.pki.FulcioKeyPass, "--fileca-watch=false",
		"--config-path=" + cfgPath, "--legacy-unix-domain-socket=" + sock, "--log_type=prod",
	}
	if u.st.Mode == Full {
		argv = append(argv, "--ct-log-url="+httpURL(PortCTLog)+"/test", "--ct-log-public-key-path="+u.pki.CTLogPubPath)
	} else {
		argv = append(argv, "--ct-log-url=")
	}
	p := u.newProc(SvcFulcio, []int{PortFulcio, PortFulcioGRPC, PortFulcioMetrics},
		Check{URL: httpURL(PortFulcio) + "/healthz", Want: "SERVING"}, argv...)
	p.Cleanup = []string{sock} // a stale socket kills the next start
	return p, nil
}

// fulcioConfig trusts our issuer as a GitLab CI provider, with templates
// that mirror Fulcio's public-good gitlab-pipeline entry. It is YAML:
// Fulcio reads JSON only with its Go field names, and YAML with the names
// its documentation uses.
func fulcioConfig() string {
	ext := [][2]string{
		{"build-signer-uri", "https://{{ .ci_config_ref_uri }}"},
		{"build-signer-digest", "ci_config_sha"},
		{"runner-environment", "runner_environment"},
		{"source-repository-uri", "{{ .url }}/{{ .project_path }}"},
		{"source-repository-digest", "sha"},
		{"source-repository-ref", `refs/{{if eq .ref_type "branch"}}heads/{{ else }}tags/{{end}}{{ .ref }}`},
		{"source-repository-identifier", "project_id"},
		{"source-repository-owner-uri", "{{ .url }}/{{ .namespace_path }}"},
		{"source-repository-owner-identifier", "namespace_id"},
		{"build-config-uri", "https://{{ .ci_config_ref_uri }}"},
		{"build-config-digest", "ci_config_sha"},
		{"build-trigger", "pipeline_source"},
		{"run-invocation-uri", "{{ .url }}/{{ .project_path }}/-/jobs/{{ .job_id }}"},
		{"source-repository-visibility-at-signing", "project_visibility"},
		{"deployment-environment", "environment"},
	}
	q := strconv.Quote // a Go-quoted ASCII string is a valid YAML double-quoted scalar
	var b strings.Builder
	fmt.Fprintf(&b, "oidc-issuers:\n  %s:\n", q(httpURL(PortOIDC)))
	fmt.Fprintf(&b, "    issuer-url: %s\n    client-id: sigstore\n    type: ci-provider\n    ci-provider: gitlab-pipeline\n", q(httpURL(PortOIDC)))
	b.WriteString("ci-issuer-metadata:\n  gitlab-pipeline:\n    default-template-values:\n")
	fmt.Fprintf(&b, "      url: %s\n      environment: \"\"\n    extension-templates:\n", q("https://"+GitLabHost))
	for _, e := range ext {
		fmt.Fprintf(&b, "      %s: %s\n", e[0], q(e[1]))
	}
	fmt.Fprintf(&b, "    subject-alternative-name-template: %s\n", q("https://{{ .ci_config_ref_uri }}"))
	return b.String()
}

// Environment variable names printed by up.
const (
	EnvDir             = "SIGNET_STACK_DIR"
	EnvMode            = "SIGNET_STACK_MODE"
	EnvOIDCIssuer      = "SIGNET_STACK_OIDC_ISSUER"
	EnvOIDCTokenURL    = "SIGNET_STACK_OIDC_TOKEN_URL"
	EnvFulcioURL       = "SIGNET_STACK_FULCIO_URL"
	EnvRekorV1URL      = "SIGNET_STACK_REKOR_V1_URL"
	EnvRekorV2URL      = "SIGNET_STACK_REKOR_V2_URL"
	EnvTSAURL          = "SIGNET_STACK_TSA_URL"
	EnvCTLogURL        = "SIGNET_STACK_CTLOG_URL"
	EnvRegistry        = "SIGNET_STACK_REGISTRY"
	EnvTrustedRoot     = "SIGNET_STACK_TRUSTED_ROOT"
	EnvSigningConfig   = "SIGNET_STACK_SIGNING_CONFIG"
	EnvSigningConfigV1 = "SIGNET_STACK_SIGNING_CONFIG_V1"
	EnvSigningConfigV2 = "SIGNET_STACK_SIGNING_CONFIG_V2"
	EnvFulcioCA        = "SIGNET_STACK_FULCIO_CA"
	EnvCosign          = "SIGNET_STACK_COSIGN"
	EnvCosignV2        = "SIGNET_STACK_COSIGN_V2"
	EnvCrane           = "SIGNET_STACK_CRANE"
	EnvGitLabHost      = "SIGNET_STACK_GITLAB_HOST"
)

func (u *upper) writeDocuments() error {
	c, full := u.c, u.st.Mode == Full
	tr := c.path("trusted_root.json")
	if err := writeTrustedRoot(tr, u.pki, u.st.Mode); err != nil {
		return fmt.Errorf("writing trusted root: %w", err)
	}
	spec := SigningConfigSpec{FulcioURL: httpURL(PortFulcio), OIDCURL: httpURL(PortOIDC), TSAURL: httpURL(PortTSA) + "/api/v1/timestamp"}
	v2spec := spec
	v2spec.RekorURL, v2spec.RekorVersion = httpURL(PortRekorV2), 2
	v2 := c.path("signing_config_v2.json")
	if err := WriteSigningConfig(v2, v2spec, u.pki.NotBefore); err != nil {
		return err
	}
	v1 := ""
	if full {
		v1spec := spec
		v1spec.RekorURL, v1spec.RekorVersion = httpURL(PortRekorV1), 1
		v1 = c.path("signing_config_v1.json")
		if err := WriteSigningConfig(v1, v1spec, u.pki.NotBefore); err != nil {
			return err
		}
	}
	defaultSC := v2
	if full {
		defaultSC = v1
	}
	env := []EnvVar{
		{EnvDir, c.RunDir},
		{EnvMode, string(u.st.Mode)},
		{EnvOIDCIssuer, httpURL(PortOIDC)},
		{EnvOIDCTokenURL, httpURL(PortOIDC) + "/token"},
		{EnvFulcioURL, httpURL(PortFulcio)},
		{EnvRekorV1URL, ifFull(full, httpURL(PortRekorV1))},
		{EnvRekorV2URL, httpURL(PortRekorV2)},
		{EnvTSAURL, httpURL(PortTSA) + "/api/v1/timestamp"},
		{EnvCTLogURL, ifFull(full, httpURL(PortCTLog)+"/test")},
		{EnvRegistry, hostPort(PortRegistry)},
		{EnvTrustedRoot, tr},
		{EnvSigningConfig, defaultSC},
		{EnvSigningConfigV1, v1},
		{EnvSigningConfigV2, v2},
		{EnvFulcioCA, u.pki.FulcioCertPath},
		{EnvCosign, u.bins["cosign"]},
		{EnvCosignV2, u.bins["cosign-v2"]},
		{EnvCrane, u.bins["crane"]},
		{EnvGitLabHost, GitLabHost},
	}
	u.st.Env = env
	if err := os.WriteFile(c.path("env"), []byte(u.st.EnvLines()), 0o644); err != nil {
		return err
	}
	return u.st.save(c)
}

func ifFull(full bool, v string) string {
	if full {
		return v
	}
	return ""
}

// runLogged runs cmd with its output in logPath, and on failure returns
// the tail of that log.
func runLogged(cmd *exec.Cmd, logPath, what string) error {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w; last lines of %s:\n%s", what, err, logPath, tail(logPath, 15))
	}
	return nil
}

// runningProcs lists the recorded processes still alive.
func (s *State) runningProcs() []*Proc {
	var out []*Proc
	for _, p := range s.Procs {
		if p.alive() {
			out = append(out, p)
		}
	}
	return out
}

// Healthy probes every service once.
func (s *State) Healthy(ctx context.Context) error {
	var errs []error
	for _, p := range s.Procs {
		if !p.alive() {
			errs = append(errs, fmt.Errorf("%s: not running", p.Name))
			continue
		}
		if err := p.Ready.Probe(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.Name, err))
		}
	}
	return errors.Join(errs...)
}

// stopAll stops every recorded process concurrently (each stop waits out
// its own grace period, so one at a time would add them up) and waits for
// their ports to be free.
func (s *State) stopAll() error {
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := len(s.Procs) - 1; i >= 0; i-- {
		p := s.Procs[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.stop(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := s.waitPortsFree(10 * time.Second); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *State) waitPortsFree(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		var busy []string
		for _, p := range s.Procs {
			for _, port := range p.Ports {
				if err := portFree(port); err != nil {
					busy = append(busy, fmt.Sprintf("%s: %v", p.Name, err))
				}
			}
		}
		if len(busy) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ports still in use after stopping:\n  %s", strings.Join(busy, "\n  "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Down stops every service up recorded (by PID and process group, nothing
// else) and waits until their ports are free. The run directory is kept
// for its logs; the next up wipes it.
func Down(c Config) error {
	unlock, err := lock(c)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := LoadState(c)
	if errors.Is(err, ErrNotRunning) {
		c.logf("local-stack: nothing recorded in %s; nothing to stop", c.RunDir)
		return nil
	}
	if err != nil {
		return err
	}
	start := time.Now()
	err = st.stopAll()
	if rerr := os.Remove(c.StatePath()); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	if err == nil {
		c.logf("local-stack: stopped %d services in %.1fs", len(st.Procs), time.Since(start).Seconds())
	}
	return err
}

// StopService stops one named service of the running stack.
func StopService(c Config, name string) error {
	return withService(c, name, func(st *State, p *Proc) error {
		if err := p.stop(); err != nil {
			return err
		}
		return (&State{Procs: []*Proc{p}}).waitPortsFree(10 * time.Second)
	})
}

// StartService starts one named service again, with the arguments it was
// first started with, and waits until it is ready.
func StartService(ctx context.Context, c Config, name string) error {
	return withService(c, name, func(st *State, p *Proc) error {
		if p.alive() {
			return nil
		}
		if err := p.start(); err != nil {
			return err
		}
		if err := st.save(c); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if err := p.waitReady(ctx); err != nil {
			return errors.New(st.redact(err.Error()))
		}
		return nil
	})
}

func withService(c Config, name string, f func(*State, *Proc) error) error {
	unlock, err := lock(c)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := LoadState(c)
	if err != nil {
		return err
	}
	p := st.Proc(name)
	if p == nil {
		return fmt.Errorf("no service %q in the %s stack (have: %s)", name, st.Mode, strings.Join(st.ServiceNames(), ", "))
	}
	if err := f(st, p); err != nil {
		return err
	}
	return st.save(c)
}

// ServiceStatus is one line of Status.
type ServiceStatus struct {
	Name    string `json:"name"`
	PID     int    `json:"pid"`
	Ports   []int  `json:"ports"`
	Running bool   `json:"running"`
	Healthy bool   `json:"healthy"`
	Error   string `json:"error,omitempty"`
}

// Status reports each recorded service.
func Status(ctx context.Context, c Config) (*State, []ServiceStatus, error) {
	st, err := LoadState(c)
	if err != nil {
		return nil, nil, err
	}
	var out []ServiceStatus
	for _, p := range st.Procs {
		s := ServiceStatus{Name: p.Name, PID: p.PID, Ports: p.Ports, Running: p.alive()}
		if s.Running {
			if err := p.Ready.Probe(ctx); err != nil {
				s.Error = err.Error()
			} else {
				s.Healthy = true
			}
		} else {
			s.Error = "not running"
		}
		out = append(out, s)
	}
	return st, out, nil
}

// MarshalStatus renders statuses as JSON.
func MarshalStatus(s []ServiceStatus) ([]byte, error) { return json.MarshalIndent(s, "", "  ") }

// resolveBinaries finds every binary the mode needs: the cache for the
// pinned servers, ToolsDir for the OIDC issuer, PATH (and /usr/sbin) for
// MariaDB.
func resolveBinaries(c Config, mode Mode) (map[string]string, error) {
	bins := map[string]string{}
	var missing []string
	for _, comp := range Components {
		if comp.FullOnly && mode != Full {
			continue
		}
		dir := comp.dir(c)
		if !comp.complete(dir) {
			if comp.Optional || comp.Tool {
				continue
			}
			missing = append(missing, comp.Key)
			continue
		}
		for _, b := range comp.Binaries {
			name := b
			if comp.Key == "cosign@"+CosignV2Version {
				name = "cosign-v2"
			}
			bins[name] = filepath.Join(dir, b)
		}
		for _, f := range comp.ModuleFiles {
			bins[f] = filepath.Join(dir, f)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("not installed in %s: %s; run `hack/local-stack install`", c.binDir(), strings.Join(missing, ", "))
	}
	issuer := filepath.Join(c.ToolsDir, "oidc-issuer")
	if _, err := os.Stat(issuer); err != nil {
		return nil, fmt.Errorf("oidc-issuer not built in %s (hack/local-stack builds it): %w", c.ToolsDir, err)
	}
	bins["oidc-issuer"] = issuer
	if mode == Full {
		for _, name := range []string{"mariadbd", "mariadb-install-db", "mariadb"} {
			p, err := lookPathSbin(name)
			if err != nil {
				return nil, fmt.Errorf("%s not found: run `hack/local-stack install` (installs mariadb-server from Debian): %w", name, err)
			}
			bins[name] = p
		}
	}
	return bins, nil
}

func lookPathSbin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}
