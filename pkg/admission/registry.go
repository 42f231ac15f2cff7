package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/signetdev/signet/pkg/imagesig"
	"github.com/signetdev/signet/pkg/oci"
)

// Registry reads signatures and resolves tags with pkg/oci, the client
// signet verify uses: one client per signature repository, reused across
// requests so tokens and connections are too.
type Registry struct {
	// Options are the base options (transport, keychain, limits).
	Options oci.Options
	// PullSecrets returns a keychain of the named docker-registry secrets
	// in a namespace (signaturePullSecrets); nil refuses them.
	PullSecrets func(ctx context.Context, namespace string, names []string) (authn.Keychain, error)

	mu      sync.Mutex
	clients map[string]*oci.Client
}

func (r *Registry) client(s SignatureSource) *oci.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.clients == nil {
		r.clients = map[string]*oci.Client{}
	}
	key := s.Repo + "|" + s.TagPrefix
	c, ok := r.clients[key]
	if !ok {
		c = oci.New(r.options(s))
		r.clients[key] = c
	}
	return c
}

func (r *Registry) options(s SignatureSource) oci.Options {
	o := r.Options
	if s.Repo != "" {
		o.Repository = s.Repo
	}
	o.TagPrefix = s.TagPrefix
	return o
}

// Source is Engine.Source.
func (r *Registry) Source(ctx context.Context, s SignatureSource, namespace string) (imagesig.Source, error) {
	if len(s.PullSecrets) == 0 {
		return r.client(s), nil
	}
	if r.PullSecrets == nil {
		return nil, errors.New("signaturePullSecrets: no API server to read them from")
	}
	kc, err := r.PullSecrets(ctx, namespace, s.PullSecrets)
	if err != nil {
		return nil, fmt.Errorf("signaturePullSecrets %v in namespace %s: %w", s.PullSecrets, namespace, err)
	}
	o := r.options(s)
	o.Keychain = authn.NewMultiKeychain(kc, keychainOr(o.Keychain))
	// Credentials are per request: not cached.
	return oci.New(o), nil
}

func keychainOr(k authn.Keychain) authn.Keychain {
	if k == nil {
		return authn.DefaultKeychain
	}
	return k
}

// Parse is Engine.Parse.
func (r *Registry) Parse(image string) (name.Reference, error) {
	return r.client(SignatureSource{}).ParseReference(image)
}

// Resolve is Engine.Resolve.
func (r *Registry) Resolve(ctx context.Context, image string) (name.Digest, error) {
	c := r.client(SignatureSource{})
	ref, err := c.ParseReference(image)
	if err != nil {
		return name.Digest{}, err
	}
	t, err := c.Resolve(ctx, ref)
	if err != nil {
		return name.Digest{}, err
	}
	return t.Digest, nil
}

// Configs is Engine.Configs.
func (r *Registry) Configs(ctx context.Context, d name.Digest) (map[string]json.RawMessage, error) {
	return r.client(SignatureSource{}).ConfigFiles(ctx, d)
}
