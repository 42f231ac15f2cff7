package oidc

// ProviderStatus says whether an ambient provider is enabled in this
// environment, and why.
type ProviderStatus struct {
	Name    string
	Enabled bool
	Why     string
}

// Providers reports every ambient provider, in the order they are tried,
// without fetching a token: only the environment and local files are
// looked at.
func Providers(o Options) []ProviderStatus {
	o = o.withDefaults()
	out := make([]ProviderStatus, 0, len(providers))
	for _, p := range providers {
		why, ok := p.available(&o)
		out = append(out, ProviderStatus{Name: p.name, Enabled: ok, Why: why})
	}
	return out
}
