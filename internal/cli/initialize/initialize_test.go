package initialize

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/signetdev/signet/internal/cli"
	"github.com/signetdev/signet/internal/iostreams"
	"github.com/signetdev/signet/internal/trust"
	"github.com/signetdev/signet/internal/trust/trusttest"
)

func testFactory(env func(string) string, rt http.RoundTripper) (*cli.Factory, *iostreams.IOStreams) {
	ios, _, _, _ := iostreams.Test()
	return &cli.Factory{
		IOStreams: ios,
		Getenv:    env,
		HomeDir:   func() (string, error) { return "", errors.New("no home in tests") },
		Transport: rt,
		Now:       time.Now,
	}, ios
}

// argv → options, through the root command (so COSIGN_<FLAG> binding and
// global flags apply as in a real run).
func TestArgvToOptions(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		env  []string
		want Options
	}{
		{"defaults", nil, nil, Options{Mirror: trust.DefaultMirror}},
		{"mirror and root", []string{"--mirror", "https://tuf.example.com", "--root", "root.json"}, nil,
			Options{Mirror: "https://tuf.example.com", MirrorSet: true, Root: "root.json"}},
		{"checksum", []string{"--root=https://x/root.json", "--root-checksum=sha512:ab"}, nil,
			Options{Mirror: trust.DefaultMirror, Root: "https://x/root.json", RootChecksum: "sha512:ab"}},
		{"staging", []string{"--staging"}, nil, Options{Mirror: trust.DefaultMirror, Staging: true}},
		{"single-dash as cosign", []string{"-mirror", "file:///srv/tuf"}, nil,
			Options{Mirror: "file:///srv/tuf", MirrorSet: true}},
		{"COSIGN_ environment", nil, []string{"COSIGN_MIRROR", "https://env.example.com", "COSIGN_ROOT", "r.json"},
			Options{Mirror: "https://env.example.com", MirrorSet: true, Root: "r.json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, _ := testFactory(trusttest.Env(c.env...), &trusttest.FailingTransport{})
			var got *Options
			verb := func(f *cli.Factory) *cobra.Command {
				return NewCmdInitialize(f, func(_ context.Context, o *Options) error { got = o; return nil })
			}
			if code := cli.MainWithFactory(context.Background(), append([]string{"initialize"}, c.args...), f, verb); code != 0 {
				t.Fatalf("exit %d", code)
			}
			if got == nil {
				t.Fatal("run function not called")
			}
			if got.Mirror != c.want.Mirror || got.MirrorSet != c.want.MirrorSet || got.Root != c.want.Root ||
				got.RootChecksum != c.want.RootChecksum || got.Staging != c.want.Staging {
				t.Errorf("got %+v, want %+v", *got, c.want)
			}
			if got.Trust.Getenv == nil || got.Trust.Transport == nil || got.Trust.Warn == nil || got.Trust.Now == nil {
				t.Error("trust options not wired to the factory")
			}
		})
	}
	f, _ := testFactory(trusttest.Env(), nil)
	if code := cli.MainWithFactory(context.Background(), []string{"initialize", "extra"}, f,
		func(f *cli.Factory) *cobra.Command { return NewCmdInitialize(f, nil) }); code != 1 {
		t.Errorf("positional argument: exit %d, want 1", code)
	}
}

type repoFixture struct {
	repo     *trusttest.Repo
	srv      *httptest.Server
	cache    string
	rootPath string
}

func newRepoFixture(t *testing.T) *repoFixture {
	repo := trusttest.NewRepo(t, time.Now().Add(30*24*time.Hour), map[string][]byte{
		trust.TrustedRootTarget: trusttest.TrustedRootJSON(t, "alpha"),
	})
	rootPath := filepath.Join(t.TempDir(), "root.json")
	if err := os.WriteFile(rootPath, repo.Root1, 0o644); err != nil {
		t.Fatal(err)
	}
	return &repoFixture{repo: repo, srv: repo.Serve(), cache: t.TempDir(), rootPath: rootPath}
}

func (r *repoFixture) trustOpts(rt http.RoundTripper) trust.Options {
	return trust.Options{Getenv: trusttest.Env(trust.EnvTUFRoot, r.cache), Transport: rt, Now: time.Now}
}

// loadsOffline checks that the cache now serves the repository's trusted
// root with zero requests.
func (r *repoFixture) loadsOffline(t *testing.T) {
	t.Helper()
	ft := &trusttest.FailingTransport{}
	tr, err := trust.Load(context.Background(), r.trustOpts(ft))
	if err != nil {
		t.Fatal(err)
	}
	if ft.Requests() != 0 || trusttest.RekorURL(tr) != "https://rekor.alpha.test" {
		t.Errorf("%d requests, trusted root of %s", ft.Requests(), trusttest.RekorURL(tr))
	}
}

// options → effect
func TestInitializeRun(t *testing.T) {
	t.Run("mirror and root file", func(t *testing.T) {
		r := newRepoFixture(t)
		err := initializeRun(context.Background(), &Options{
			Trust: r.trustOpts(http.DefaultTransport), Mirror: r.srv.URL, MirrorSet: true, Root: r.rootPath,
		})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(r.cache, "remote.json"))
		if err != nil || !strings.Contains(string(b), r.srv.URL) {
			t.Errorf("remote.json = %s, %v", b, err)
		}
		r.loadsOffline(t)
	})

	t.Run("root over https with checksum", func(t *testing.T) {
		r := newRepoFixture(t)
		rootSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(r.repo.Root1) }))
		defer rootSrv.Close()
		s256 := sha256.Sum256(r.repo.Root1)
		s512 := sha512.Sum512(r.repo.Root1)
		for _, c := range []struct{ checksum, wantErr string }{
			{"", "give its --root-checksum"},
			{strings.Repeat("0", 64), "sha256 checksum mismatch"},
			{"sha512:" + hex.EncodeToString(s256[:]), "not a hex sha512 digest"},
			{"md5:00", "unsupported algorithm"},
			{hex.EncodeToString(s256[:]), ""},
			{"sha512:" + hex.EncodeToString(s512[:]), ""},
		} {
			err := initializeRun(context.Background(), &Options{
				Trust:  r.trustOpts(rootSrv.Client().Transport),
				Mirror: r.srv.URL, MirrorSet: true, Root: rootSrv.URL + "/root.json", RootChecksum: c.checksum,
			})
			if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Errorf("checksum %q: err = %v, want %q", c.checksum, err, c.wantErr)
			}
		}
		r.loadsOffline(t)
	})

	t.Run("root file with a wrong checksum", func(t *testing.T) {
		r := newRepoFixture(t)
		err := initializeRun(context.Background(), &Options{
			Trust: r.trustOpts(http.DefaultTransport), Mirror: r.srv.URL, MirrorSet: true,
			Root: r.rootPath, RootChecksum: strings.Repeat("a", 64),
		})
		if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
			t.Errorf("err = %v", err)
		}
		if _, err := os.Stat(filepath.Join(r.cache, "remote.json")); err == nil {
			t.Error("remote.json written after a failure")
		}
	})

	t.Run("file mirror", func(t *testing.T) {
		r := newRepoFixture(t)
		ft := &trusttest.FailingTransport{}
		err := initializeRun(context.Background(), &Options{
			Trust: r.trustOpts(ft), Mirror: r.repo.FileURL(), MirrorSet: true, Root: r.rootPath,
		})
		if err != nil || ft.Requests() != 0 {
			t.Fatalf("err %v, %d requests", err, ft.Requests())
		}
		tr, err := trust.Load(context.Background(), r.trustOpts(ft))
		if err != nil || trusttest.RekorURL(tr) != "https://rekor.alpha.test" || ft.Requests() != 0 {
			t.Fatalf("err %v, %d requests", err, ft.Requests())
		}
	})

	for _, c := range []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"staging with mirror", Options{Staging: true, Mirror: "https://tuf.example.com", MirrorSet: true}, "--staging and --mirror cannot be used together"},
		{"checksum without root", Options{Mirror: trust.DefaultMirror, RootChecksum: "ab"}, "--root-checksum needs --root"},
		{"custom mirror without root", Options{Mirror: "https://tuf.example.com", MirrorSet: true}, "give one with --root"},
		{"bad mirror", Options{Mirror: "gs://bucket", MirrorSet: true}, "not an http(s):// or file:/// URL"},
		{"missing root file", Options{Mirror: trust.DefaultMirror, Root: "/nonexistent/root.json"}, "--root: open /nonexistent/root.json"},
		{"not a TUF root", Options{Mirror: trust.DefaultMirror, Root: "initialize.go"}, "not a TUF root.json"},
		{"unreachable", Options{Mirror: trust.DefaultMirror}, "network disabled in this test"},
		{"staging unreachable", Options{Mirror: trust.DefaultMirror, Staging: true}, trust.StagingMirror},
	} {
		t.Run(c.name, func(t *testing.T) {
			cache := t.TempDir()
			c.opts.Trust = trust.Options{Getenv: trusttest.Env(trust.EnvTUFRoot, cache), Transport: &trusttest.FailingTransport{}}
			err := initializeRun(context.Background(), &c.opts)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("err = %v, want %q", err, c.wantErr)
			}
		})
	}
}

// The whole command, as a user runs it: nothing on stdout, exit 0, and a
// verification afterwards needs no network.
func TestInitializeCommand(t *testing.T) {
	r := newRepoFixture(t)
	f, ios := testFactory(trusttest.Env(trust.EnvTUFRoot, r.cache), http.DefaultTransport)
	code := cli.MainWithFactory(context.Background(), []string{"initialize", "--mirror", r.srv.URL, "--root", r.rootPath}, f,
		func(f *cli.Factory) *cobra.Command { return NewCmdInitialize(f, nil) })
	if code != 0 {
		t.Fatalf("exit %d: %s", code, ios.ErrOut)
	}
	if out := ios.Out.(interface{ String() string }).String(); out != "" {
		t.Errorf("stdout = %q", out)
	}
	r.loadsOffline(t)
}
