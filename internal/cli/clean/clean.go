// Package clean is `signet clean`: delete an image's signatures,
// attestations, SBOM and/or referrers.
package clean

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/cli/regcmd"
	"github.com/signetdev/signet/pkg/oci"
)

// Options are the inputs of clean.
type Options struct {
	Registry  flags.Registry
	Type      cleanType
	Force     bool
	TagPrefix string
	Image     string
}

// cleanType is a pflag.Value with cosign's type name and error.
type cleanType string

func (t *cleanType) String() string { return string(*t) }
func (t *cleanType) Type() string   { return "CLEAN_TYPE" }
func (t *cleanType) Set(v string) error {
	switch v {
	case "signature", "attestation", "referrer", "sbom", "all":
		*t = cleanType(v)
		return nil
	}
	return errors.New(`must be one of "signature", "attestation", "referrer", "sbom", or "all"`)
}

// NewCmdClean builds the verb.
func NewCmdClean(f *cli.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{Type: "all"}
	cmd := &cobra.Command{
		Use:     "clean [flags] IMAGE",
		Short:   "Remove all signatures from an image",
		Example: "  signet clean ghcr.io/acme/app:v1\n  signet clean -f --type signature ghcr.io/acme/app:v1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Image = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), f, opts)
		},
	}
	fs := cmd.Flags()
	opts.Registry.AddFlags(fs)
	regcmd.AddTagPrefixFlag(fs, &opts.TagPrefix)
	fs.VarP(&opts.Type, "type", "", "a type of clean: <signature|attestation|referrer|sbom|all> (sbom is deprecated)")
	fs.BoolVarP(&opts.Force, "force", "f", false, "do not prompt for confirmation")
	return cmd
}

var prompts = map[cleanType]string{
	"signature":   "this will remove all signatures from the image",
	"attestation": "this will remove all attestations from the image",
	"sbom":        "this will remove all SBOMs from the image",
	"referrer":    "this will remove all referrer attestations and/or signatures from the image",
	"all":         "this will remove all signatures, SBOMs and attestations from the image",
}

var suffixes = map[cleanType][]string{
	"signature":   {oci.SignatureSuffix},
	"attestation": {oci.AttestationSuffix},
	"sbom":        {oci.SBOMSuffix},
	"all":         {oci.SignatureSuffix, oci.AttestationSuffix, oci.SBOMSuffix},
}

func run(ctx context.Context, f *cli.Factory, opts *Options) error {
	if err := regcmd.NoTagPrefix(opts.TagPrefix); err != nil {
		return err
	}
	if !opts.Force {
		f.Warnf("%s", prompts[opts.Type])
		if err := cli.ConfirmContinue(f.IOStreams); err != nil {
			return err
		}
	}
	c, t, err := regcmd.Open(ctx, f, &opts.Registry, opts.Image)
	if err != nil {
		return err
	}
	var targets []name.Reference
	for _, s := range suffixes[opts.Type] {
		tag, err := c.LegacyTag(t.Digest, s)
		if err != nil {
			return err
		}
		targets = append(targets, tag)
	}
	refs, err := c.Referrers(ctx, t.Digest, "")
	if err != nil {
		return fmt.Errorf("listing referrers of %s: %w", opts.Image, err)
	}
	if opts.Type == "referrer" {
		for _, r := range refs {
			targets = append(targets, t.Digest.Context().Digest(r.Descriptor.Digest.String()))
		}
	} else if len(refs) > 0 {
		f.Warnf("image has referrers, consider using --type referrer")
	}
	var failed int
	for _, ref := range targets {
		err := c.Delete(ctx, ref)
		switch {
		case errors.Is(err, oci.ErrNotFound):
			// Nothing stored there: nothing to clean.
		case err != nil:
			failed++
			fmt.Fprintf(f.IOStreams.ErrOut, "could not delete %s from %s: %v\n", ref, opts.Image, err)
		default:
			fmt.Fprintf(f.IOStreams.ErrOut, "Removed %s from %s\n", ref, opts.Image)
		}
	}
	if failed > 0 {
		// cosign exits 0 here; a script cannot then tell. signet fails.
		return fmt.Errorf("clean %s: %d of %d deletions failed", opts.Image, failed, len(targets))
	}
	return nil
}
