// Package imagerefs finds the images a Kubernetes manifest or a
// Dockerfile uses (cosign's deprecated `manifest verify` and `dockerfile
// verify`), so each can go through the one image verification path.
package imagerefs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxDocuments bounds the YAML documents read from one manifest.
const MaxDocuments = 10000

// containerLists are the pod spec fields whose entries carry an image.
var containerLists = map[string]bool{"containers": true, "initContainers": true, "ephemeralContainers": true}

// Manifest returns every container image of every pod spec in a
// (multi-document) Kubernetes YAML manifest — Pods, workloads, CronJobs,
// templates in any resource — in order of appearance, each once.
func Manifest(data []byte) ([]string, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var images []string
	seen := map[string]bool{}
	for n := 0; ; n++ {
		if n >= MaxDocuments {
			return nil, fmt.Errorf("more than %d YAML documents", MaxDocuments)
		}
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("YAML document %d: %w", n+1, err)
		}
		if err := walk(&doc, false, 0, func(img string) {
			if !seen[img] {
				seen[img] = true
				images = append(images, img)
			}
		}); err != nil {
			return nil, fmt.Errorf("YAML document %d: %w", n+1, err)
		}
	}
	return images, nil
}

// maxDepth bounds nesting (aliases can make a small file deep).
const maxDepth = 100

// walk visits n; inContainers says n is an entry of a container list.
func walk(n *yaml.Node, inContainers bool, depth int, add func(string)) error {
	if depth > maxDepth {
		return fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := walk(c, false, depth+1, add); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if err := walk(c, inContainers, depth+1, add); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if inContainers && k.Value == "image" {
				if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
					return fmt.Errorf("line %d: image is not a non-empty string", v.Line)
				}
				add(strings.TrimSpace(v.Value))
				continue
			}
			if v.Kind == yaml.SequenceNode && containerLists[k.Value] {
				if err := walk(v, true, depth+1, add); err != nil {
					return err
				}
				continue
			}
			if err := walk(v, false, depth+1, add); err != nil {
				return err
			}
		}
	}
	// Aliases are not followed: a manifest's images are written out.
	return nil
}

// MaxDockerfileLine bounds one Dockerfile line.
const MaxDockerfileLine = 1 << 20

// Dockerfile returns the images the FROM lines of a Dockerfile name, in
// order: options (--platform=…) skipped, ${VAR} and $VAR expanded from getenv
// (as cosign does) and then from ARG defaults declared before, `scratch` and earlier
// stage names left out. The base image is the last one.
func Dockerfile(r io.Reader, getenv func(string) string) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxDockerfileLine)
	args := map[string]string{}
	stages := map[string]bool{}
	var images []string
	lineNo := 0
	for sc.Scan() {
		lineNo++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "ARG":
			for _, a := range fields[1:] {
				k, v, _ := strings.Cut(a, "=")
				args[k] = strings.Trim(v, `"'`)
			}
		case "FROM":
			rest := fields[1:]
			for len(rest) > 0 && strings.HasPrefix(rest[0], "--") {
				rest = rest[1:]
			}
			if len(rest) == 0 {
				return nil, fmt.Errorf("line %d: FROM names no image", lineNo)
			}
			img := expand(rest[0], args, getenv)
			switch {
			case img == "":
				return nil, fmt.Errorf("line %d: FROM %s expands to nothing", lineNo, rest[0])
			case img == "scratch", stages[strings.ToLower(img)]:
			default:
				images = append(images, img)
			}
			// A stage name counts only for later FROMs.
			if len(rest) >= 3 && strings.EqualFold(rest[1], "AS") {
				stages[strings.ToLower(rest[2])] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the Dockerfile: %w", err)
	}
	return images, nil
}

func expand(s string, args map[string]string, getenv func(string) string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		var name, def string
		if s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				break
			}
			name = s[i+2 : i+end]
			name, def, _ = strings.Cut(name, ":-")
			i += end
		} else {
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			name = s[i+1 : j]
			i = j - 1
		}
		// The environment plays --build-arg (cosign expands FROM lines
		// with the environment); then the ARG default.
		v := getenv(name)
		if v == "" {
			v = args[name]
		}
		if v == "" {
			v = def
		}
		b.WriteString(v)
	}
	return b.String()
}
