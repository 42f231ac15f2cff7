// Package dockerconfig records registry credentials in Docker's
// config.json, where docker, crane, cosign and go-containerregistry's
// default keychain look for them.
package dockerconfig

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/signetdev/signet/internal/atomicfile"
	"github.com/signetdev/signet/internal/fileutil"
)

// maxConfig bounds config.json (real ones are a few KiB).
const maxConfig = 16 << 20

// Dir is where config.json lives: $DOCKER_CONFIG, else ~/.docker.
func Dir(dockerConfigEnv, home string) (string, error) {
	if dockerConfigEnv != "" {
		return dockerConfigEnv, nil
	}
	if home == "" {
		return "", errors.New("no home directory to find .docker/config.json in; set DOCKER_CONFIG")
	}
	return filepath.Join(home, ".docker"), nil
}

// ServerKey is the key docker uses for a registry in "auths": the host,
// or for Docker Hub its historical https://index.docker.io/v1/.
func ServerKey(server string) (string, error) {
	reg, err := name.NewRegistry(server)
	if err != nil {
		return "", fmt.Errorf("registry %q: %w", server, err)
	}
	if reg.Name() == name.DefaultRegistry {
		return authn.DefaultAuthKey, nil
	}
	return reg.Name(), nil
}

// Store writes user's credentials for server into dir/config.json,
// keeping everything else in the file, and returns the file's path. A
// credential helper configured for the registry is refused: the secret
// would have to go to the helper, not the file.
func Store(dir, server, user, password string) (string, error) {
	key, err := ServerKey(server)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "config.json")
	doc := map[string]json.RawMessage{}
	data, err := fileutil.ReadLimit(path, maxConfig)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &doc); err != nil {
			return "", fmt.Errorf("%s: not valid JSON: %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
	default:
		return "", err
	}
	var helpers struct {
		CredsStore  string            `json:"credsStore"`
		CredHelpers map[string]string `json:"credHelpers"`
	}
	_ = json.Unmarshal(data, &helpers)
	if h := helpers.CredHelpers[key]; h != "" {
		return "", fmt.Errorf("%s: registry %s uses the credential helper docker-credential-%s; log in with docker login", path, key, h)
	}
	if helpers.CredsStore != "" {
		return "", fmt.Errorf("%s: credentials go to the credential store docker-credential-%s; log in with docker login", path, helpers.CredsStore)
	}
	auths := map[string]map[string]any{}
	if raw, ok := doc["auths"]; ok {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return "", fmt.Errorf("%s: \"auths\": %w", path, err)
		}
	}
	// docker keeps only the encoded pair, dropping the separate fields.
	entry := auths[key]
	if entry == nil {
		entry = map[string]any{}
	}
	delete(entry, "username")
	delete(entry, "password")
	entry["auth"] = base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	auths[key] = entry
	if doc["auths"], err = json.Marshal(auths); err != nil {
		return "", err
	}
	out, err := json.MarshalIndent(doc, "", "\t")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := atomicfile.WriteFile(path, out, 0o600); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}
