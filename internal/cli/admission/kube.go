package admission

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/signetdev/signet/internal/fileutil"
)

// kube is a plain HTTPS client of the Kubernetes API: signet uses no
// Kubernetes client library. Credentials are a kubeconfig's client
// certificate (or token), or the pod's service-account token in-cluster.
type kube struct {
	base *url.URL
	hc   *http.Client
	// token returns the bearer token ("" for none); in-cluster it is
	// re-read, as the kubelet rotates it.
	token func() (string, error)
}

// Bounds on what the API server may send.
const (
	maxListBody   = 32 << 20
	maxEvent      = 4 << 20
	maxSecretBody = 1 << 20
	maxConfigFile = 1 << 20
)

type kubeconfig struct {
	CurrentContext string `yaml:"current-context"`
	Clusters       []struct {
		Name    string `yaml:"name"`
		Cluster struct {
			Server                   string `yaml:"server"`
			CertificateAuthority     string `yaml:"certificate-authority"`
			CertificateAuthorityData string `yaml:"certificate-authority-data"`
			TLSServerName            string `yaml:"tls-server-name"`
		} `yaml:"cluster"`
	} `yaml:"clusters"`
	Users []struct {
		Name string `yaml:"name"`
		User struct {
			ClientCertificate     string `yaml:"client-certificate"`
			ClientCertificateData string `yaml:"client-certificate-data"`
			ClientKey             string `yaml:"client-key"`
			ClientKeyData         string `yaml:"client-key-data"`
			Token                 string `yaml:"token"`
			TokenFile             string `yaml:"tokenFile"`
		} `yaml:"user"`
	} `yaml:"users"`
	Contexts []struct {
		Name    string `yaml:"name"`
		Context struct {
			Cluster string `yaml:"cluster"`
			User    string `yaml:"user"`
		} `yaml:"context"`
	} `yaml:"contexts"`
}

// inline returns the bytes of a kubeconfig's *-data field or its file.
func inline(dir, data, file, what string) ([]byte, error) {
	if data != "" {
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, fmt.Errorf("%s-data: %w", what, err)
		}
		return b, nil
	}
	if file == "" {
		return nil, nil
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	b, err := fileutil.ReadLimit(file, maxConfigFile)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, file, err)
	}
	return b, nil
}

// kubeFromConfig reads a kubeconfig's current context.
func kubeFromConfig(path string, base http.RoundTripper) (*kube, error) {
	k, err := readKubeconfig(path, base)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", path, err)
	}
	return k, nil
}

func readKubeconfig(path string, base http.RoundTripper) (*kube, error) {
	data, err := fileutil.ReadLimit(path, maxConfigFile)
	if err != nil {
		return nil, err
	}
	var kc kubeconfig
	if err := yaml.Unmarshal(data, &kc); err != nil {
		return nil, err
	}
	ctxName := kc.CurrentContext
	var clusterName, userName string
	for _, c := range kc.Contexts {
		if c.Name == ctxName || (ctxName == "" && len(kc.Contexts) == 1) {
			clusterName, userName = c.Context.Cluster, c.Context.User
		}
	}
	if clusterName == "" {
		return nil, fmt.Errorf("no context %q", ctxName)
	}
	dir := filepath.Dir(path)
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	var server string
	for _, c := range kc.Clusters {
		if c.Name != clusterName {
			continue
		}
		server = c.Cluster.Server
		tc.ServerName = c.Cluster.TLSServerName
		ca, err := inline(dir, c.Cluster.CertificateAuthorityData, c.Cluster.CertificateAuthority, "certificate-authority")
		if err != nil {
			return nil, err
		}
		if ca != nil {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(ca) {
				return nil, errors.New("certificate-authority: no PEM certificate")
			}
			tc.RootCAs = pool
		}
	}
	if server == "" {
		return nil, fmt.Errorf("cluster %q has no server", clusterName)
	}
	k := &kube{token: func() (string, error) { return "", nil }}
	for _, u := range kc.Users {
		if u.Name != userName {
			continue
		}
		cert, err := inline(dir, u.User.ClientCertificateData, u.User.ClientCertificate, "client-certificate")
		if err != nil {
			return nil, err
		}
		key, err := inline(dir, u.User.ClientKeyData, u.User.ClientKey, "client-key")
		if err != nil {
			return nil, err
		}
		if cert != nil {
			pair, err := tls.X509KeyPair(cert, key)
			if err != nil {
				return nil, fmt.Errorf("client certificate of user %q: %w", userName, err)
			}
			tc.Certificates = []tls.Certificate{pair}
		}
		switch {
		case u.User.Token != "":
			tok := u.User.Token
			k.token = func() (string, error) { return tok, nil }
		case u.User.TokenFile != "":
			k.token = tokenFile(u.User.TokenFile)
		}
	}
	return k.init(server, tc, base)
}

const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// kubeInCluster uses the pod's service account.
func kubeInCluster(getenv func(string) string, base http.RoundTripper) (*kube, error) {
	host, port := getenv("KUBERNETES_SERVICE_HOST"), getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, errors.New("not in a cluster (KUBERNETES_SERVICE_HOST unset) and no --kubeconfig")
	}
	ca, err := fileutil.ReadLimit(filepath.Join(saDir, "ca.crt"), maxConfigFile)
	if err != nil {
		return nil, fmt.Errorf("in-cluster CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New("in-cluster CA: no PEM certificate")
	}
	k := &kube{token: tokenFile(filepath.Join(saDir, "token"))}
	return k.init("https://"+net.JoinHostPort(host, port), &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, base)
}

func tokenFile(path string) func() (string, error) {
	return func() (string, error) {
		b, err := fileutil.ReadLimit(path, 64<<10)
		if err != nil {
			return "", fmt.Errorf("service-account token: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
}

func (k *kube) init(server string, tc *tls.Config, base http.RoundTripper) (*kube, error) {
	u, err := url.Parse(server)
	if err != nil || u.Scheme != "https" {
		return nil, fmt.Errorf("server %q: want an https:// URL", server)
	}
	k.base = u
	rt := base
	if t, ok := base.(*http.Transport); ok || base == nil {
		if !ok {
			t = http.DefaultTransport.(*http.Transport)
		}
		t = t.Clone()
		t.TLSClientConfig = tc
		rt = t
	}
	k.hc = &http.Client{Transport: rt}
	return k, nil
}

// What a GET asks for: whole objects, or their metadata alone
// (PartialObjectMetadata, as client-go's metadata informers ask), with
// whole objects as the fallback of a server that cannot; signet reads
// the same fields from either.
const (
	acceptJSON         = "application/json"
	acceptMetadataList = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
	acceptMetadata     = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
)

func (k *kube) do(ctx context.Context, method, path string, body []byte, contentType string) (*http.Response, error) {
	return k.doAccept(ctx, method, path, body, contentType, acceptJSON)
}

func (k *kube) doAccept(ctx context.Context, method, path string, body []byte, contentType, accept string) (*http.Response, error) {
	u := *k.base
	p, q, _ := strings.Cut(path, "?")
	u.Path = strings.TrimSuffix(u.Path, "/") + p
	u.RawQuery = q
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	tok, err := k.token()
	if err != nil {
		return nil, err
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := k.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, p, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		var st struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(msg, &st) == nil && st.Message != "" {
			msg = []byte(st.Message)
		}
		return nil, &apiError{code: resp.StatusCode, msg: fmt.Sprintf("%s %s: %s: %s", method, p, resp.Status, strings.TrimSpace(string(msg)))}
	}
	return resp, nil
}

type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func (k *kube) getJSON(ctx context.Context, path string, limit int64, v any) error {
	return k.getJSONAccept(ctx, path, acceptJSON, limit, v)
}

func (k *kube) getJSONAccept(ctx context.Context, path, accept string, limit int64, v any) error {
	resp, err := k.doAccept(ctx, http.MethodGet, path, nil, "", accept)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("GET %s: response larger than %d bytes", path, limit)
	}
	return json.Unmarshal(data, v)
}

// The storage versions: listing them needs no conversion.
const (
	policiesPath   = "/apis/policy.sigstore.dev/v1alpha1/clusterimagepolicies"
	trustRootsPath = "/apis/policy.sigstore.dev/v1alpha1/trustroots"
)

// listPolicies returns every ClusterImagePolicy and the list's
// resourceVersion, to watch from.
func (k *kube) listPolicies(ctx context.Context) ([]json.RawMessage, string, error) {
	return k.list(ctx, policiesPath, false)
}

// list returns every object of a resource (or, with metadataOnly, their
// metadata) and the list's resourceVersion, to watch from.
func (k *kube) list(ctx context.Context, path string, metadataOnly bool) ([]json.RawMessage, string, error) {
	accept := acceptJSON
	if metadataOnly {
		accept = acceptMetadataList
	}
	var list struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items []json.RawMessage `json:"items"`
	}
	if err := k.getJSONAccept(ctx, path, accept, maxListBody, &list); err != nil {
		return nil, "", err
	}
	return list.Items, list.Metadata.ResourceVersion, nil
}

// watchEvent is one event of a watch stream.
type watchEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// watchChanges follows a watch of path after rv, handing apply its ADDED,
// MODIFIED and DELETED events; the watch ending, or expiring (relist), is
// nil.
func (k *kube) watchChanges(ctx context.Context, path, rv string, metadataOnly bool, apply func(typ string, obj json.RawMessage) error) error {
	err := k.watch(ctx, path, rv, metadataOnly, func(ev watchEvent) error {
		switch ev.Type {
		case "ADDED", "MODIFIED", "DELETED":
			return apply(ev.Type, ev.Object)
		case "BOOKMARK":
			return nil
		case "ERROR":
			return errRelist
		}
		return fmt.Errorf("watch: unknown event type %q", ev.Type)
	})
	if errors.Is(err, errRelist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("watching: %w", err)
	}
	return nil
}

// watch streams the changes of a resource (or, with metadataOnly, of
// its objects' metadata) after rv until the server ends the watch or ctx
// is done; each event is at most maxEvent bytes.
func (k *kube) watch(ctx context.Context, path, rv string, metadataOnly bool, on func(watchEvent) error) error {
	q := url.Values{"watch": {"1"}, "resourceVersion": {rv}, "allowWatchBookmarks": {"true"}, "timeoutSeconds": {"300"}}
	accept := acceptJSON
	if metadataOnly {
		accept = acceptMetadata
	}
	resp, err := k.doAccept(ctx, http.MethodGet, path+"?"+q.Encode(), nil, "", accept)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		line, err := readLine(r, maxEvent)
		if len(bytes.TrimSpace(line)) > 0 {
			var ev watchEvent
			if jerr := json.Unmarshal(line, &ev); jerr != nil {
				return fmt.Errorf("watch event: %w", jerr)
			}
			if herr := on(ev); herr != nil {
				return herr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// readLine reads one newline-terminated line of at most limit bytes.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var out []byte
	for {
		chunk, err := r.ReadSlice('\n')
		out = append(out, chunk...)
		if len(out) > limit {
			return nil, fmt.Errorf("watch event larger than %d bytes", limit)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return out, err
	}
}

// secret reads a Secret's data.
func (k *kube) secret(ctx context.Context, ns, name string) (map[string][]byte, error) {
	var s struct {
		Type string            `json:"type"`
		Data map[string][]byte `json:"data"`
	}
	if err := k.getJSON(ctx, "/api/v1/namespaces/"+url.PathEscape(ns)+"/secrets/"+url.PathEscape(name), maxSecretBody, &s); err != nil {
		return nil, err
	}
	return s.Data, nil
}

// setStatus records on a policy whether signet enforces it, as a Ready
// condition (policy-controller's CRD has a status subresource).
func (k *kube) setStatus(ctx context.Context, name string, ready bool, reason, msg string, now time.Time) error {
	st := "True"
	if !ready {
		st = "False"
	}
	body, _ := json.Marshal(map[string]any{"status": map[string]any{"conditions": []map[string]any{{
		"type": "Ready", "status": st, "reason": reason, "message": msg,
		"lastTransitionTime": now.UTC().Format(time.RFC3339),
	}}}})
	resp, err := k.do(ctx, http.MethodPatch, policiesPath+"/"+url.PathEscape(name)+"/status", body, "application/merge-patch+json")
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// isInCluster reports whether the pod's service account is mounted.
func isInCluster(getenv func(string) string) bool {
	if getenv("KUBERNETES_SERVICE_HOST") == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(saDir, "token"))
	return err == nil
}
