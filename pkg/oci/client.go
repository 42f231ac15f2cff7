package oci

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/signetdev/signet/internal/redact"
)

// maxIndexDepth bounds nested indexes (an index of indexes of ...).
const maxIndexDepth = 8

func (c *Client) nameOptions() []name.Option {
	if c.o.AllowHTTP {
		return []name.Option{name.Insecure}
	}
	return nil
}

func (c *Client) maxAttachment() int64 {
	if c.o.MaxAttachmentSize > 0 {
		return c.o.MaxAttachmentSize
	}
	return DefaultMaxAttachmentSize
}

func (c *Client) warnf(format string, args ...any) {
	if c.o.Warnf != nil {
		c.o.Warnf(format, args...)
	}
}

// RemoteOptions are ggcr remote options with this client's auth,
// transport (retries included, so ggcr's own are off), context and user
// agent, for verbs that call ggcr directly (copy, save, load, tree, clean).
// Manifest and referrers reads stop at MaxManifestSize (ggcr alone takes
// 100 MiB), also where ggcr reads on its own, as when remote.Put updates a
// referrers fallback index.
func (c *Client) RemoteOptions(ctx context.Context) []remote.Option {
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(boundManifests{c.base()}),
		remote.WithRetryPredicate(func(error) bool { return false }),
		remote.WithRetryStatusCodes(),
	}
	if c.o.UserAgent != "" {
		opts = append(opts, remote.WithUserAgent(c.o.UserAgent))
	}
	switch {
	case c.o.Auth != nil:
		opts = append(opts, remote.WithAuth(c.o.Auth))
	case c.o.Keychain != nil:
		opts = append(opts, remote.WithAuthFromKeychain(c.o.Keychain))
	default:
		opts = append(opts, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	}
	return opts
}

// ParseReference parses an image reference, allowing plain HTTP only when
// the client does.
func (c *Client) ParseReference(s string) (name.Reference, error) {
	ref, err := name.ParseReference(s, c.nameOptions()...)
	if err != nil {
		// A pasted "user:token@registry/…" must not echo the token.
		return nil, fmt.Errorf("parse image reference %q: %w", redact.Ref(s), redact.Error(err, s))
	}
	return ref, nil
}

// Resolve resolves a reference to its digest with one HEAD (GET when the
// registry does not answer HEAD). A missing tag or manifest wraps
// ErrNotFound.
func (c *Client) Resolve(ctx context.Context, ref name.Reference) (Target, error) {
	repo := ref.Context()
	id := ref.Identifier()
	desc, err := c.headManifest(ctx, repo, id)
	if err == nil {
		if d, ok := ref.(name.Digest); ok && d.DigestStr() != desc.Digest.String() {
			err = errors.New("digest mismatch") // believe the content, not the header
		}
	}
	if err != nil {
		if _, desc, err = c.getManifest(ctx, repo, id); err != nil {
			return Target{}, fmt.Errorf("resolve %s: %w", ref, err)
		}
	}
	return Target{Ref: ref, Digest: repo.Digest(desc.Digest.String()), Descriptor: desc}, nil
}

// Children returns the manifests of an index (nil for an image), for
// sign -r. Nested indexes are walked; at most MaxIndexChildren in all.
func (c *Client) Children(ctx context.Context, t Target) ([]Target, error) {
	if !t.Descriptor.MediaType.IsIndex() {
		return nil, nil
	}
	var out []Target
	seen := map[v1.Hash]bool{t.Descriptor.Digest: true}
	if err := c.walk(ctx, t, 0, seen, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Client) walk(ctx context.Context, t Target, depth int, seen map[v1.Hash]bool, out *[]Target) error {
	if depth >= maxIndexDepth {
		return fmt.Errorf("index %s: nested more than %d deep: %w", t.Digest, maxIndexDepth, ErrTooLarge)
	}
	repo := t.Digest.Context()
	raw, _, err := c.getManifest(ctx, repo, t.Digest.DigestStr())
	if err != nil {
		return err
	}
	idx, err := parseIndex(raw, MaxIndexChildren, "index "+t.Digest.String())
	if err != nil {
		return err
	}
	for _, d := range idx.Manifests {
		if seen[d.Digest] {
			continue
		}
		seen[d.Digest] = true
		if len(*out) >= MaxIndexChildren {
			return fmt.Errorf("index %s: more than %d manifests in all: %w", t.Digest, MaxIndexChildren, ErrTooLarge)
		}
		dig := repo.Digest(d.Digest.String())
		child := Target{Ref: dig, Digest: dig, Descriptor: d}
		*out = append(*out, child)
		if d.MediaType.IsIndex() {
			if err := c.walk(ctx, child, depth+1, seen, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// StorageRepository is where signatures of d are kept: d's repository, or
// Options.Repository.
func (c *Client) StorageRepository(d name.Digest) (name.Repository, error) {
	if c.o.Repository == "" {
		return d.Context(), nil
	}
	repo, err := name.NewRepository(c.o.Repository, c.nameOptions()...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("COSIGN_REPOSITORY %q: %w", c.o.Repository, err)
	}
	return repo, nil
}

// LegacyTag is the tag of d's signatures (suffix ".sig"), attestations
// (".att") or SBOM (".sbom"): [TagPrefix]sha256-<hex><suffix> in the
// storage repository.
func (c *Client) LegacyTag(d name.Digest, suffix string) (name.Tag, error) {
	repo, err := c.StorageRepository(d)
	if err != nil {
		return name.Tag{}, err
	}
	return repo.Tag(c.o.TagPrefix + strings.Replace(d.DigestStr(), ":", "-", 1) + suffix), nil
}

// fallbackTag is the referrers tag schema's tag for d in repo.
func fallbackTag(repo name.Repository, d name.Digest) name.Tag {
	return repo.Tag(strings.Replace(d.DigestStr(), ":", "-", 1))
}

// Delete deletes a tag or manifest.
func (c *Client) Delete(ctx context.Context, ref name.Reference) error {
	if err := remote.Delete(ref, c.RemoteOptions(ctx)...); err != nil {
		return fmt.Errorf("delete %s: %w", ref, mapError(err))
	}
	return nil
}
