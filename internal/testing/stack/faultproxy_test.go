package stack

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

func TestFaultProxy(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.URL.Path)
	}))
	defer backend.Close()
	p := NewFaultProxy(t, backend.URL)
	// No keep-alive: Go retries an idempotent request whose reused connection was reset.
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

	get := func() (int, string, error) {
		resp, err := client.Get(p.URL + "/x")
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	expect := func(wantCode int, wantBody string) {
		t.Helper()
		code, body, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if code != wantCode || (wantBody != "" && body != wantBody) {
			t.Fatalf("got %d %q, want %d %q", code, body, wantCode, wantBody)
		}
	}

	expect(200, "hello /x")
	p.Set(ServerError)
	expect(503, "")
	p.SetStatus(500)
	expect(500, "")
	p.SetFor(TooManyRequests, 1)
	expect(429, "")
	expect(200, "hello /x") // SetFor ran out
	p.SetDelay(300 * time.Millisecond)
	p.Set(Slow)
	start := time.Now()
	expect(200, "hello /x")
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("slow mode took %v", d)
	}
	p.Set(Reset)
	_, _, err := get()
	if err == nil {
		t.Fatal("reset mode: request succeeded")
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) {
		t.Logf("reset mode error (not ECONNRESET): %v", err)
	}
	p.Set(Pass)
	expect(200, "hello /x")
	if got := p.Requests(); got != 8 {
		t.Errorf("Requests() = %d, want 8", got)
	}
	if got := p.Faults(); got != 5 { // 503, 500, 429, slow, reset
		t.Errorf("Faults() = %d, want 5", got)
	}
}

func TestIdentity(t *testing.T) {
	e := &Env{GitLabHost: "gitlab.example.com"}
	if got, want := e.Identity(TokenRequest{}), "https://gitlab.example.com/group/project//.gitlab-ci.yml@refs/heads/main"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	if got, want := e.Identity(TokenRequest{ProjectPath: "a/b", Ref: "v1", RefType: "tag"}), "https://gitlab.example.com/a/b//.gitlab-ci.yml@refs/tags/v1"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}
