// Package copycmd is `signet copy` (copy is a Go builtin): copy an image
// with its signatures, attestations, SBOM and referrers to another
// repository.
package copycmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/progress"
	"github.com/signetdev/signet/internal/redact"
	"github.com/signetdev/signet/pkg/oci"
)

// Options are the inputs of copy.
type Options struct {
	Registry  flags.Registry
	Only      []string
	SigOnly   bool
	Force     bool
	Platform  string
	TagPrefix string
	Src, Dst  string
}

// NewCmdCopy builds the verb.
func NewCmdCopy(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "copy [flags] SRC DST",
		Short: "Copy the supplied container image and signatures",
		Example: `  signet copy ghcr.io/acme/app:v1 registry.example.com/mirror/app:v1
  signet copy --only sig,att ghcr.io/acme/app:v1 registry.example.com/mirror/app:v1`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Src, opts.Dst = args[0], args[1]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	regcmd.NoEnv(cmd)
	regcmd.Deprecate(f, cmd, `there are several options you can use instead:
  - "oras copy -r" will copy images and referring artifacts
  - "cosign save" to write to disk, followed by "cosign load" for a new registry
  - "cosign download" followed by "cosign attach" to just copy the bundle`)
	fs := cmd.Flags()
	opts.Registry.AddFlags(fs)
	regcmd.AddTagPrefixFlag(fs, &opts.TagPrefix)
	fs.StringSliceVar(&opts.Only, "only", nil, "custom string array to only copy specific items, this flag is comma delimited. ex: --only=sig,att,sbom")
	fs.BoolVar(&opts.SigOnly, "sig-only", false, "[DEPRECATED] only copy the image signature")
	flags.Deprecated(fs, "sig-only", "use --only=sig")
	fs.BoolVarP(&opts.Force, "force", "f", false, "overwrite destination image(s), if necessary")
	fs.StringVar(&opts.Platform, "platform", "", "only copy container image and its signatures for a specific platform image")
	return cmd
}

// What selects the parts copy copies.
type What struct{ Image, Sig, Att, SBOM bool }

// Selection parses --only/--sig-only: nothing given copies everything;
// --only copies just the listed attachments, not the image.
func Selection(only []string, sigOnly bool) (What, error) {
	if sigOnly {
		only = append(only, "sig")
	}
	if len(only) == 0 {
		return What{Image: true, Sig: true, Att: true, SBOM: true}, nil
	}
	var w What
	for _, o := range only {
		switch strings.TrimSpace(o) {
		case "sig":
			w.Sig = true
		case "att":
			w.Att = true
		case "sbom":
			w.SBOM = true
		default:
			return What{}, fmt.Errorf("--only: unknown item %q (want sig, att or sbom)", o)
		}
	}
	return w, nil
}

func run(ctx context.Context, f *cli.Factory, opts *Options) error {
	if err := regcmd.NoTagPrefix(opts.TagPrefix); err != nil {
		return err
	}
	what, err := Selection(opts.Only, opts.SigOnly)
	if err != nil {
		return err
	}
	c, err := opts.Registry.Client(f)
	if err != nil {
		return err
	}
	dst, err := c.ParseReference(opts.Dst)
	if err != nil {
		return fmt.Errorf("destination %q: %w", redact.Ref(opts.Dst), err)
	}
	t, err := regcmd.Resolve(ctx, c, opts.Src)
	if err != nil {
		return err
	}
	if t, err = regcmd.Platform(ctx, c, t, opts.Platform); err != nil {
		return err
	}
	// ggcr reads manifests up to 100 MiB; copy reads them as pkg/oci does.
	ro := c.RemoteOptions(ctx)
	cp := copier{ro: ro, force: opts.Force, out: f.IOStreams.ErrOut, ios: f.IOStreams}
	if what.Image {
		if err := cp.manifest(t.Digest, dst); err != nil {
			return err
		}
	}
	targets := []oci.Target{t}
	if what.Image && opts.Platform == "" {
		// An index's platform images carry their own signatures.
		children, err := c.Children(ctx, t)
		if err != nil {
			return fmt.Errorf("listing %s: %w", opts.Src, err)
		}
		targets = append(targets, children...)
	}
	for _, tt := range targets {
		if err := cp.attachments(ctx, c, tt, dst.Context(), what); err != nil {
			return err
		}
	}
	return nil
}

type copier struct {
	ro    []remote.Option
	force bool
	out   io.Writer // cosign's "Copying … to …..." progress lines
	ios   *iostreams.IOStreams
}

// manifest copies src (an image or an index, blobs streamed) to dst.
func (cp copier) manifest(src name.Reference, dst name.Reference) error {
	if !cp.force {
		if _, err := remote.Head(dst, cp.ro...); err == nil {
			return fmt.Errorf("image %q already exists. Use `-f` to overwrite", dst)
		}
	}
	fmt.Fprintf(cp.out, "Copying %s to %s...\n", src, dst)
	desc, err := remote.Get(src, cp.ro...)
	if err != nil {
		return fmt.Errorf("reading %s: %w", src, err)
	}
	if desc.Size > oci.MaxManifestSize {
		return fmt.Errorf("reading %s: manifest of %d bytes %w (%d)", src, desc.Size, oci.ErrTooLarge, oci.MaxManifestSize)
	}
	// Large layers get a bar on a terminal; ro is a copy, so the
	// attachments (small) are written without one.
	ro := cp.ro
	updates, wait := progress.Transfer(cp.ios, false, "copying")
	if updates != nil {
		ro = append(append([]remote.Option{}, cp.ro...), remote.WithProgress(updates))
	}
	defer wait()
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return fmt.Errorf("reading %s: %w", src, err)
		}
		err = remote.WriteIndex(dst, idx, ro...)
		return wrapWrite(dst, err)
	}
	img, err := desc.Image()
	if err != nil {
		return fmt.Errorf("reading %s: %w", src, err)
	}
	return wrapWrite(dst, remote.Write(dst, img, ro...))
}

func wrapWrite(dst name.Reference, err error) error {
	if err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	return nil
}

func (cp copier) attachments(ctx context.Context, c *oci.Client, t oci.Target, dstRepo name.Repository, what What) error {
	for _, s := range []struct {
		on     bool
		suffix string
	}{{what.Sig, oci.SignatureSuffix}, {what.Att, oci.AttestationSuffix}, {what.SBOM, oci.SBOMSuffix}} {
		if !s.on {
			continue
		}
		src, err := c.LegacyTag(t.Digest, s.suffix)
		if err != nil {
			return err
		}
		if _, err := remote.Head(src, cp.ro...); err != nil {
			continue // nothing stored: nothing to copy
		}
		if err := cp.manifest(src, dstRepo.Tag(src.TagStr())); err != nil {
			return err
		}
	}
	if !what.Sig && !what.Att {
		return nil
	}
	refs, err := c.Referrers(ctx, t.Digest, "")
	if err != nil {
		return fmt.Errorf("listing referrers of %s: %w", t.Digest, err)
	}
	srcRepo, err := c.StorageRepository(t.Digest)
	if err != nil {
		return err
	}
	for _, r := range refs {
		src := srcRepo.Digest(r.Descriptor.Digest.String())
		dst := dstRepo.Digest(r.Descriptor.Digest.String())
		// Same digest: already there is the same content.
		cpf := cp
		cpf.force = true
		if err := cpf.manifest(src, dst); err != nil {
			if errors.Is(err, oci.ErrNotFound) {
				continue
			}
			return err
		}
	}
	return nil
}
