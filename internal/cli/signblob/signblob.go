// Package signblob is the `signet sign-blob` verb: sign one blob, or many
// with one certificate.
package signblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/batch"
	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/output"
	"github.com/signetdev/signet/internal/progress"
	"github.com/signetdev/signet/pkg/artifact"
	"github.com/signetdev/signet/pkg/signer"
	"github.com/signetdev/signet/pkg/verifier"
)

// Options are the inputs of sign-blob.
type Options struct {
	Signer flags.Signer

	Bundle            string
	NewBundleFormat   bool
	OutputSignature   string
	Output            string // cosign's older name for --output-signature
	OutputCertificate string
	RFC3161Timestamp  string
	B64               bool
	Format            output.Format

	Files []string
}

// Signed is sign-blob's JSON output (--output-format json,
// docs/JSON-OUTPUT.md): which bundle holds which file's signature.
type Signed struct {
	// SignedWith is "certificate" (keyless) or "key".
	SignedWith string `json:"signedWith"`
	// Certificate is the one certificate every file was signed under.
	Certificate *output.Certificate `json:"certificate,omitempty"`
	// Files are in the order given.
	Files []File `json:"files"`
}

// File is one file's outcome: a bundle, or an error.
type File struct {
	File   string `json:"file"`
	Digest string `json:"digest,omitempty"`
	Bundle string `json:"bundle,omitempty"`
	// Signature is the base64 signature, when no bundle holds it (a
	// signature cosign v2 would have printed).
	Signature string `json:"signature,omitempty"`
	Error     string `json:"error,omitempty"`
}

// NewCmdSignBlob builds the verb; runF replaces the run function in tests.
func NewCmdSignBlob(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "sign-blob [flags] FILE [FILE...]",
		Short: "Sign the supplied blob, outputting the base64-encoded signature to stdout",
		Long: `Sign blobs keylessly (an OIDC identity token is exchanged for a short-lived
Fulcio certificate) or with a key, record the signature in Rekor, timestamp
it, and write a Sigstore bundle.

Blobs are hashed as streams: any size, constant memory. Several files are
signed with one key and one certificate (one Fulcio request), each bundle
written beside its file as FILE.sigstore.json.`,
		Example: `  # in a GitLab CI job with id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore
  signet sign-blob --yes --bundle app.tar.gz.sigstore.json app.tar.gz

  # a release: every file, one certificate
  signet sign-blob --yes dist/*

  # with a key
  COSIGN_PASSWORD=… signet sign-blob --key cosign.key --bundle app.bundle app.tar.gz`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	fs := cmd.Flags()
	opts.Signer.AddFlags(fs, "path to the X.509 certificate for signing attestation")
	fs.StringVar(&opts.Bundle, "bundle", "", "write everything required to verify the blob to a FILE")
	fs.BoolVar(&opts.NewBundleFormat, "new-bundle-format", true, "output bundle in new format that contains all verification material")
	flags.Deprecated(fs, "new-bundle-format", "this will be the only supported format in future versions")
	fs.StringVar(&opts.OutputSignature, "output-signature", "", "write the signature to FILE")
	flags.Deprecated(fs, "output-signature", "please use --bundle to provide the output bundle location, which will include the signature")
	fs.StringVar(&opts.Output, "output", "", "write the signature to FILE")
	flags.Deprecated(fs, "output", "please use --bundle to provide the output bundle location, which will include the signature")
	fs.StringVar(&opts.OutputCertificate, "output-certificate", "", "write the certificate to FILE")
	flags.Deprecated(fs, "output-certificate", "please use --bundle to provide the output bundle location, which will include the certificate")
	fs.StringVar(&opts.RFC3161Timestamp, "rfc3161-timestamp", "", "write the RFC3161 timestamp to a file")
	flags.Deprecated(fs, "rfc3161-timestamp", "please use --bundle to provide the output bundle location, which will include the signed timestamp")
	fs.BoolVar(&opts.B64, "b64", true, "whether to base64 encode the output")
	flags.Deprecated(fs, "b64", "please use --bundle, which already base64 encodes content as appropriate")
	// cosign's --output here is the deprecated signature file, so the
	// format flag takes another name.
	opts.Format.AddFlag(fs, "output-format", "")
	return cmd
}

func run(ctx context.Context, f *cli.Factory, o *Options) error {
	if err := o.Format.Check(); err != nil {
		return err
	}
	if o.Output != "" && o.OutputSignature == "" {
		o.OutputSignature = o.Output
	}
	if len(o.Files) > 1 {
		if err := o.checkMany(); err != nil {
			return err
		}
	}
	s, services, err := o.Signer.New(ctx, f, len(o.Files) == 1 && o.Files[0] == "-")
	if err != nil {
		return err
	}
	if err := o.checkServices(services); err != nil {
		return err
	}
	var files []File
	if len(o.Files) == 1 {
		var one File
		one, err = signOne(ctx, f, s, o, o.Files[0])
		files = []File{one}
	} else {
		files, err = signMany(ctx, f, s, o.Files, progress.Count(f.IOStreams, o.Format.JSON(), len(o.Files), "signing"))
	}
	if !o.Format.JSON() || (len(o.Files) == 1 && err != nil) {
		return err
	}
	// With several files the document is printed even when some failed:
	// it says which bundles were written.
	doc := Signed{SignedWith: "key", Files: files}
	if c := s.Certificate(); c != nil {
		claims, cerr := verifier.ParseClaims(c)
		if cerr != nil {
			return errors.Join(err, cerr)
		}
		doc.SignedWith = "certificate"
		doc.Certificate = output.NewCertificate(c, claims)
	}
	if perr := output.Print(f.IOStreams.Out, doc); perr != nil && err == nil {
		err = perr
	}
	return err
}

// checkMany rejects flags that name a single output.
func (o *Options) checkMany() error {
	for flag, v := range map[string]string{"--bundle": o.Bundle, "--output-signature": o.OutputSignature, "--output-certificate": o.OutputCertificate, "--rfc3161-timestamp": o.RFC3161Timestamp} {
		if v != "" {
			return fmt.Errorf("%s names one file; with several files each bundle is written beside its file as FILE.sigstore.json", flag)
		}
	}
	if !o.NewBundleFormat {
		return errors.New("--new-bundle-format=false: several files are written only as Sigstore bundles")
	}
	for _, p := range o.Files {
		if p == "-" {
			return errors.New("standard input (-) can only be signed alone")
		}
	}
	return nil
}

// checkServices rejects, before anything is signed or logged, outputs the
// chosen services cannot fill.
func (o *Options) checkServices(s signer.Services) error {
	if o.RFC3161Timestamp != "" && len(s.TSAs) == 0 {
		return errors.New("--rfc3161-timestamp: no timestamp authority is configured (signing config, or --timestamp-server-url)")
	}
	if !o.NewBundleFormat && o.Bundle != "" {
		for _, r := range s.Rekor {
			if r.Version != 1 {
				return fmt.Errorf("--new-bundle-format=false: the legacy bundle cannot hold a Rekor v%d entry (%s)", r.Version, r.URL)
			}
		}
		if len(s.TSAs) > 0 && o.RFC3161Timestamp == "" {
			return errors.New("--new-bundle-format=false with a timestamp authority: the legacy bundle cannot hold the timestamp; give --rfc3161-timestamp FILE for it")
		}
	}
	return nil
}

// digestOf streams a file (or stdin) through the signer's hash.
// bar counts the bytes read (nil: none drawn).
func digestOf(f *cli.Factory, s *signer.Signer, path string, bar *progress.Bar) (artifact.Digest, error) {
	art := artifact.FromFile(path, f.IOStreams.In)
	art.Open = bar.Open(art.Open)
	sums, err := artifact.Sum(art, s.Hash())
	bar.Finish()
	if err != nil {
		return artifact.Digest{}, err
	}
	return artifact.Digest{Algorithm: s.Hash(), Value: sums[s.Hash()]}, nil
}

func signOne(ctx context.Context, f *cli.Factory, s *signer.Signer, o *Options, path string) (File, error) {
	res := File{File: path}
	if path != "-" {
		fmt.Fprintf(f.IOStreams.ErrOut, "Using payload from: %s\n", path)
	}
	d, err := digestOf(f, s, path, progress.File(f.IOStreams, o.Format.JSON(), path))
	if err != nil {
		return res, err
	}
	res.Digest = d.String()
	b, err := s.Sign(ctx, signer.Digest(d))
	if err != nil {
		return res, fmt.Errorf("signing %s: %w", path, err)
	}

	bundlePath := o.Bundle
	if bundlePath == "" && o.NewBundleFormat && o.OutputSignature == "" && o.OutputCertificate == "" && path != "-" {
		bundlePath = path + ".sigstore.json"
	}
	var outs flags.Outputs
	if bundlePath != "" {
		data, err := encodeBundle(b, o.NewBundleFormat)
		if err != nil {
			return res, err
		}
		outs.Add(bundlePath, data, "Wrote bundle to file "+bundlePath)
		res.Bundle = bundlePath
	}
	if o.OutputSignature != "" {
		sig, err := signer.SignatureFile(b, o.B64)
		if err != nil {
			return res, err
		}
		outs.Add(o.OutputSignature, sig, "Wrote signature to file "+o.OutputSignature)
	}
	if o.OutputCertificate != "" {
		if c := signer.CertificateFile(b, o.B64); c != nil {
			outs.Add(o.OutputCertificate, c, "Wrote certificate to file "+o.OutputCertificate)
		} else {
			f.Warnf("--output-certificate: signed with a key, there is no certificate to write")
		}
	}
	if o.RFC3161Timestamp != "" {
		ts, err := signer.TimestampFile(b)
		if err != nil {
			return res, err
		}
		outs.Add(o.RFC3161Timestamp, ts, "RFC3161 timestamp written to file "+o.RFC3161Timestamp)
	}
	if err := outs.Write(f.IOStreams.ErrOut); err != nil {
		return res, err
	}
	// cosign v2 printed the signature when it wrote no signature file;
	// scripts of that era capture it. A v3-style run (--bundle) does not.
	if o.OutputSignature == "" && (o.Bundle == "" || !o.NewBundleFormat) {
		sig, err := signer.SignatureFile(b, o.B64)
		if err != nil {
			return res, err
		}
		if o.Format.JSON() {
			// The signature goes into the document, base64 whatever --b64.
			sig, _ = signer.SignatureFile(b, true)
			res.Signature = string(sig)
		} else if o.B64 {
			fmt.Fprintln(f.IOStreams.Out, string(sig))
		} else {
			f.IOStreams.Out.Write(sig)
		}
	}
	return res, nil
}

func encodeBundle(b *bundle.Bundle, newFormat bool) ([]byte, error) {
	if newFormat {
		return b.MarshalJSON()
	}
	return signer.LegacyBundle(b)
}

// workers bounds how many files are hashed and logged at once: hashing
// wants the cores, Rekor round trips want concurrency.
const workers = 8

// signMany signs every file with the one signer, several at a time, and
// writes each bundle beside its file. A failure does not stop the others;
// all failures are reported together.
func signMany(ctx context.Context, f *cli.Factory, s *signer.Signer, files []string, bar *progress.Bar) ([]File, error) {
	type result struct {
		i   int
		res File
		err error
	}
	jobs := make(chan int)
	results := make(chan result)
	var wg sync.WaitGroup
	for i := 0; i < min(workers, len(files)); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := ctx.Err(); err != nil {
					// The run is over (--timeout, Ctrl-C): the files still
					// queued say so, rather than which step met the
					// deadline first.
					results <- result{i, File{File: files[i]}, fmt.Errorf("not started: %w", err)}
					continue
				}
				res, err := signFile(ctx, f, s, files[i])
				results <- result{i, res, err}
			}
		}()
	}
	go func() {
		for i := range files {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	out := make([]File, len(files))
	var failed []batch.Failure
	for r := range results {
		bar.Add(1)
		out[r.i] = r.res
		if r.err != nil {
			out[r.i].Error = r.err.Error()
			failed = append(failed, batch.Failure{Name: files[r.i], Err: r.err})
			continue
		}
		bar.Println(f.IOStreams.ErrOut, "Wrote bundle to file "+r.res.Bundle)
	}
	bar.Finish()
	return out, batch.New("files", len(files), failed)
}

func signFile(ctx context.Context, f *cli.Factory, s *signer.Signer, path string) (File, error) {
	res := File{File: path}
	if fi, err := os.Stat(path); err != nil {
		return res, err
	} else if fi.IsDir() {
		return res, errors.New("is a directory")
	}
	// One bar counts the files; none per file.
	d, err := digestOf(f, s, path, nil)
	if err != nil {
		return res, err
	}
	res.Digest = d.String()
	b, err := s.Sign(ctx, signer.Digest(d))
	if err != nil {
		return res, err
	}
	data, err := b.MarshalJSON()
	if err != nil {
		return res, err
	}
	var outs flags.Outputs
	outs.Add(path+".sigstore.json", data, "")
	if err := outs.Write(io.Discard); err != nil {
		return res, err
	}
	res.Bundle = path + ".sigstore.json"
	return res, nil
}
