package trust

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/signetdev/signet/internal/atomicfile"
)

// remoteFile is where `cosign initialize` and `signet initialize` record the
// mirror in the cache directory: {"mirror": "<url>"}.
const remoteFile = "remote.json"

// maxRemoteSize bounds what is read of remote.json.
const maxRemoteSize = 64 << 10

// readRemote returns the mirror recorded in cacheDir, or "" if none is.
func readRemote(cacheDir string) (string, error) {
	p := filepath.Join(cacheDir, remoteFile)
	data, err := readBounded(p, maxRemoteSize)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", p, pathErr(err))
	}
	mirror, err := parseRemote(data)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", p, err)
	}
	return mirror, nil
}

// parseRemote parses remote.json. An absent or empty mirror means the
// default one.
func parseRemote(data []byte) (string, error) {
	var r struct {
		Mirror string `json:"mirror"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return "", fmt.Errorf("parsing: %w", err)
	}
	if r.Mirror == "" {
		return "", nil
	}
	if err := checkMirrorURL(r.Mirror); err != nil {
		return "", err
	}
	return r.Mirror, nil
}

// checkMirrorURL accepts http(s) URLs with a host and file:/// URLs.
func checkMirrorURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("mirror %q: %w", s, err)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return fmt.Errorf("mirror %q has no host", s)
		}
	case "file":
		if u.Path == "" || (u.Host != "" && u.Host != "localhost") {
			return fmt.Errorf("mirror %q is not a local path (want file:///absolute/path)", s)
		}
	default:
		return fmt.Errorf("mirror %q is not an http(s):// or file:/// URL", s)
	}
	return nil
}

// writeRemote records mirror in cacheDir, atomically.
func writeRemote(cacheDir, mirror string) error {
	b, err := json.Marshal(map[string]string{"mirror": mirror})
	if err != nil {
		return err
	}
	p := filepath.Join(cacheDir, remoteFile)
	if err := atomicfile.WriteFile(p, b, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", p, pathErr(err))
	}
	return nil
}

// readBounded reads at most max bytes of path; a larger file is an error.
func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllBounded(f, max)
}
