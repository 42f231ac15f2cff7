package flags

import (
	"fmt"
	"strings"
)

// ParseAnnotations parses -a key=value pairs.
func ParseAnnotations(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	ann := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("-a/--annotations %q: want key=value", kv)
		}
		ann[k] = v
	}
	return ann, nil
}
