// Package admission is `signet admission`: a Kubernetes admission webhook
// enforcing policy-controller's ClusterImagePolicy (serve), and the
// manifests that install it (manifests). The decisions are pkg/admission's;
// this package wires flags, the API server, TLS and HTTP.
package admission

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/pkg/admission"
	"github.com/signetdev/signet/pkg/keys"
	"github.com/signetdev/signet/pkg/policy"
)

// NewCmdAdmission is the `admission` group.
func NewCmdAdmission(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admission",
		Short: "Kubernetes admission webhook enforcing ClusterImagePolicy (policy-controller compatible)",
		Args:  cobra.NoArgs,
		Annotations: map[string]string{
			cli.NoEnvBindingAnnotation: "true",
		},
	}
	cmd.AddCommand(NewCmdServe(f, nil), NewCmdManifests(f, nil))
	return cmd
}

// ServeOptions are the inputs of `admission serve`.
type ServeOptions struct {
	Listen, TLSCert, TLSKey string
	PolicyFiles             []string
	TrustRoots              []string
	Kubeconfig              string
	NoMatch                 string
	SystemNamespace         string
	Timeout                 time.Duration
	CacheSize               int
	CacheTTL                time.Duration
	TrustRefresh            time.Duration
	Workers                 int
	PolicyConcurrency       int
	Trust                   flags.Trust
	Registry                flags.Registry

	// Ready, when set, is called with the listener's address once the
	// server accepts connections (tests).
	Ready func(addr string)
	// Compile compiles attestation policies (pkg/policy); nil refuses
	// them with a clear error.
	Compile admission.PolicyCompiler
}

// NewCmdServe builds `admission serve`; runF replaces the run function in tests.
func NewCmdServe(f *cli.Factory, runF func(context.Context, *ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{Compile: policyCompiler(f.PolicyEngine)}
	cmd := &cobra.Command{
		Use:   "serve --tls-cert FILE --tls-key FILE [--policy-file FILE]... [--kubeconfig FILE]",
		Short: "Serve the validating and mutating admission webhooks",
		Long: `Serve AdmissionReview (admission.k8s.io/v1) on /validate and /mutate, and
/healthz for probes, over HTTPS.

Policies are policy-controller's ClusterImagePolicy (v1alpha1 and v1beta1),
read unchanged: from --policy-file (YAML or JSON, repeatable), and from the
API server (list + watch) with --kubeconfig or, in a pod, its service
account. A policy signet cannot enforce as written is refused: its status
says why and the images it names are denied. A policy's trustRootRef names
a --trust-root, or a policy-controller TrustRoot (sigstoreKeys, remote TUF
mirror, or trustedRootJSON) from --policy-file or the API server.

/mutate resolves tags to digests (repo:tag@sha256:…); /validate requires
digests and verifies each image's signatures or attestations exactly as
signet verify does. Every matching policy must pass; within one, any
authority. Images no policy matches follow --no-match-policy.

Unless the GOGC environment variable is set, serve runs Go's garbage
collector at GOGC=400 rather than 100: the live heap is a few MiB, and at
100 it collected every few MiB of garbage, which cost a cached admission
10-30% more CPU and its tail latency the collector's pauses. Set
GOMEMLIMIT below the container's memory limit (the manifests do): serve
keeps half of it and gives the other half to the signet-policy program it
runs for attestation policies, as that program's GOMEMLIMIT.`,
		Args: cobra.NoArgs,
		Annotations: map[string]string{
			cli.NoEnvBindingAnnotation: "true",
			cli.NoTimeoutAnnotation:    "true",
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Serve(cmd.Context(), f, opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Listen, "listen", "0.0.0.0:8443", "HOST:PORT to serve HTTPS on")
	fs.StringVar(&opts.TLSCert, "tls-cert", "", "PEM certificate (chain) of the webhook; reloaded when the file changes")
	fs.StringVar(&opts.TLSKey, "tls-key", "", "PEM private key of --tls-cert; reloaded when the file changes")
	fs.StringArrayVar(&opts.PolicyFiles, "policy-file", nil, "ClusterImagePolicy and TrustRoot YAML/JSON file (repeatable)")
	fs.StringArrayVar(&opts.TrustRoots, "trust-root", nil, "NAME=FILE: a trusted_root.json a policy's trustRootRef NAME uses (repeatable)")
	fs.StringVar(&opts.Kubeconfig, "kubeconfig", "", "kubeconfig whose current context reaches the API server (default: in-cluster service account when in a pod)")
	fs.StringVar(&opts.NoMatch, "no-match-policy", "deny", "images no policy matches: deny, warn or allow")
	fs.StringVar(&opts.SystemNamespace, "system-namespace", "signet-system", "signet's own namespace: where a key.secretRef without one, and the ConfigMaps of policy.configMapRef, are read")
	fs.DurationVar(&opts.Timeout, "request-timeout", 20*time.Second, "deadline of one admission request (also kept 3s below the API server's own); keep it below the webhook's timeoutSeconds")
	fs.IntVar(&opts.CacheSize, "cache-size", 10000, "passing verdicts remembered (0 disables the cache)")
	fs.DurationVar(&opts.CacheTTL, "cache-ttl", 10*time.Minute, "how long a passing verdict is remembered")
	fs.DurationVar(&opts.TrustRefresh, "trust-refresh", 6*time.Hour, "how often the trust material (TUF) is reloaded")
	fs.IntVar(&opts.Workers, "workers", 8, "images of one request verified at once")
	fs.IntVar(&opts.PolicyConcurrency, "policy-concurrency", 0, fmt.Sprintf("attestation-policy evaluations run at once, each holding its statement in memory (0: GOMAXPROCS, at most 4; at most %d)", policy.MaxConcurrency))
	opts.Trust.AddFlags(fs)
	opts.Registry.AddFlags(fs)
	return cmd
}

// policyCompiler compiles ClusterImagePolicy attestation policies with
// pkg/policy, the engine verify-attestation uses, under
// policy-controller's conventions.
func policyCompiler(eng policy.Engine) admission.PolicyCompiler {
	return func(ctx context.Context, name, lang string, data []byte) (admission.StatementPolicy, error) {
		return policy.Compile(ctx, eng, policy.PolicyController, policy.Source{Name: name, Lang: policy.Lang(lang), Data: data})
	}
}

func (o *ServeOptions) validate() error {
	switch {
	case o.TLSCert == "" || o.TLSKey == "":
		return errors.New("--tls-cert and --tls-key are required: the API server only calls webhooks over HTTPS")
	case o.NoMatch != "deny" && o.NoMatch != "warn" && o.NoMatch != "allow":
		return fmt.Errorf("--no-match-policy %q: want deny, warn or allow", o.NoMatch)
	case o.Timeout <= 0:
		return fmt.Errorf("--request-timeout %s: must be positive", o.Timeout)
	case o.Workers < 1:
		return fmt.Errorf("--workers %d: must be at least 1", o.Workers)
	case o.PolicyConcurrency < 0 || o.PolicyConcurrency > policy.MaxConcurrency:
		return fmt.Errorf("--policy-concurrency %d: want 0 (GOMAXPROCS, at most 4) to %d", o.PolicyConcurrency, policy.MaxConcurrency)
	}
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		return fmt.Errorf("--listen %q: want HOST:PORT: %w", o.Listen, err)
	}
	return nil
}

// Serve runs the webhook until ctx is done.
func Serve(ctx context.Context, f *cli.Factory, o *ServeOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	defer serveGC(f.Getenv)()
	defer serveEngine(f.PolicyEngine, o.PolicyConcurrency)()
	logf := func(format string, args ...any) {
		fmt.Fprintf(f.IOStreams.ErrOut, f.Now().UTC().Format(time.RFC3339)+" "+format+"\n", args...)
	}
	certs, err := newCertReloader(o.TLSCert, o.TLSKey, f.Now, logf)
	if err != nil {
		return err
	}
	named, err := parseTrustRoots(o.TrustRoots)
	if err != nil {
		return err
	}
	ro, err := o.Registry.Options(f)
	if err != nil {
		return err
	}
	var kc *kube
	switch {
	case o.Kubeconfig != "":
		if kc, err = kubeFromConfig(o.Kubeconfig, f.Transport); err != nil {
			return err
		}
	case isInCluster(f.Getenv):
		if kc, err = kubeInCluster(f.Getenv, f.Transport); err != nil {
			return err
		}
	}
	st := &store{kube: kc, logf: logf, now: f.Now, api: map[string]*admission.Policy{}}
	ts := &trustSource{f: f, flags: &o.Trust, refresh: o.TrustRefresh, named: named,
		files: map[string]*trustObject{}, api: map[string]*trustObject{}}
	st.load = admission.LoadOptions{TrustRoots: map[string]bool{}, LateTrustRoots: kc != nil, SystemNamespace: o.SystemNamespace, Compile: o.Compile,
		Fetch: fetchPolicy(f),
		KMS: func(ctx context.Context, uri string) (signature.Verifier, error) {
			return keys.LoadVerifierContext(ctx, uri, f.Getenv)
		}}
	for n := range named {
		st.load.TrustRoots[n] = true
	}
	reg := &admission.Registry{Options: ro}
	if kc != nil {
		st.load.Secret = kc.secret
		st.load.PullSecrets = true
		reg.PullSecrets = pullSecrets(kc)
	}
	if err := st.loadFiles(ctx, o.PolicyFiles, ts); err != nil {
		return err
	}
	st.publish()
	if kc == nil {
		st.ready.Store(true)
		ts.listed.Store(true)
	} else {
		go ts.runTrustRoots(ctx, kc, logf)
		go st.run(ctx)
		go st.runConfigMaps(ctx)
	}
	engine := &admission.Engine{
		Policies:     st.policies,
		Source:       reg.Source,
		Resolve:      reg.Resolve,
		Configs:      reg.Configs,
		Parse:        reg.Parse,
		Trust:        ts.material,
		TrustVersion: ts.currentVersion,
		Cache:        admission.NewCache(o.CacheSize, o.CacheTTL, f.Now),
		NoMatch:      admission.NoMatch(o.NoMatch),
		Workers:      o.Workers,
	}
	ready := func() error {
		if err := st.readiness(); err != nil {
			return err
		}
		return ts.readiness()
	}
	srv := &server{engine: engine, ready: ready, timeout: o.Timeout, logf: logf}
	return listen(ctx, o, srv.handler(), certs, logf)
}

// loadFiles reads the --policy-file files: their TrustRoots first (a
// policy in any file may name them), then their policies.
func (s *store) loadFiles(ctx context.Context, files []string, ts *trustSource) error {
	var all [][]*admission.ClusterImagePolicy
	for _, file := range files {
		data, err := fileutil.ReadLimit(file, admission.MaxPolicySize)
		if err != nil {
			return fmt.Errorf("--policy-file %s: %w", file, err)
		}
		cips, trs, err := admission.ParseFile(data)
		if err != nil {
			return fmt.Errorf("--policy-file %s: %w", file, err)
		}
		for _, tr := range trs {
			if err := ts.addFileTrustRoot(tr); err != nil {
				return fmt.Errorf("--policy-file %s: %w", file, err)
			}
			if s.load.TrustRoots == nil {
				s.load.TrustRoots = map[string]bool{}
			}
			s.load.TrustRoots[tr.Metadata.Name] = true
		}
		all = append(all, cips)
	}
	s.compileMu.Lock()
	defer s.compileMu.Unlock()
	for i, file := range files {
		for _, c := range all[i] {
			// A file is under the operator's hand: refuse to start
			// rather than run with a policy that cannot be enforced.
			p, err := s.compile(ctx, fileKey(len(s.files)), c)
			if err != nil {
				return fmt.Errorf("--policy-file %s: %w", file, err)
			}
			s.files = append(s.files, p)
			s.fileCIPs = append(s.fileCIPs, c)
		}
	}
	return nil
}

func listen(ctx context.Context, o *ServeOptions, h http.Handler, certs *certReloader, logf func(string, ...any)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", o.Listen, err)
	}
	hs := httpServer(h, o.Timeout)
	hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.certificate}
	errc := make(chan error, 1)
	go func() { errc <- hs.ServeTLS(ln, "", "") }()
	logf("signet admission listening on https://%s (/validate, /mutate, /healthz)", ln.Addr())
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
		return nil
	}
}

// httpServer is the webhook's HTTP server without its TLS configuration
// (the benchmark serves the same one).
func httpServer(h http.Handler, timeout time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      timeout + 10*time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// serveGCPercent is serve's GOGC: see the command's help and
// docs/PERFORMANCE.md.
const serveGCPercent = 400

// serveEngine sets up the signet-policy serve runs for attestation
// policies: concurrency (--policy-concurrency; 0 is Process's default,
// GOMAXPROCS up to 4, not the CLI's one at a time), and its share of serve's soft memory limit (GOMEMLIMIT, the
// manifests' 400MiB under a 512Mi pod), which each would otherwise aim
// for the whole of. The engine gets half (a 5 MB SBOM costs it 80-230
// MiB, and its concurrent evaluations share it); serve's live heap is a
// few MiB plus the verdict cache, well inside the other half. Without
// GOMEMLIMIT each keeps its own default (none for serve,
// policy.EngineMemoryLimit of its concurrency for signet-policy). restore
// puts back what it changed.
func serveEngine(eng policy.Engine, concurrency int) (restore func()) {
	p, ok := eng.(*policy.Process)
	if !ok {
		return func() {}
	}
	oldConcurrency := p.Concurrency
	p.Concurrency = concurrency
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 || p.MemoryLimit > 0 {
		return func() { p.Concurrency = oldConcurrency }
	}
	p.MemoryLimit = limit / 2
	old := debug.SetMemoryLimit(limit - p.MemoryLimit)
	return func() { debug.SetMemoryLimit(old); p.MemoryLimit = 0; p.Concurrency = oldConcurrency }
}

// serveGC sets GOGC to serveGCPercent unless the environment sets GOGC;
// restore puts back what was there.
func serveGC(getenv func(string) string) (restore func()) {
	if getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(serveGCPercent)
	return func() { debug.SetGCPercent(old) }
}
