// Package regcmd holds what cosign's registry verbs (triangulate, attach,
// download, tree, clean, copy, save, load) share: the hidden
// --attachment-tag-prefix flag, resolving the image argument and naming the
// legacy tags.
package regcmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/cli/flags"
	"github.com/signetdev/signet/internal/redact"
	"github.com/signetdev/signet/pkg/oci"
)

// Removal is cosign's deprecation notice for the verbs #4696 removes in v4.
const Removal = "will be removed in v4.0.0 (see https://github.com/sigstore/cosign/issues/4696)"

// SBOMDeprecation is cosign's warning for SBOM attachments (#2755).
const SBOMDeprecation = "SBOM attachments are deprecated and support will be removed in a Cosign release soon after 2024-02-22 (see https://github.com/sigstore/cosign/issues/2755). Instead, please use SBOM attestations."

// AddTagPrefixFlag registers cosign's hidden, deprecated
// --attachment-tag-prefix.
func AddTagPrefixFlag(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "attachment-tag-prefix", "", "optional custom prefix to use for attached image tags. Attachment images are tagged as: `[AttachmentTagPrefix]sha256-[TargetImageDigest].[AttachmentName]`")
	flags.Deprecated(fs, "attachment-tag-prefix", "please use OCI referrers")
}

// NoTagPrefix rejects --attachment-tag-prefix on verbs whose storage
// access goes through pkg/oci, which knows only the standard tags: better
// an error than reading or writing the wrong tag.
func NoTagPrefix(prefix string) error {
	if prefix != "" {
		return errors.New("--attachment-tag-prefix is not supported by this signet verb (only by triangulate); use the standard sha256-<hex> tags or OCI referrers")
	}
	return nil
}

// NoEnv marks a verb that, as in cosign, does not read COSIGN_<FLAG>
// variables (cosign binds them only on verbs with options.BindViper).
func NoEnv(cmd *cobra.Command) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[cli.NoEnvBindingAnnotation] = "true"
}

// Resolve parses s and resolves it to a digest. Errors name the reference.
func Resolve(ctx context.Context, c *oci.Client, s string) (oci.Target, error) {
	ref, err := c.ParseReference(s)
	if err != nil {
		return oci.Target{}, fmt.Errorf("image reference %q: %w", redact.Ref(s), err)
	}
	t, err := c.Resolve(ctx, ref)
	if err != nil {
		if errors.Is(err, oci.ErrNotFound) {
			return oci.Target{}, fmt.Errorf("image %s: not found in the registry: %w", s, err)
		}
		return oci.Target{}, fmt.Errorf("image %s: %w", s, err)
	}
	return t, nil
}

// Tag is d's legacy tag for suffix, with cosign's optional prefix.
func Tag(c *oci.Client, d name.Digest, suffix, prefix string) (name.Tag, error) {
	t, err := c.LegacyTag(d, suffix)
	if err != nil || prefix == "" {
		return t, err
	}
	return t.Context().Tag(prefix + t.TagStr()), nil
}

// Platform picks the manifest of t for platform ("os/arch[/variant]"):
// t itself when platform is empty; an error when t is not an index or
// has no such platform.
func Platform(ctx context.Context, c *oci.Client, t oci.Target, platform string) (oci.Target, error) {
	if platform == "" {
		return t, nil
	}
	children, err := c.Children(ctx, t)
	if err != nil {
		return oci.Target{}, fmt.Errorf("--platform %s: listing %s: %w", platform, t.Ref, err)
	}
	if len(children) == 0 {
		return oci.Target{}, fmt.Errorf("--platform %s: %s is an image, not an index of platforms", platform, t.Ref)
	}
	want, err := parsePlatform(platform)
	if err != nil {
		return oci.Target{}, err
	}
	var found []oci.Target
	for _, ch := range children {
		p := ch.Descriptor.Platform
		if p != nil && p.Satisfies(want) {
			found = append(found, ch)
		}
	}
	switch len(found) {
	case 0:
		return oci.Target{}, fmt.Errorf("--platform %s: no image for this platform in %s", platform, t.Ref)
	case 1:
		return found[0], nil
	}
	return oci.Target{}, fmt.Errorf("--platform %s: %d images in %s match; give os/arch/variant", platform, len(found), t.Ref)
}

// Deprecate marks cmd deprecated as cosign does — hidden from help, and a
// "Command … is deprecated" notice when run — but writes the notice to
// stderr: cobra's own Deprecated notice goes to the command's output
// stream, which is stdout here, and would corrupt what scripts capture.
func Deprecate(f *cli.Factory, cmd *cobra.Command, msg string) {
	cmd.Hidden = true
	// The command reference (internal/clidocs) still documents it.
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[cli.DeprecatedCommand] = msg
	run := cmd.RunE
	if run == nil {
		return
	}
	cmd.RunE = func(c *cobra.Command, args []string) error {
		fmt.Fprintf(f.IOStreams.ErrOut, "Command %q is deprecated, %s\n", c.Name(), msg)
		return run(c, args)
	}
}

// Open builds the registry client from the verb's registry flags and
// resolves image with it: the start of every registry verb.
func Open(ctx context.Context, f *cli.Factory, reg *flags.Registry, image string) (*oci.Client, oci.Target, error) {
	c, err := reg.Client(f)
	if err != nil {
		return nil, oci.Target{}, err
	}
	t, err := Resolve(ctx, c, image)
	return c, t, err
}
