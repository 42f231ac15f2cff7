package localstack

import (
	"fmt"
	"path/filepath"
)

// ToolBinary is the path of a tool's binary (bin, of the component whose
// Key is key) in the cache, or an error saying it is not installed. Tools
// the shared stack's `up` does not export (syft) are found this way.
func ToolBinary(c Config, key, bin string) (string, error) {
	for _, comp := range Components {
		if comp.Key != key {
			continue
		}
		dir := comp.dir(c)
		if !comp.complete(dir) {
			return "", fmt.Errorf("%s is not installed in %s: run hack/local-stack install", key, c.binDir())
		}
		return filepath.Join(dir, bin), nil
	}
	return "", fmt.Errorf("no component %s in localstack.Components", key)
}
