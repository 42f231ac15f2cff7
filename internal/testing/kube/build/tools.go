//go:build tools

// Package kubebuild pins kube-apiserver as a dependency of this scratch
// module so go mod tidy keeps its requirements.
package kubebuild

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
