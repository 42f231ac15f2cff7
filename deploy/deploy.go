// Package deploy holds the Kubernetes manifests of signet admission:
// crd.yaml applies as is; the *.yaml.tmpl files are rendered for a
// namespace, an image and a CA by `signet admission manifests`.
package deploy

import "embed"

// Files are the manifests, in the order they are applied.
//
//go:embed crd.yaml rbac.yaml.tmpl deployment.yaml.tmpl webhooks.yaml.tmpl
var Files embed.FS

// Order is the order of Files in the rendered output.
var Order = []string{"crd.yaml", "rbac.yaml.tmpl", "deployment.yaml.tmpl", "webhooks.yaml.tmpl"}
