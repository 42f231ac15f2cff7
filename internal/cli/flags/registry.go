package flags

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/fileutil"
	"github.com/signetdev/signet/internal/version"
	"github.com/signetdev/signet/pkg/oci"
)

// Registry modes of --registry-referrers-mode.
const (
	ReferrersModeLegacy = "legacy"
	ReferrersModeOCI11  = "oci-1-1"
)

// Registry is cosign's registry flag group: how to reach and authenticate
// to registries, plus the COSIGN_REPOSITORY, COSIGN_DOCKER_MEDIA_TYPES and
// COSIGN_MAX_ATTACHMENT_SIZE variables read when the client is built.
type Registry struct {
	AllowHTTP     bool
	AllowInsecure bool
	K8sKeychain   bool

	Username, Password, Token string

	CACert, ClientCert, ClientKey, ServerName string

	// ReferrersMode is "", "legacy" or "oci-1-1" (only on the verbs that
	// register --registry-referrers-mode).
	ReferrersMode string
}

// AddFlags registers cosign's registry flags.
func (o *Registry) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.AllowHTTP, "allow-http-registry", false, "whether to allow using HTTP protocol while connecting to registries. Don't use this for anything but testing")
	fs.BoolVar(&o.AllowInsecure, "allow-insecure-registry", false, "whether to allow insecure connections to registries (e.g., with expired or self-signed TLS certificates). Don't use this for anything but testing")
	fs.BoolVar(&o.K8sKeychain, "k8s-keychain", false, "whether to use the kubernetes keychain instead of the default keychain (supports workload identity).")
	fs.StringVar(&o.Username, "registry-username", "", "registry basic auth username")
	fs.StringVar(&o.Password, "registry-password", "", "registry basic auth password")
	fs.StringVar(&o.Token, "registry-token", "", "registry bearer auth token")
	fs.StringVar(&o.CACert, "registry-cacert", "", "path to the X.509 CA certificate file in PEM format to be used for the connection to the registry")
	fs.StringVar(&o.ClientCert, "registry-client-cert", "", "path to the X.509 certificate file in PEM format to be used for the connection to the registry")
	fs.StringVar(&o.ClientKey, "registry-client-key", "", "path to the X.509 private key file in PEM format to be used, together with the 'registry-client-cert' value, for the connection to the registry")
	fs.StringVar(&o.ServerName, "registry-server-name", "", "SAN name to use as the 'ServerName' tls.Config field to verify the mTLS connection to the registry")
}

// AddReferrersModeFlag registers --registry-referrers-mode (sign, tree,
// attach sbom in cosign).
func (o *Registry) AddReferrersModeFlag(fs *pflag.FlagSet) {
	fs.Var((*referrersMode)(&o.ReferrersMode), "registry-referrers-mode", "mode for fetching references from the registry. allowed: legacy, oci-1-1")
}

// referrersMode is a pflag.Value with cosign's type name, so help and the
// flag surface read the same as cosign's.
type referrersMode string

func (m *referrersMode) String() string { return string(*m) }
func (m *referrersMode) Type() string   { return "registryReferrersMode" }
func (m *referrersMode) Set(v string) error {
	if v != ReferrersModeLegacy && v != ReferrersModeOCI11 {
		return fmt.Errorf("want %s or %s, got %q", ReferrersModeLegacy, ReferrersModeOCI11, v)
	}
	*m = referrersMode(v)
	return nil
}

// Client builds the registry client for these flags and the factory's
// environment and network.
func (o *Registry) Client(f *cli.Factory) (*oci.Client, error) {
	opts, err := o.Options(f)
	if err != nil {
		return nil, err
	}
	return oci.New(opts), nil
}

// Options converts the flags and COSIGN_* variables to oci.Options.
func (o *Registry) Options(f *cli.Factory) (oci.Options, error) {
	if o.K8sKeychain {
		return oci.Options{}, errors.New("--k8s-keychain is not supported by signet: use a Docker credential helper or --registry-username/--registry-password/--registry-token")
	}
	if o.ReferrersMode == ReferrersModeOCI11 {
		if on, _ := strconv.ParseBool(f.Getenv("COSIGN_EXPERIMENTAL")); !on {
			return oci.Options{}, errors.New(`--registry-referrers-mode: in order to use mode "oci-1-1", you must set COSIGN_EXPERIMENTAL=1`)
		}
	}
	auth, err := o.auth()
	if err != nil {
		return oci.Options{}, err
	}
	rt, err := o.transport(f.Transport)
	if err != nil {
		return oci.Options{}, err
	}
	repo, err := storageRepository(f.Getenv("COSIGN_REPOSITORY"))
	if err != nil {
		return oci.Options{}, err
	}
	maxSize := int64(oci.DefaultMaxAttachmentSize)
	if v, ok := lookupEnv(f, "COSIGN_MAX_ATTACHMENT_SIZE"); ok {
		n, perr := ParseByteSize(v)
		if perr != nil {
			// cosign silently keeps the default here; saying so costs nothing.
			f.Warnf("COSIGN_MAX_ATTACHMENT_SIZE %q: %v; using the default %d bytes", v, perr, maxSize)
		} else {
			maxSize = n
		}
	}
	docker, _ := strconv.ParseBool(f.Getenv("COSIGN_DOCKER_MEDIA_TYPES"))
	return oci.Options{
		Transport:         rt,
		Auth:              auth,
		AllowHTTP:         o.AllowHTTP || o.AllowInsecure,
		Repository:        repo,
		DockerMediaTypes:  docker,
		MaxAttachmentSize: maxSize,
		UserAgent:         userAgent(),
		Warnf:             f.Warnf,
	}, nil
}

func lookupEnv(f *cli.Factory, k string) (string, bool) {
	if f.LookupEnv != nil {
		return f.LookupEnv(k)
	}
	v := f.Getenv(k)
	return v, v != ""
}

// auth is the explicit authenticator of the flags, or nil for the default
// keychain. cosign silently falls back to the keychain when only one of
// username and password is given; signet says so instead.
func (o *Registry) auth() (authn.Authenticator, error) {
	basic := o.Username != "" || o.Password != ""
	switch {
	case basic && o.Token != "":
		return nil, errors.New("--registry-token conflicts with --registry-username/--registry-password: give one kind of credentials")
	case basic && (o.Username == "" || o.Password == ""):
		return nil, errors.New("--registry-username and --registry-password go together")
	case basic:
		return &authn.Basic{Username: o.Username, Password: o.Password}, nil
	case o.Token != "":
		return &authn.Bearer{Token: o.Token}, nil
	}
	return nil, nil
}

// transport applies the TLS flags to base. Without TLS flags base is used
// as is, so tests' transports stay in place.
func (o *Registry) transport(base http.RoundTripper) (http.RoundTripper, error) {
	cfg, err := o.tlsConfig()
	if err != nil || cfg == nil {
		return base, err
	}
	if base == nil {
		base = http.DefaultTransport
	}
	t, ok := base.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("registry TLS flags need an *http.Transport, have %T", base)
	}
	t = t.Clone()
	t.TLSClientConfig = cfg
	return t, nil
}

// tlsConfig is the TLS configuration the flags ask for; nil when none.
func (o *Registry) tlsConfig() (*tls.Config, error) {
	if !o.AllowInsecure && o.CACert == "" && o.ClientCert == "" && o.ClientKey == "" && o.ServerName == "" {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: o.ServerName, MinVersion: tls.VersionTLS12}
	// #nosec G402 -- the user asked for it with --allow-insecure-registry.
	cfg.InsecureSkipVerify = o.AllowInsecure
	if o.CACert != "" {
		pemBytes, err := fileutil.ReadLimit(o.CACert, maxPEMFile)
		if err != nil {
			return nil, fmt.Errorf("--registry-cacert %s: %w", o.CACert, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("--registry-cacert %s: no PEM certificate found", o.CACert)
		}
		cfg.RootCAs = pool
	}
	if (o.ClientCert == "") != (o.ClientKey == "") {
		return nil, errors.New("--registry-client-cert and --registry-client-key go together")
	}
	if o.ClientCert != "" {
		pair, err := tls.LoadX509KeyPair(o.ClientCert, o.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("--registry-client-cert %s/--registry-client-key %s: %w", o.ClientCert, o.ClientKey, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// storageRepository parses COSIGN_REPOSITORY as cosign does, with its hint
// for a bare registry.
func storageRepository(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	if _, err := name.NewRepository(v); err != nil {
		if !strings.Contains(v, "/") && strings.ContainsAny(v, ".:") {
			return "", fmt.Errorf("COSIGN_REPOSITORY %q looks like a registry, but it must be a full repository (registry plus path), e.g. %q: %w", v, v+"/my-repo", err)
		}
		return "", fmt.Errorf("COSIGN_REPOSITORY %q: %w", v, err)
	}
	return v, nil
}

// ParseByteSize parses a size as cosign parses COSIGN_MAX_ATTACHMENT_SIZE
// (go-humanize ParseBytes): a number, optionally fractional, then an
// optional unit: B, k/kB/K/KB (1000), Ki/KiB (1024), and so on to E;
// case-insensitive, spaces and commas allowed.
func ParseByteSize(s string) (int64, error) {
	t := strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, fmt.Errorf("not a size (want e.g. 134217728, 128MiB or 100MB)")
	}
	mult, ok := byteUnits[unit]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q", t[i:])
	}
	v := f * mult
	if v >= 1<<63 {
		return 0, fmt.Errorf("too large")
	}
	return int64(v), nil
}

var byteUnits = func() map[string]float64 {
	m := map[string]float64{"": 1, "b": 1}
	si, iec := 1.0, 1.0
	for _, p := range []string{"k", "m", "g", "t", "p", "e"} {
		si *= 1000
		iec *= 1024
		m[p], m[p+"b"] = si, si
		m[p+"i"], m[p+"ib"] = iec, iec
	}
	return m
}()

func userAgent() string {
	ua := "signet"
	if v := version.Get().GitVersion; v != "" {
		ua += "/" + v
	}
	return ua + " (" + runtime.GOOS + "; " + runtime.GOARCH + ")"
}
