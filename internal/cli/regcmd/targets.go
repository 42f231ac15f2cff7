package regcmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/pkg/oci"
)

// tagWarning is cosign's warning, word for word: scripts and people grep
// for it.
const tagWarning = `Image reference %s uses a tag, not a digest, to identify the image to sign.
    This can lead you to sign a different image than the intended one. Please use a
    digest (example.com/ubuntu@sha256:abc123...) rather than tag
    (example.com/ubuntu:latest) for the input to cosign. The ability to refer to
    images by tag will be removed in a future release.
`

// Targets resolves the images to sign: each reference to its digest (a
// tag with cosign's warning), with -r every manifest of an index too, and
// with --attachment the attachment image instead of the image.
func Targets(ctx context.Context, f *cli.Factory, c *oci.Client, images []string, recursive bool, attachment string) ([]oci.Target, error) {
	var out []oci.Target
	seen := map[string]bool{}
	add := func(t oci.Target) {
		if !seen[t.Digest.String()] {
			seen[t.Digest.String()] = true
			out = append(out, t)
		}
	}
	for _, img := range images {
		ref, err := c.ParseReference(img)
		if err != nil {
			return nil, err
		}
		if _, ok := ref.(name.Tag); ok {
			f.Warnf(tagWarning, ref)
		}
		t, err := c.Resolve(ctx, ref)
		if err != nil {
			return nil, cli.WithExitCode(exitForResolve(err), err)
		}
		if attachment != "" {
			if t, err = attachmentTarget(ctx, c, t, attachment); err != nil {
				return nil, err
			}
		}
		add(t)
		if recursive {
			children, err := c.Children(ctx, t)
			if err != nil {
				return nil, fmt.Errorf("-r: listing the manifests of %s: %w", t.Digest, err)
			}
			for _, ch := range children {
				add(ch)
			}
		}
	}
	return out, nil
}

func exitForResolve(err error) int {
	if errors.Is(err, oci.ErrNotFound) {
		return cli.ExitImageTagNotFound
	}
	return cli.ExitGeneric
}

// attachmentTarget is the image cosign v2 stored an attachment (sbom) in.
func attachmentTarget(ctx context.Context, c *oci.Client, t oci.Target, attachment string) (oci.Target, error) {
	if attachment != "sbom" {
		return oci.Target{}, fmt.Errorf("--attachment %q: the only attachment is sbom", attachment)
	}
	tag, err := c.LegacyTag(t.Digest, oci.SBOMSuffix)
	if err != nil {
		return oci.Target{}, err
	}
	at, err := c.Resolve(ctx, tag)
	if err != nil {
		return oci.Target{}, fmt.Errorf("--attachment sbom: %s: %w", tag, err)
	}
	return at, nil
}
