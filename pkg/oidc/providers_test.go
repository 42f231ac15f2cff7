package oidc

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

const (
	ghRequestToken = "ghs-request-token-SECRET-1234"
	bkAgentToken   = "bkagent-SECRET-5678"
	gceAccessToken = "ya29.gce-access-SECRET-9012"
)

// fakeGitHub serves the Actions ID token endpoint: GET ?api-version=2.0
// &audience=…, bearer auth, {"value": token}. fail answers that status
// (with the request token echoed in the body) instead.
func fakeGitHub(t *testing.T, tok string, fail int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		q := r.URL.Query()
		switch {
		case r.Method != http.MethodGet || r.URL.Path != "/_apis/token":
			http.Error(w, "wrong path "+r.URL.Path, http.StatusNotFound)
		case q.Get("api-version") != "2.0" || q.Get("audience") != "sigstore":
			http.Error(w, "wrong query "+r.URL.RawQuery, http.StatusBadRequest)
		case r.Header.Get("Authorization") != "Bearer "+ghRequestToken:
			http.Error(w, "bad credentials", http.StatusUnauthorized)
		case fail != 0:
			http.Error(w, `{"message":"no id-token permission for `+r.Header.Get("Authorization")+`"}`, fail)
		default:
			json.NewEncoder(w).Encode(map[string]any{"count": 1, "value": tok})
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func githubEnv(srv *httptest.Server) env {
	return env{EnvGitHubRequestURL: srv.URL + "/_apis/token?api-version=2.0", EnvGitHubRequestToken: ghRequestToken}
}

func TestGitHubActions(t *testing.T) {
	tok := token(t, map[string]any{"iss": "https://token.actions.githubusercontent.com"})
	srv, calls := fakeGitHub(t, tok, 0)
	o, _ := testOptions(t, githubEnv(srv))
	o.Transport = http.DefaultTransport
	got := mustGet(t, o)
	if got.Source != "github-actions" || got.Raw != tok || calls.Load() != 1 {
		t.Errorf("got %v from %s after %d calls", got, got.Source, calls.Load())
	}

	t.Run("403", func(t *testing.T) {
		srv, calls := fakeGitHub(t, tok, http.StatusForbidden)
		o, _ := testOptions(t, githubEnv(srv))
		o.Transport = http.DefaultTransport
		err := getErr(t, o, "identity token from github-actions: GitHub Actions token request to "+srv.URL+"/_apis/token?api-version=2.0&audience=sigstore: HTTP 403 Forbidden: ")
		if strings.Contains(err.Error(), ghRequestToken) || calls.Load() != 1 {
			t.Errorf("error %v after %d calls", err, calls.Load())
		}
	})
	t.Run("503 retried", func(t *testing.T) {
		var n atomic.Int32
		good, _ := fakeGitHub(t, tok, 0)
		flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) < 3 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			u, _ := url.Parse(good.URL)
			httputilProxy(w, r, u)
		}))
		defer flaky.Close()
		o, _ := testOptions(t, githubEnv(flaky))
		o.Transport = http.DefaultTransport
		if got := mustGet(t, o); got.Raw != tok || n.Load() != 3 {
			t.Errorf("%d calls", n.Load())
		}
	})
	t.Run("only one variable", func(t *testing.T) {
		o, out := testOptions(t, env{EnvGitHubRequestURL: srv.URL})
		o.AuthFlow = FlowToken
		getErr(t, o, "--fulcio-auth-flow=token: no identity token")
		if !strings.Contains(out.String(), "github-actions: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not both set") {
			t.Errorf("debug output:\n%s", out)
		}
	})
}

// httputilProxy forwards r to target and copies the answer back.
func httputilProxy(w http.ResponseWriter, r *http.Request, target *url.URL) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = target.Scheme, target.Host
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func fakeBuildkite(t *testing.T, tok string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/v3/jobs/job-42/oidc/tokens":
			http.Error(w, "wrong path "+r.URL.Path, http.StatusNotFound)
		case r.Header.Get("Authorization") != "Token "+bkAgentToken:
			http.Error(w, `{"message":"bad token `+r.Header.Get("Authorization")+`"}`, http.StatusUnauthorized)
		case body["audience"] != "sigstore" || len(body) != 1:
			http.Error(w, "wrong body", http.StatusBadRequest)
		default:
			json.NewEncoder(w).Encode(map[string]string{"token": tok})
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestBuildkite(t *testing.T) {
	tok := token(t, map[string]any{"iss": "https://agent.buildkite.com"})
	srv := fakeBuildkite(t, tok)
	e := env{EnvBuildkiteAgentToken: bkAgentToken, EnvBuildkiteAgentEndpoint: srv.URL + "/v3", EnvBuildkiteJobID: "job-42"}
	o, _ := testOptions(t, e)
	o.Transport = http.DefaultTransport
	if got := mustGet(t, o); got.Source != "buildkite-agent" || got.Raw != tok {
		t.Errorf("got %v", got)
	}

	t.Run("no job", func(t *testing.T) {
		o, _ := testOptions(t, env{EnvBuildkiteAgentToken: bkAgentToken, EnvBuildkiteAgentEndpoint: srv.URL + "/v3"})
		getErr(t, o, "identity token from buildkite-agent: BUILDKITE_JOB_ID is not set")
	})
	t.Run("wrong agent token", func(t *testing.T) {
		e := env{EnvBuildkiteAgentToken: "bkagent-SECRET-wrong", EnvBuildkiteAgentEndpoint: srv.URL + "/v3", EnvBuildkiteJobID: "job-42"}
		o, _ := testOptions(t, e)
		o.Transport = http.DefaultTransport
		err := getErr(t, o, "Buildkite agent token request to "+srv.URL+"/v3/jobs/job-42/oidc/tokens: HTTP 401 Unauthorized")
		if strings.Contains(err.Error(), "bkagent-SECRET-wrong") {
			t.Errorf("secret in %v", err)
		}
	})
	t.Run("default endpoint", func(t *testing.T) {
		o, _ := testOptions(t, env{EnvBuildkiteAgentToken: bkAgentToken, EnvBuildkiteJobID: "job-42"})
		getErr(t, o, "https://agent.buildkite.com/v3/jobs/job-42/oidc/tokens")
	})
}

// fakeMetadata serves the GCE metadata server's identity and token paths.
func fakeMetadata(t *testing.T, tok string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Metadata-Flavor") != "Google" {
			http.Error(w, "missing Metadata-Flavor", http.StatusForbidden)
			return
		}
		q := r.URL.Query()
		switch r.URL.Path {
		case "/computeMetadata/v1/instance/service-accounts/default/identity":
			if tok == "" {
				http.Error(w, "no service account", http.StatusNotFound)
				return
			}
			if q.Get("audience") != "sigstore" || q.Get("format") != "full" {
				http.Error(w, "wrong query", http.StatusBadRequest)
				return
			}
			io.WriteString(w, tok)
		case "/computeMetadata/v1/instance/service-accounts/default/token":
			json.NewEncoder(w).Encode(map[string]any{"access_token": gceAccessToken, "expires_in": 3599, "token_type": "Bearer"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestGoogleWorkloadIdentity(t *testing.T) {
	tok := token(t, map[string]any{"iss": "https://accounts.google.com", "email": "sa@p.iam.gserviceaccount.com"})
	srv, _ := fakeMetadata(t, tok)
	host := strings.TrimPrefix(srv.URL, "http://")

	t.Run("GCE_METADATA_HOST", func(t *testing.T) {
		o, _ := testOptions(t, env{EnvGCEMetadataHost: host})
		o.Transport = http.DefaultTransport
		if got := mustGet(t, o); got.Source != "google-workload-identity" || got.Email != "sa@p.iam.gserviceaccount.com" {
			t.Errorf("got %v", got)
		}
	})
	t.Run("DMI, default host", func(t *testing.T) {
		o, _ := testOptions(t, env{})
		writeFile(t, o.GCEProductNameFile, "Google Compute Engine\n")
		u, _ := url.Parse(srv.URL)
		var seen atomic.Value
		o.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			seen.Store(r.URL.Host)
			return rewrite{u}.RoundTrip(r)
		})
		if got := mustGet(t, o); got.Source != "google-workload-identity" || seen.Load() != "169.254.169.254" {
			t.Errorf("got %v via %v", got, seen.Load())
		}
	})
	t.Run("DMI, no service account: not a provider", func(t *testing.T) {
		empty, calls := fakeMetadata(t, "")
		u, _ := url.Parse(empty.URL)
		o, out := testOptions(t, env{})
		writeFile(t, o.GCEProductNameFile, "Google\n")
		o.Transport = rewrite{u}
		o.AuthFlow = FlowToken
		getErr(t, o, "--fulcio-auth-flow=token: no identity token")
		if calls.Load() != 1 || !strings.Contains(out.String(), "google-workload-identity: not available: metadata server identity request") {
			t.Errorf("%d calls; output:\n%s", calls.Load(), out)
		}
	})
	t.Run("GCE_METADATA_HOST, no service account: an error", func(t *testing.T) {
		empty, _ := fakeMetadata(t, "")
		o, _ := testOptions(t, env{EnvGCEMetadataHost: strings.TrimPrefix(empty.URL, "http://")})
		o.Transport = http.DefaultTransport
		getErr(t, o, "identity token from google-workload-identity: metadata server identity request to http://", "HTTP 404 Not Found: no service account")
	})
	t.Run("not on GCE", func(t *testing.T) {
		o, _ := testOptions(t, env{})
		writeFile(t, o.GCEProductNameFile, "Standard PC (Q35 + ICH9, 2009)\n")
		o.Provider = "google-workload-identity"
		getErr(t, o, "--oidc-provider google-workload-identity: not on Google Compute Engine and GCE_METADATA_HOST is not set")
	})
}

func TestGoogleImpersonate(t *testing.T) {
	const sa = "signer@proj.iam.gserviceaccount.com"
	tok := token(t, map[string]any{"iss": "https://accounts.google.com", "email": sa})
	md, _ := fakeMetadata(t, "")
	iam := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		switch {
		case r.URL.Path != "/v1/projects/-/serviceAccounts/"+sa+":generateIdToken":
			http.Error(w, "wrong path "+r.URL.Path, http.StatusNotFound)
		case r.Header.Get("Authorization") != "Bearer "+gceAccessToken:
			http.Error(w, "denied for "+r.Header.Get("Authorization"), http.StatusForbidden)
		case body["audience"] != "sigstore" || body["includeEmail"] != true:
			http.Error(w, "wrong body", http.StatusBadRequest)
		default:
			json.NewEncoder(w).Encode(map[string]string{"token": tok})
		}
	}))
	defer iam.Close()
	e := env{EnvGoogleServiceAccount: sa, EnvGCEMetadataHost: strings.TrimPrefix(md.URL, "http://")}
	o, _ := testOptions(t, e)
	o.Transport, o.iamCredentialsURL = http.DefaultTransport, iam.URL
	// The metadata server has no identity for the default account, so
	// google-workload-identity fails, then google-impersonate succeeds.
	if got := mustGet(t, o); got.Source != "google-impersonate" || got.Email != sa {
		t.Errorf("got %v", got)
	}

	t.Run("--oidc-provider google", func(t *testing.T) {
		o := o
		o.Provider = "google"
		if got := mustGet(t, o); got.Source != "google-impersonate" {
			t.Errorf("got %v", got)
		}
	})
	t.Run("IAM refuses", func(t *testing.T) {
		o := o
		o.Provider = "google-impersonate"
		o.iamCredentialsURL = iam.URL + "/elsewhere"
		err := getErr(t, o, "IAM Credentials generateIdToken request to "+iam.URL+"/elsewhere/v1/projects/-/serviceAccounts/"+sa+":generateIdToken: HTTP 404")
		if strings.Contains(err.Error(), gceAccessToken) {
			t.Errorf("secret in %v", err)
		}
	})
	t.Run("not on GCE", func(t *testing.T) {
		o, _ := testOptions(t, env{EnvGoogleServiceAccount: sa})
		getErr(t, o, "identity token from google-impersonate: signet takes the credentials to impersonate "+sa+" from the GCE metadata server only")
	})
}

// fakeSPIRE serves the SPIFFE Workload API's FetchJWTSVID on a Unix
// socket, as a SPIRE agent does; code != OK answers that status.
func fakeSPIRE(t *testing.T, tok string, code codes.Code) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "spire") // short: Unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.ForceServerCodecV2(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(stream)
		md, _ := metadata.FromIncomingContext(stream.Context())
		var req rawMessage
		if err := stream.RecvMsg(&req); err != nil {
			return err
		}
		aud, _ := bytesField(req, 1)
		switch {
		case method != fetchJWTSVIDMethod:
			return status.Errorf(codes.Unimplemented, "method %s", method)
		case len(md.Get("workload.spiffe.io")) != 1 || md.Get("workload.spiffe.io")[0] != "true":
			return status.Error(codes.InvalidArgument, "security header missing from request")
		case string(aud) != "sigstore":
			return status.Errorf(codes.InvalidArgument, "audience %q", aud)
		case code != codes.OK:
			return status.Error(code, "no identity issued")
		}
		svid := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "spiffe://example.org/signer")
		svid = protowire.AppendString(protowire.AppendTag(svid, 2, protowire.BytesType), tok)
		resp := rawMessage(protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), svid))
		return stream.SendMsg(&resp)
	}))
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return sock
}

func TestSPIFFE(t *testing.T) {
	tok := token(t, map[string]any{"iss": "https://oidc.example.org", "sub": "spiffe://example.org/signer"})
	sock := fakeSPIRE(t, tok, codes.OK)
	for _, v := range []string{sock, "unix://" + sock} {
		o, _ := testOptions(t, env{EnvSPIFFESocket: v})
		if got := mustGet(t, o); got.Source != "spiffe" || got.Raw != tok {
			t.Errorf("%s: got %v", v, got)
		}
	}
	t.Run("denied", func(t *testing.T) {
		sock := fakeSPIRE(t, tok, codes.PermissionDenied)
		o, _ := testOptions(t, env{EnvSPIFFESocket: sock})
		getErr(t, o, "identity token from spiffe: SPIFFE Workload API at "+sock+": PermissionDenied: no identity issued")
	})
	t.Run("no socket", func(t *testing.T) {
		o, _ := testOptions(t, env{})
		o.Provider = "spiffe"
		getErr(t, o, "--oidc-provider spiffe: no socket ")
	})
}

func TestFilesystemAndEnvvar(t *testing.T) {
	tok := token(t, nil)
	t.Run("filesystem", func(t *testing.T) {
		o, _ := testOptions(t, env{})
		writeFile(t, o.FilesystemTokenPath, tok+"\n") // cosign fails on the newline; signet trims
		if got := mustGet(t, o); got.Source != "filesystem" || got.Raw != tok {
			t.Errorf("got %v", got)
		}
	})
	t.Run("filesystem garbage", func(t *testing.T) {
		o, _ := testOptions(t, env{})
		writeFile(t, o.FilesystemTokenPath, "garbage")
		getErr(t, o, "identity token from filesystem: not a JWT (want three base64url parts, got 1)")
	})
	t.Run("SIGSTORE_ID_TOKEN", func(t *testing.T) {
		o, _ := testOptions(t, env{EnvSigstoreIDToken: tok})
		if got := mustGet(t, o); got.Source != "SIGSTORE_ID_TOKEN" || got.Raw != tok {
			t.Errorf("got %v", got)
		}
	})
	t.Run("SIGSTORE_ID_TOKEN expired", func(t *testing.T) {
		o, _ := testOptions(t, env{EnvSigstoreIDToken: token(t, map[string]any{"exp": now.Add(-20*60*1e9 - 11e9).Unix()})})
		getErr(t, o, "identity token from SIGSTORE_ID_TOKEN: expired at 2027-01-15T07:39:49Z (now 08:00:00Z)")
	})
	t.Run("SIGSTORE_ID_TOKEN wrong audience", func(t *testing.T) {
		o, _ := testOptions(t, env{EnvSigstoreIDToken: token(t, map[string]any{"aud": "not-sigstore"})})
		getErr(t, o, `identity token from SIGSTORE_ID_TOKEN: audience is ["not-sigstore"], want "sigstore"`)
	})
	t.Run("--oidc-audience", func(t *testing.T) {
		o, _ := testOptions(t, env{EnvSigstoreIDToken: token(t, map[string]any{"aud": "private-fulcio"})})
		o.Audience = "private-fulcio"
		mustGet(t, o)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

var _ = context.Background
