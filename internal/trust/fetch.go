package trust

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signetdev/signet/internal/version"
)

// How hard a refresh tries. An unreachable repository must fall back in
// seconds: DNS failures and refused connections fail at once; a black hole
// costs at most tries×attemptTimeout, and the whole refresh refreshTimeout.
const (
	fetchTries     = 2
	fetchPause     = 250 * time.Millisecond
	attemptTimeout = 8 * time.Second
	refreshTimeout = 30 * time.Second
)

// fetchError is a download that failed. Transport-level failures (no
// route, DNS, refused, timeout) make the repository "unreachable"; an HTTP
// status is an answer, wrapped as go-tuf's *metadata.ErrDownloadHTTP so its
// updater can tell a 404 (no newer root) from other failures.
type fetchError struct {
	url       string
	err       error
	transport bool
}

func (e *fetchError) Error() string { return e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

// unreachable reports whether err says the repository could not be reached.
func unreachable(err error) bool {
	var fe *fetchError
	return errors.As(err, &fe) && fe.transport
}

// fetcher implements go-tuf's fetcher.Fetcher over an injected transport,
// bounded by ctx, with short retries; file:// URLs are read from disk.
type fetcher struct {
	ctx    context.Context
	client *http.Client
	ua     string
}

func newFetcher(ctx context.Context, rt http.RoundTripper) *fetcher {
	ua := "signet"
	if v := version.Get().GitVersion; v != "" {
		ua += "/" + v
	}
	ua += " (" + runtime.GOOS + "; " + runtime.GOARCH + ")"
	return &fetcher{ctx: ctx, client: &http.Client{Transport: rt}, ua: ua}
}

// DownloadFile fetches urlPath, reading at most maxLength bytes.
func (f *fetcher) DownloadFile(urlPath string, maxLength int64, _ time.Duration) ([]byte, error) {
	u, err := url.Parse(urlPath)
	if err != nil {
		return nil, &fetchError{url: urlPath, err: err}
	}
	if u.Scheme == "file" {
		return readFileURL(u, maxLength)
	}
	var last error
	for try := 0; try < fetchTries; try++ {
		if try > 0 {
			select {
			case <-f.ctx.Done():
				return nil, &fetchError{url: urlPath, err: f.ctx.Err(), transport: true}
			case <-time.After(fetchPause):
			}
		}
		data, retry, err := f.get(urlPath, maxLength)
		if err == nil {
			return data, nil
		}
		last = err
		if !retry || f.ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

// get makes one attempt and says whether another may help.
func (f *fetcher) get(urlPath string, maxLength int64) (data []byte, retry bool, err error) {
	ctx, cancel := context.WithTimeout(f.ctx, attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, urlPath, nil)
	if err != nil {
		return nil, false, &fetchError{url: urlPath, err: err}
	}
	req.Header.Set("User-Agent", f.ua)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, true, &fetchError{url: urlPath, err: err, transport: true}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // drained so the connection can be reused
		retry = resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
		return nil, retry, &fetchError{url: urlPath, err: &metadata.ErrDownloadHTTP{StatusCode: resp.StatusCode, URL: urlPath}}
	}
	data, err = readAllBounded(resp.Body, maxLength)
	if err != nil {
		var lm *metadata.ErrDownloadLengthMismatch
		return nil, !errors.As(err, &lm), &fetchError{url: urlPath, err: err, transport: !errors.As(err, &lm)}
	}
	return data, false, nil
}

// readFileURL serves a file:// mirror (air-gapped repositories). A missing
// file answers like an HTTP 404, which the TUF updater expects when it
// looks for a newer root.
func readFileURL(u *url.URL, maxLength int64) ([]byte, error) {
	p := u.Path
	if runtime.GOOS == "windows" && len(p) >= 3 && p[0] == '/' && p[2] == ':' {
		p = p[1:] // file:///C:/repo → C:/repo
	}
	data, err := readBounded(filepath.FromSlash(p), maxLength)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &fetchError{url: u.String(), err: &metadata.ErrDownloadHTTP{StatusCode: http.StatusNotFound, URL: u.String()}}
	}
	if err != nil {
		return nil, &fetchError{url: u.String(), err: err}
	}
	return data, nil
}

// readAllBounded reads r to the end, failing if it holds more than max bytes.
func readAllBounded(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &metadata.ErrDownloadLengthMismatch{Msg: fmt.Sprintf("more than %d bytes", max)}
	}
	return data, nil
}

// offlineFetcher refuses every download: reading the cache must never
// reach the network, whatever the cached metadata says.
type offlineFetcher struct{}

func (offlineFetcher) DownloadFile(urlPath string, _ int64, _ time.Duration) ([]byte, error) {
	return nil, fmt.Errorf("not fetching %s: reading the cache only", strings.TrimSpace(urlPath))
}
