// Package initialize is the `signet initialize` verb: it (re)creates the
// TUF cache that verification reads trust material from.
package initialize

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/trust"
)

// Options are the inputs of `signet initialize`.
type Options struct {
	IO *iostreams.IOStreams
	// Trust carries the environment (TUF_ROOT, TUF_ROOT_JSON), network,
	// clock and warnings.
	Trust trust.Options

	Mirror       string // --mirror
	MirrorSet    bool   // --mirror was given (conflicts with --staging)
	Root         string // --root: file path or http(s) URL
	RootChecksum string // --root-checksum: [sha256:|sha512:]<hex>
	Staging      bool   // --staging
}

// maxRootSize bounds a downloaded --root (go-tuf's own bound for root.json).
const maxRootSize = 512000

// NewCmdInitialize builds the verb; runF replaces the run function in tests.
func NewCmdInitialize(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "initialize",
		Short: "Initializes SigStore root to retrieve trusted certificate and key targets for verification.",
		Long: `Initializes SigStore root to retrieve trusted certificate and key targets for verification.

The following options are used by default:
 - The current trusted Sigstore TUF root is embedded inside signet at the time of release.
 - SigStore remote TUF repository is pulled from the CDN mirror at tuf-repo-cdn.sigstore.dev.

To provide an out-of-band trusted initial root.json, use the --root flag with a file or URL reference.
This will enable you to point signet to a separate TUF root.

Any updated TUF repository will be written to $TUF_ROOT, or $HOME/.sigstore/root/ (the cosign layout:
cosign and signet share the cache). The previous cache of the mirror is replaced, only once the new one
has been fetched and verified.

Trusted keys and certificates used in verification (e.g. verifying Fulcio issued certificates
with Fulcio root CA) are pulled from the trusted metadata.`,
		Example: `  # initialize root with distributed root keys, default mirror, and default out path.
  signet initialize

  # initialize with an out-of-band root key file, using the default mirror.
  signet initialize --root <file>

  # initialize with an out-of-band root key file and custom repository mirror.
  signet initialize --mirror <url> --root <file>

  # initialize with a root downloaded over https, checking its checksum.
  signet initialize --mirror <url> --root <url> --root-checksum <sha256>

  # an air-gapped repository copied to local disk
  signet initialize --mirror file:///srv/tuf --root /srv/tuf/1.root.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.MirrorSet = cmd.Flags().Changed("mirror")
			opts.Trust = f.TrustOptions()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return initializeRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Mirror, "mirror", trust.DefaultMirror,
		"GCS bucket to a SigStore TUF repository, or HTTP(S) base URL, or file:/// for local filestore remote (air-gap)")
	fl.StringVar(&opts.Root, "root", "",
		"path to trusted initial root. defaults to embedded root")
	_ = cmd.MarkFlagFilename("root", "json")
	fl.StringVar(&opts.RootChecksum, "root-checksum", "",
		"checksum of the initial root, required if root is downloaded via http(s). expects sha256 by default, can be changed to sha512 by providing sha512:<checksum>")
	fl.BoolVar(&opts.Staging, "staging", false,
		"use the staging TUF repository ("+trust.StagingMirror+") and its root")
	return cmd
}

func initializeRun(ctx context.Context, opts *Options) error {
	mirror := opts.Mirror
	if opts.Staging {
		if opts.MirrorSet && !strings.EqualFold(strings.TrimRight(mirror, "/"), trust.StagingMirror) {
			return errors.New("--staging and --mirror cannot be used together")
		}
		mirror = trust.StagingMirror
	}
	var rootJSON []byte
	if opts.Root != "" {
		var err error
		if rootJSON, err = loadRoot(ctx, opts.Trust.Transport, opts.Root, opts.RootChecksum); err != nil {
			return err
		}
	} else if opts.RootChecksum != "" {
		return errors.New("--root-checksum needs --root")
	}
	res, err := trust.Initialize(ctx, opts.Trust, mirror, rootJSON)
	if err != nil {
		return err
	}
	if opts.Trust.Debugf != nil {
		opts.Trust.Debugf("TUF cache %s initialized from %s (root version %d, signing config: %t)",
			res.CacheDir, res.Mirror, res.RootVersion, res.SigningConfig)
	}
	return nil
}

// loadRoot reads --root from a file or an http(s) URL (which needs a
// checksum) and checks the checksum when one is given.
func loadRoot(ctx context.Context, rt http.RoundTripper, ref, checksum string) ([]byte, error) {
	var data []byte
	var err error
	if isHTTP(ref) {
		if checksum == "" {
			return nil, fmt.Errorf("--root %s is downloaded over http(s): give its --root-checksum", ref)
		}
		data, err = download(ctx, rt, ref)
	} else {
		data, err = readRootFile(ref)
	}
	if err != nil {
		return nil, err
	}
	if checksum != "" {
		if err := verifyChecksum(data, checksum); err != nil {
			return nil, fmt.Errorf("--root %s: %w", ref, err)
		}
	}
	return data, nil
}

func isHTTP(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")
}

func readRootFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--root: %w", err)
	}
	defer f.Close()
	return readLimited(f, "--root "+path)
}

func download(ctx context.Context, rt http.RoundTripper, u string) ([]byte, error) {
	if rt == nil {
		rt = http.DefaultTransport
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("--root %s: %w", u, err)
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("--root: downloading: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("--root %s: downloading: %s", u, resp.Status)
	}
	return readLimited(resp.Body, "--root "+u)
}

func readLimited(r io.Reader, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRootSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(data) > maxRootSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", what, maxRootSize)
	}
	return data, nil
}

// verifyChecksum checks data against "<hex>" (SHA-256), "sha256:<hex>" or
// "sha512:<hex>".
func verifyChecksum(data []byte, checksum string) error {
	alg, want, found := strings.Cut(checksum, ":")
	if !found {
		alg, want = "sha256", checksum
	}
	var h hash.Hash
	switch strings.ToLower(alg) {
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	default:
		return fmt.Errorf("--root-checksum: unsupported algorithm %q (want sha256 or sha512)", alg)
	}
	wantBytes, err := hex.DecodeString(strings.TrimSpace(want))
	if err != nil || len(wantBytes) != h.Size() {
		return fmt.Errorf("--root-checksum: %q is not a hex %s digest", want, strings.ToLower(alg))
	}
	h.Write(data)
	got := h.Sum(nil)
	if subtle.ConstantTimeCompare(got, wantBytes) != 1 {
		return fmt.Errorf("%s checksum mismatch: got %x, want %x", strings.ToLower(alg), got, wantBytes)
	}
	return nil
}
