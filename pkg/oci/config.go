package oci

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// MaxConfigSize bounds one image config blob, MaxConfigImages the
// images of an index whose configs are read, and MaxConfigsTotal their
// sum: one admission must not read an index of a thousand images.
const (
	MaxConfigSize   = 4 << 20
	MaxConfigImages = 64
	MaxConfigsTotal = 16 << 20
)

// ConfigFiles returns the config file of the image d names, or of each
// image of the index it names, keyed by platform (os/architecture, and
// /variant when there is one): what policy-controller's fetchConfigFile
// gives a ClusterImagePolicy's policy. An index entry's platform is its
// descriptor's, else its config's.
func (c *Client) ConfigFiles(ctx context.Context, d name.Digest) (map[string]json.RawMessage, error) {
	t, err := c.Resolve(ctx, d)
	if err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{}
	if !t.Descriptor.MediaType.IsIndex() {
		key, cfg, err := c.configFile(ctx, t.Digest, nil)
		if err != nil {
			return nil, err
		}
		out[key] = cfg
		return out, nil
	}
	children, err := c.Children(ctx, t)
	if err != nil {
		return nil, err
	}
	total, images := 0, 0
	for _, ch := range children {
		if !ch.Descriptor.MediaType.IsImage() {
			continue
		}
		if images++; images > MaxConfigImages {
			return nil, fmt.Errorf("index %s: more than %d images to read configs of: %w", t.Digest, MaxConfigImages, ErrTooLarge)
		}
		key, cfg, err := c.configFile(ctx, ch.Digest, ch.Descriptor.Platform)
		if err != nil {
			return nil, err
		}
		if total += len(cfg); total > MaxConfigsTotal {
			return nil, fmt.Errorf("index %s: its images' configs exceed %d bytes: %w", t.Digest, MaxConfigsTotal, ErrTooLarge)
		}
		out[key] = cfg
	}
	return out, nil
}

func (c *Client) configFile(ctx context.Context, d name.Digest, p *v1.Platform) (string, json.RawMessage, error) {
	repo := d.Context()
	raw, _, err := c.getManifest(ctx, repo, d.DigestStr())
	if err != nil {
		return "", nil, err
	}
	m, err := parseManifest(raw, "manifest "+d.String())
	if err != nil {
		return "", nil, err
	}
	cfg, err := c.getBlob(ctx, repo, m.Config, MaxConfigSize)
	if err != nil {
		return "", nil, fmt.Errorf("config of %s: %w", d, err)
	}
	var cf struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
	}
	if err := json.Unmarshal(cfg, &cf); err != nil {
		return "", nil, fmt.Errorf("config of %s: %w", d, err)
	}
	if p == nil {
		p = &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	}
	key := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		key += "/" + p.Variant
	}
	return key, cfg, nil
}
