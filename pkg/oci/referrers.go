package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Referrers lists the artifacts whose subject is d, of artifactType (""
// for all): the referrers API, or the sha256-<hex> fallback tag when the
// registry has none. Manifests and layers are fetched, bounded.
func (c *Client) Referrers(ctx context.Context, d name.Digest, artifactType string) ([]Referrer, error) {
	repo, err := c.StorageRepository(d)
	if err != nil {
		return nil, err
	}
	descs, err := c.listReferrers(ctx, repo, d, artifactType)
	if err != nil {
		return nil, err
	}
	var out []Referrer
	for _, desc := range descs {
		// The registry may ignore the filter; some (ggcr's) list the
		// config media type instead of the artifactType, so only a
		// definite mismatch is skipped before fetching.
		if artifactType != "" && desc.ArtifactType != "" && desc.ArtifactType != EmptyMediaType && desc.ArtifactType != artifactType {
			continue
		}
		if desc.MediaType.IsIndex() {
			continue // cosign writes image manifests only
		}
		r, ok, err := c.fetchReferrer(ctx, repo, d, desc, artifactType)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

func (c *Client) fetchReferrer(ctx context.Context, repo name.Repository, d name.Digest, desc v1.Descriptor, artifactType string) (Referrer, bool, error) {
	raw, got, err := c.getManifest(ctx, repo, desc.Digest.String())
	if err != nil {
		return Referrer{}, false, fmt.Errorf("referrer of %s: %w", d, err)
	}
	what := "referrer " + repo.Digest(desc.Digest.String()).String()
	m, err := parseManifest(raw, what)
	if err != nil {
		return Referrer{}, false, err
	}
	// A fallback index is an ordinary tag anyone with push access can
	// rewrite: believe the manifest, not the listing.
	if m.Subject == nil || m.Subject.Digest.String() != d.DigestStr() {
		c.warnf("%s: listed as a referrer of %s but its subject differs; skipped", what, d)
		return Referrer{}, false, nil
	}
	at := m.ArtifactType
	if at == "" {
		at = string(m.Config.MediaType)
	}
	if artifactType != "" && at != artifactType {
		return Referrer{}, false, nil
	}
	layers, err := c.readLayers(ctx, repo, m.Layers)
	if err != nil {
		return Referrer{}, false, fmt.Errorf("%s: %w", what, err)
	}
	got.ArtifactType = at
	got.Annotations = m.Annotations
	return Referrer{Descriptor: got, Manifest: m, Layers: layers}, true, nil
}

// listReferrers reads the referrers API, following Link pagination within
// MaxReferrersPages and MaxReferrers, or the fallback tag.
func (c *Client) listReferrers(ctx context.Context, repo name.Repository, d name.Digest, artifactType string) ([]v1.Descriptor, error) {
	hc, err := c.httpClient(ctx, repo)
	if err != nil {
		return nil, err
	}
	u := repoURL(repo, "referrers", d.DigestStr())
	if artifactType != "" {
		u += "?artifactType=" + url.QueryEscape(artifactType)
	}
	what := "referrers of " + d.String()
	var all []v1.Descriptor
	for page := 0; ; page++ {
		if page == MaxReferrersPages {
			return nil, fmt.Errorf("%s: more than %d pages: %w", what, MaxReferrersPages, ErrTooLarge)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", string(types.OCIImageIndex))
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if page == 0 && !isReferrersAPI(resp) {
			resp.Body.Close()
			return c.fallbackReferrers(ctx, repo, d)
		}
		idx, next, err := readReferrersPage(resp, req.URL, MaxReferrers-len(all), what)
		if err != nil {
			return nil, err
		}
		all = append(all, idx...)
		if next == nil {
			return all, nil
		}
		u = next.String()
	}
}

// isReferrersAPI: a registry without the API answers 404 (or 400/406), or
// 200 with something that is not an index (an HTML page, a catch-all).
func isReferrersAPI(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusNotFound, http.StatusBadRequest, http.StatusNotAcceptable, http.StatusMethodNotAllowed:
		return false
	case http.StatusOK:
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		return mt == string(types.OCIImageIndex)
	}
	return true // other failures are reported, not papered over
}

func readReferrersPage(resp *http.Response, req *url.URL, room int, what string) ([]v1.Descriptor, *url.URL, error) {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := readBounded(resp.Body, maxErrorBody, what)
		return nil, nil, fmt.Errorf("%s: %w", what, parseRegistryError(resp.StatusCode, body))
	}
	if resp.ContentLength > MaxManifestSize {
		return nil, nil, fmt.Errorf("%s: page of %d bytes, more than %d: %w", what, resp.ContentLength, MaxManifestSize, ErrTooLarge)
	}
	raw, err := readBounded(resp.Body, MaxManifestSize, what)
	if err != nil {
		return nil, nil, err
	}
	idx, err := parseIndex(raw, MaxReferrers, what)
	if err != nil {
		return nil, nil, err
	}
	if len(idx.Manifests) > room {
		return nil, nil, fmt.Errorf("%s: more than %d referrers: %w", what, MaxReferrers, ErrTooLarge)
	}
	next, err := nextLink(resp.Header.Get("Link"), req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	return idx.Manifests, next, nil
}

func (c *Client) fallbackReferrers(ctx context.Context, repo name.Repository, d name.Digest) ([]v1.Descriptor, error) {
	tag := fallbackTag(repo, d)
	raw, _, err := c.getManifest(ctx, repo, tag.TagStr())
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("referrers of %s (fallback tag): %w", d, err)
	}
	idx, err := parseIndex(raw, MaxReferrers, "referrers fallback index "+tag.String())
	if err != nil {
		return nil, err
	}
	return idx.Manifests, nil
}

// emptyConfig is the OCI empty descriptor's content.
var emptyConfig = []byte("{}")

// WriteReferrer pushes, by digest, an artifact manifest with the given
// artifactType, the empty config, layers and annotations, and subject as
// its subject, into the storage repository; the referrers tag fallback is
// updated where the registry has no referrers API. It returns the
// manifest's digest.
func (c *Client) WriteReferrer(ctx context.Context, subject Target, artifactType string, layers []Layer, annotations map[string]string) (v1.Hash, error) {
	repo, err := c.StorageRepository(subject.Digest)
	if err != nil {
		return v1.Hash{}, err
	}
	opts := c.RemoteOptions(ctx)
	cfg := static.NewLayer(emptyConfig, EmptyMediaType)
	blobs := []v1.Layer{cfg}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: EmptyMediaType, Size: int64(len(emptyConfig)), ArtifactType: artifactType},
		Annotations:   annotations,
		Subject:       &v1.Descriptor{MediaType: subject.Descriptor.MediaType, Size: subject.Descriptor.Size, Digest: subject.Descriptor.Digest},
		ArtifactType:  artifactType,
	}
	if m.Config.Digest, err = cfg.Digest(); err != nil {
		return v1.Hash{}, err
	}
	for _, l := range layers {
		sl := static.NewLayer(l.Data, types.MediaType(l.MediaType))
		h, err := sl.Digest()
		if err != nil {
			return v1.Hash{}, err
		}
		blobs = append(blobs, sl)
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.MediaType(l.MediaType), Size: int64(len(l.Data)), Digest: h, Annotations: l.Annotations})
	}
	for _, b := range blobs {
		if err := remote.WriteLayer(repo, b, opts...); err != nil {
			return v1.Hash{}, fmt.Errorf("push referrer blob to %s: %w", repo, mapError(err))
		}
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return v1.Hash{}, err
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return v1.Hash{}, err
	}
	ref := repo.Digest(h.String())
	if err := remote.Put(ref, rawManifest{raw: raw, mt: m.MediaType}, opts...); err != nil {
		return v1.Hash{}, fmt.Errorf("push referrer %s: %w", ref, mapError(err))
	}
	return h, nil
}

// rawManifest is a manifest pushed as is.
type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }
