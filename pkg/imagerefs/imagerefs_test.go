package imagerefs

import (
	"slices"
	"strings"
	"testing"
)

const manifest = `apiVersion: v1
kind: Pod
metadata: {name: a}
spec:
  initContainers:
  - name: init
    image: registry.example.com/init:1
  containers:
  - name: app
    image: registry.example.com/app@sha256:0000000000000000000000000000000000000000000000000000000000000000
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: b, annotations: {image: not-this}}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - {name: job, image: "registry.example.com/job:2"}
          - {name: again, image: registry.example.com/init:1}
          ephemeralContainers:
          - {name: debug, image: busybox}
`

func TestManifest(t *testing.T) {
	got, err := Manifest([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"registry.example.com/init:1", "registry.example.com/app@sha256:0000000000000000000000000000000000000000000000000000000000000000", "registry.example.com/job:2", "busybox"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestManifestBad(t *testing.T) {
	for _, in := range []string{"spec: {containers: [{image: {a: b}}]}", "a: [\n", "spec:\n  containers:\n  - image: \"\"\n"} {
		if _, err := Manifest([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestDockerfile(t *testing.T) {
	df := `ARG BASE=debian:12
ARG TAG
FROM --platform=$BUILDPLATFORM golang:${GO:-1.26} AS build
from build as test
FROM scratch AS empty
FROM ${BASE}
FROM registry.example.com/base:$TAG
`
	env := map[string]string{"TAG": "v3"}
	got, err := Dockerfile(strings.NewReader(df), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"golang:1.26", "debian:12", "registry.example.com/base:v3"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := Dockerfile(strings.NewReader("FROM --platform=x\n"), func(string) string { return "" }); err == nil {
		t.Error("FROM without an image: no error")
	}
	if _, err := Dockerfile(strings.NewReader("FROM $NOPE\n"), func(string) string { return "" }); err == nil {
		t.Error("FROM expanding to nothing: no error")
	}
}

func FuzzManifest(f *testing.F) {
	f.Add([]byte(manifest))
	f.Add([]byte("a: &x [*x]"))
	f.Fuzz(func(t *testing.T, data []byte) { _, _ = Manifest(data) })
}

func FuzzDockerfile(f *testing.F) {
	f.Add("FROM a AS b\nFROM ${X:-y}\nARG X=z\n")
	f.Add("FROM $")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Dockerfile(strings.NewReader(s), func(string) string { return "" })
	})
}
