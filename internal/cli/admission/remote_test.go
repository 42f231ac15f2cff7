package admission

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/pkg/admission"
)

func TestFetchPolicy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok.rego":
			w.Write([]byte("package sigstore\nisCompliant = true\n"))
		case "/big.rego":
			w.Write([]byte(strings.Repeat("#", admission.MaxPolicySize+1)))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	ios, _, _, _ := iostreams.Test()
	fetch := fetchPolicy(cli.NewFactory(ios))
	ctx := context.Background()
	if b, err := fetch(ctx, srv.URL+"/ok.rego"); err != nil || !strings.HasPrefix(string(b), "package sigstore") {
		t.Fatalf("%q, %v", b, err)
	}
	for _, tc := range []struct{ url, want string }{
		{srv.URL + "/big.rego", "more than 4194304 bytes"},
		{srv.URL + "/missing.rego", "HTTP 404"},
		{"file:///etc/passwd", "want an http(s) URL"},
	} {
		if _, err := fetch(ctx, tc.url); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.url, err, tc.want)
		}
	}
}
