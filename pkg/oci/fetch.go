package oci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/signetdev/signet/internal/httpx"
)

// Reads from registries go through this file: plain requests over ggcr's
// authenticating transport, so every byte read is bounded here rather than
// by ggcr's generous limits (100 MiB manifests, unbounded error bodies and
// referrers pages).

// manifestAccept is what signet can read: OCI and Docker v2 manifests and
// indexes.
var manifestAccept = []string{
	string(types.OCIManifestSchema1), string(types.OCIImageIndex),
	string(types.DockerManifestSchema2), string(types.DockerManifestList),
}

// maxErrorBody bounds the error document read from a failed request.
const maxErrorBody = 64 << 10

// transports caches one authenticated transport per repository, so a
// command pings and fetches a token once per repository.
type transports struct {
	mu sync.Mutex
	m  map[string]http.RoundTripper
}

// base is the transport under everything: the caller's, with retries.
func (c *Client) base() http.RoundTripper {
	rt := c.o.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	return httpx.NewRetry(rt)
}

func (c *Client) authenticator(repo name.Repository) (authn.Authenticator, error) {
	if c.o.Auth != nil {
		return c.o.Auth, nil
	}
	kc := c.o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	a, err := kc.Resolve(repo)
	if err != nil {
		return nil, fmt.Errorf("credentials for %s: %w", repo, err)
	}
	return a, nil
}

// httpClient returns a client authenticated to pull from repo.
func (c *Client) httpClient(ctx context.Context, repo name.Repository) (*http.Client, error) {
	key := repo.Name()
	c.rts.mu.Lock()
	rt := c.rts.m[key]
	c.rts.mu.Unlock()
	if rt == nil {
		auth, err := c.authenticator(repo)
		if err != nil {
			return nil, err
		}
		rt, err = transport.NewWithContext(ctx, repo.Registry, auth, transport.NewUserAgent(c.base(), c.o.UserAgent), []string{repo.Scope(transport.PullScope)})
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", repo.RegistryStr(), mapError(err))
		}
		c.rts.mu.Lock()
		if c.rts.m == nil {
			c.rts.m = map[string]http.RoundTripper{}
		}
		c.rts.m[key] = rt
		c.rts.mu.Unlock()
	}
	return &http.Client{Transport: rt}, nil
}

func repoURL(repo name.Repository, kind, id string) string {
	return fmt.Sprintf("%s://%s/v2/%s/%s/%s", repo.Scheme(), repo.RegistryStr(), repo.RepositoryStr(), kind, id)
}

// do sends a request and checks the status; a failure is read (bounded)
// into an error that names what was asked for.
func (c *Client) do(ctx context.Context, repo name.Repository, method, u string, accept []string, what string) (*http.Response, error) {
	hc, err := c.httpClient(ctx, repo)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	if len(accept) > 0 {
		req.Header.Set("Accept", strings.Join(accept, ","))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return nil, fmt.Errorf("%s: %w", what, parseRegistryError(resp.StatusCode, body))
}

// RegistryError is a failed registry request: its status and the codes of
// the distribution spec's error document.
type RegistryError struct {
	Status int
	Codes  []string
	Msg    string
}

func (e *RegistryError) Error() string {
	s := fmt.Sprintf("registry answered %d %s", e.Status, http.StatusText(e.Status))
	if len(e.Codes) > 0 {
		s += ": " + strings.Join(e.Codes, ", ")
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// Is makes a missing manifest, repository or blob ErrNotFound.
func (e *RegistryError) Is(target error) bool {
	if target != ErrNotFound {
		return false
	}
	if e.Status == http.StatusNotFound {
		return true
	}
	for _, c := range e.Codes {
		switch c {
		case "MANIFEST_UNKNOWN", "NAME_UNKNOWN", "BLOB_UNKNOWN":
			return true
		}
	}
	return false
}

// parseRegistryError reads a distribution-spec error document; any body
// is accepted (HTML from proxies, nothing at all).
func parseRegistryError(status int, body []byte) *RegistryError {
	e := &RegistryError{Status: status}
	var doc struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &doc) == nil {
		for i, d := range doc.Errors {
			if i == 8 {
				break
			}
			e.Codes = append(e.Codes, printable(d.Code, 64))
			if e.Msg == "" {
				e.Msg = printable(d.Message, 200)
			}
		}
	}
	return e
}

// printable keeps registry text to one short line.
func printable(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// mapError turns ggcr's errors for a missing thing into ErrNotFound.
func mapError(err error) error {
	var te *transport.Error
	if !errors.As(err, &te) {
		return err
	}
	re := &RegistryError{Status: te.StatusCode}
	for _, d := range te.Errors {
		re.Codes = append(re.Codes, string(d.Code))
		if re.Msg == "" {
			re.Msg = printable(d.Message, 200)
		}
	}
	if errors.Is(re, ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// readBounded reads a body of at most limit bytes; more is ErrTooLarge.
func readBounded(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", what, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than %d bytes: %w", what, limit, ErrTooLarge)
	}
	return b, nil
}

// getManifest fetches a manifest or index by tag or digest, bounded by
// MaxManifestSize; by digest, the content must match it.
func (c *Client) getManifest(ctx context.Context, repo name.Repository, id string) ([]byte, v1.Descriptor, error) {
	what := fmt.Sprintf("manifest %s", refString(repo, id))
	resp, err := c.do(ctx, repo, http.MethodGet, repoURL(repo, "manifests", id), manifestAccept, "get "+what)
	if err != nil {
		return nil, v1.Descriptor{}, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > MaxManifestSize {
		return nil, v1.Descriptor{}, fmt.Errorf("%s: %d bytes, more than %d: %w", what, resp.ContentLength, MaxManifestSize, ErrTooLarge)
	}
	raw, err := readBounded(resp.Body, MaxManifestSize, what)
	if err != nil {
		return nil, v1.Descriptor{}, err
	}
	sum := sha256.Sum256(raw)
	h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
	if want, err := v1.NewHash(id); err == nil && want != h {
		return nil, v1.Descriptor{}, fmt.Errorf("%s: content has digest %s", what, h)
	}
	mt := types.MediaType(resp.Header.Get("Content-Type"))
	if m := sniffMediaType(raw); m != "" {
		mt = m
	}
	return raw, v1.Descriptor{MediaType: mt, Size: int64(len(raw)), Digest: h}, nil
}

func refString(repo name.Repository, id string) string {
	if strings.Contains(id, ":") {
		return repo.Name() + "@" + id
	}
	return repo.Name() + ":" + id
}

// sniffMediaType is the manifest's own mediaType field; registries
// sometimes answer with a generic Content-Type.
func sniffMediaType(raw []byte) types.MediaType {
	var m struct {
		MediaType types.MediaType `json:"mediaType"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	return m.MediaType
}

// headManifest asks for a manifest's descriptor without its content.
func (c *Client) headManifest(ctx context.Context, repo name.Repository, id string) (v1.Descriptor, error) {
	resp, err := c.do(ctx, repo, http.MethodHead, repoURL(repo, "manifests", id), manifestAccept, "head manifest "+refString(repo, id))
	if err != nil {
		return v1.Descriptor{}, err
	}
	resp.Body.Close()
	h, err := v1.NewHash(resp.Header.Get("Docker-Content-Digest"))
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("head manifest %s: no usable Docker-Content-Digest", refString(repo, id))
	}
	size, err := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
	mt := types.MediaType(resp.Header.Get("Content-Type"))
	if err != nil || size <= 0 || mt == "" {
		return v1.Descriptor{}, fmt.Errorf("head manifest %s: no usable size or media type", refString(repo, id))
	}
	return v1.Descriptor{MediaType: mt, Size: size, Digest: h}, nil
}

// getBlob fetches a blob: refused before any request when its descriptor
// is over limit, and cut off when the registry sends more than the
// descriptor said. The content must match the digest.
func (c *Client) getBlob(ctx context.Context, repo name.Repository, d v1.Descriptor, limit int64) ([]byte, error) {
	what := fmt.Sprintf("blob %s@%s", repo.Name(), d.Digest)
	if d.Size < 0 {
		return nil, fmt.Errorf("%s: negative size %d", what, d.Size)
	}
	if d.Size > limit {
		return nil, fmt.Errorf("%s: size %d is more than the limit of %d bytes (COSIGN_MAX_ATTACHMENT_SIZE): %w", what, d.Size, limit, ErrTooLarge)
	}
	if d.Digest.Algorithm != "sha256" {
		return nil, fmt.Errorf("%s: unsupported digest algorithm %q", what, d.Digest.Algorithm)
	}
	resp, err := c.do(ctx, repo, http.MethodGet, repoURL(repo, "blobs", d.Digest.String()), nil, "get "+what)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, d.Size+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", what, err)
	}
	if int64(len(b)) > d.Size {
		return nil, fmt.Errorf("%s: registry sent more than the %d bytes its descriptor says: %w", what, d.Size, ErrTooLarge)
	}
	if int64(len(b)) != d.Size {
		return nil, fmt.Errorf("%s: got %d bytes, descriptor says %d", what, len(b), d.Size)
	}
	if err := checkDigest(b, d.Digest); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return b, nil
}

func checkDigest(b []byte, want v1.Hash) error {
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); want.Algorithm != "sha256" || got != want.Hex {
		return fmt.Errorf("content has digest sha256:%s, want %s", got, want)
	}
	return nil
}

// nextLink is the URL of the next page from a Link header
// (`<url>; rel="next"`), resolved against the request URL; only the same
// registry is followed.
func nextLink(header string, req *url.URL) (*url.URL, error) {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		target, params, ok := strings.Cut(part, ";")
		if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			continue
		}
		if !isNextRel(params) {
			continue
		}
		u, err := req.Parse(strings.TrimSuffix(strings.TrimPrefix(target, "<"), ">"))
		if err != nil {
			return nil, fmt.Errorf("link header: %w", err)
		}
		if u.Host != req.Host || u.Scheme != req.Scheme {
			return nil, fmt.Errorf("link header points to another registry (%s)", printable(u.Host, 100))
		}
		return u, nil
	}
	return nil, nil
}

func isNextRel(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "rel") && strings.Trim(v, `"`) == "next" {
			return true
		}
	}
	return false
}

// parseManifest decodes an image manifest; the layer count is checked
// before any layer is fetched.
func parseManifest(raw []byte, what string) (*v1.Manifest, error) {
	var m v1.Manifest
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: not a manifest: %w", what, err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("%s: schemaVersion %d, want 2", what, m.SchemaVersion)
	}
	if len(m.Layers) > MaxLayers {
		return nil, fmt.Errorf("%s: %d layers, more than %d: %w", what, len(m.Layers), MaxLayers, ErrTooLarge)
	}
	return &m, nil
}

// parseIndex decodes an index of at most limit manifests.
func parseIndex(raw []byte, limit int, what string) (*v1.IndexManifest, error) {
	var m v1.IndexManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: not an index: %w", what, err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("%s: schemaVersion %d, want 2", what, m.SchemaVersion)
	}
	if len(m.Manifests) > limit {
		return nil, fmt.Errorf("%s: %d manifests, more than %d: %w", what, len(m.Manifests), limit, ErrTooLarge)
	}
	return &m, nil
}
