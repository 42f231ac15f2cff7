package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/signetdev/signet/pkg/admission"
)

// store holds the compiled policies: those of --policy-file, fixed at
// start, and those of the API server, kept current by list + watch. The
// engine reads an immutable snapshot.
type store struct {
	load  admission.LoadOptions
	kube  *kube
	logf  func(format string, args ...any)
	now   func() time.Time
	files []*admission.Policy

	mu  sync.Mutex
	api map[string]*admission.Policy

	// compileMu orders compiles: a policy's watch event and a change of
	// a ConfigMap it reads both compile it, and the later must win. It
	// guards what follows.
	compileMu sync.Mutex
	apiRaw    map[string]json.RawMessage // each API policy as last applied
	fileCIPs  []*admission.ClusterImagePolicy
	uses      map[string]cmUse  // by apiKey/fileKey
	cmCurrent map[string]string // ConfigMap name → resourceVersion, as watched

	cmForbidden atomic.Bool

	snap  atomic.Pointer[[]*admission.Policy]
	ready atomic.Bool
	// lastErr is why the API policies are not current (nil when they are).
	lastErr atomic.Pointer[string]
}

func (s *store) policies() []*admission.Policy {
	if p := s.snap.Load(); p != nil {
		return *p
	}
	return nil
}

// readiness is nil once the policies are loaded.
func (s *store) readiness() error {
	if !s.ready.Load() {
		msg := "the ClusterImagePolicies have not been listed yet"
		if e := s.lastErr.Load(); e != nil {
			msg += ": " + *e
		}
		return errors.New(msg)
	}
	return nil
}

func (s *store) publish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := append([]*admission.Policy(nil), s.files...)
	names := make([]string, 0, len(s.api))
	for n := range s.api {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		all = append(all, s.api[n])
	}
	s.snap.Store(&all)
}

// compile compiles one policy, recording under key the ConfigMaps it
// read; a policy that cannot be enforced as written is replaced by one
// denying its images with the reason. Caller holds compileMu.
func (s *store) compile(ctx context.Context, key string, cip *admission.ClusterImagePolicy) (*admission.Policy, error) {
	o := s.load
	use := cmUse{}
	if s.kube != nil {
		o.ConfigMap = s.configMapGetter(use)
	}
	p, err := admission.Compile(ctx, cip, o)
	s.setUse(key, use)
	if err != nil {
		return admission.Refused(cip, err), err
	}
	return p, nil
}

// readyCondition is the Ready condition a policy carries.
type readyCondition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func currentReady(raw json.RawMessage) readyCondition {
	var obj struct {
		Status struct {
			Conditions []readyCondition `json:"conditions"`
		} `json:"status"`
	}
	_ = json.Unmarshal(raw, &obj)
	for _, c := range obj.Status.Conditions {
		if c.Type == "Ready" {
			return c
		}
	}
	return readyCondition{}
}

// apply adds or replaces an API policy from its JSON.
func (s *store) apply(ctx context.Context, raw json.RawMessage) {
	s.compileMu.Lock()
	defer s.compileMu.Unlock()
	s.applyLocked(ctx, raw, true)
}

// applyLocked compiles raw, unless reuse allows keeping the policy
// compiled from the same input (see unchanged). Caller holds compileMu.
func (s *store) applyLocked(ctx context.Context, raw json.RawMessage, reuse bool) {
	have := currentReady(raw)
	cip, err := admission.ParsePolicy(raw)
	if err != nil {
		var meta struct {
			Metadata admission.ObjectMeta `json:"metadata"`
		}
		_ = json.Unmarshal(raw, &meta)
		if meta.Metadata.Name == "" {
			s.logf("ignoring an unreadable ClusterImagePolicy without a name: %v", err)
			return
		}
		// Unreadable spec: fail closed for every image.
		cip = &admission.ClusterImagePolicy{Metadata: meta.Metadata}
		s.keepRaw(cip.Metadata.Name, raw)
		s.setUse(apiKey(cip.Metadata.Name), nil)
		s.put(cip.Metadata.Name, admission.Refused(cip, err))
		s.status(ctx, cip.Metadata.Name, have, err)
		return
	}
	s.mu.Lock()
	p := s.api[cip.Metadata.Name]
	s.mu.Unlock()
	if reuse && unchanged(p, s.apiRaw[cip.Metadata.Name], raw) && !s.staleUse(apiKey(cip.Metadata.Name)) {
		// Our own status patch comes back as an event, at a new
		// resourceVersion: compiling again would repeat its remote fetch
		// and ConfigMap reads and drop every verdict cached for it.
		s.keepRaw(cip.Metadata.Name, raw)
		s.status(ctx, cip.Metadata.Name, have, nil)
		return
	}
	s.keepRaw(cip.Metadata.Name, raw)
	p, err = s.compile(ctx, apiKey(cip.Metadata.Name), cip)
	s.put(cip.Metadata.Name, p)
	s.status(ctx, cip.Metadata.Name, have, err)
}

// unchanged: p, compiled from old, is enforced, and raw differs from old
// only in its status and the bookkeeping a status write changes
// (resourceVersion, managedFields). Any other change compiles the policy
// again: its spec, and its labels and annotations too, so annotating a
// policy is the way to have its secretRef, kms key or remote policy read
// again. A refused policy is compiled again on every event: its reason
// may have passed (a remote policy that could not be fetched).
func unchanged(p *admission.Policy, old, raw json.RawMessage) bool {
	if p == nil || old == nil || p.IsRefused() {
		return false
	}
	a, aok := withoutStatus(old)
	b, bok := withoutStatus(raw)
	return aok && bok && bytes.Equal(a, b)
}

// withoutStatus is the object without its status, resourceVersion and
// managedFields, in a canonical form (json.Marshal sorts map keys;
// numbers are kept as written).
func withoutStatus(raw json.RawMessage) ([]byte, bool) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var obj map[string]any
	if d.Decode(&obj) != nil {
		return nil, false
	}
	meta, _ := obj["metadata"].(map[string]any)
	if meta == nil || meta["uid"] == nil {
		return nil, false
	}
	delete(meta, "resourceVersion")
	delete(meta, "managedFields")
	delete(obj, "status")
	out, err := json.Marshal(obj)
	return out, err == nil
}

// keepRaw remembers an API policy's JSON, to compile it again when a
// ConfigMap it reads changes. Caller holds compileMu.
func (s *store) keepRaw(name string, raw json.RawMessage) {
	if s.apiRaw == nil {
		s.apiRaw = map[string]json.RawMessage{}
	}
	s.apiRaw[name] = raw
}

// forget drops an API policy. Caller holds compileMu.
func (s *store) forget(name string) {
	delete(s.apiRaw, name)
	s.setUse(apiKey(name), nil)
	s.mu.Lock()
	delete(s.api, name)
	s.mu.Unlock()
}

func (s *store) put(name string, p *admission.Policy) {
	s.mu.Lock()
	s.api[name] = p
	s.mu.Unlock()
}

// status records the verdict on the policy unless it already says so:
// each patch is a new resourceVersion and a watch event, which must not
// patch again.
func (s *store) status(ctx context.Context, name string, have readyCondition, err error) {
	if err != nil {
		s.logf("ClusterImagePolicy %s refused; the images it names are denied until it is fixed: %v", name, err)
	}
	if s.kube == nil {
		return
	}
	ready, reason, msg := true, "Enforced", "signet admission enforces this policy"
	if err != nil {
		ready, reason, msg = false, "Refused", err.Error()
	}
	want := readyCondition{Type: "Ready", Status: map[bool]string{true: "True", false: "False"}[ready], Reason: reason, Message: msg}
	if have == want {
		return
	}
	if serr := s.kube.setStatus(ctx, name, ready, reason, msg, s.now()); serr != nil {
		s.logf("recording the status of ClusterImagePolicy %s: %v", name, serr)
	}
}

// run lists and watches the API server's policies until ctx is done.
func (s *store) run(ctx context.Context) {
	follow(ctx, s.sync, func(err error, backoff time.Duration) {
		msg := err.Error()
		s.lastErr.Store(&msg)
		s.logf("ClusterImagePolicy watch: %v (retrying in %s)", err, backoff)
	})
}

// follow runs sync (a list, then a watch until it ends) again and again
// until ctx is done, backing off after failures, which it reports.
func follow(ctx context.Context, sync func(context.Context) error, failed func(err error, backoff time.Duration)) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := sync(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failed(err, backoff)
			pause(ctx, backoff) // the loop's condition sees ctx end
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = time.Second
	}
}

// pause waits d, or less if ctx ends.
func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

var errRelist = errors.New("watch expired, relisting")

// sync lists, then watches until the watch ends.
func (s *store) sync(ctx context.Context) error {
	items, rv, err := s.kube.listPolicies(ctx)
	if err != nil {
		return fmt.Errorf("listing: %w", err)
	}
	s.compileMu.Lock()
	s.mu.Lock()
	old := s.api
	s.api = map[string]*admission.Policy{}
	s.mu.Unlock()
	oldRaw := s.apiRaw
	s.apiRaw = map[string]json.RawMessage{}
	for _, it := range items {
		// A relist (every watch ends within minutes) recompiles only what
		// changed: a key.kms or secretRef costs a network call.
		var m struct {
			Metadata admission.ObjectMeta `json:"metadata"`
		}
		if json.Unmarshal(it, &m) == nil {
			if p := old[m.Metadata.Name]; unchanged(p, oldRaw[m.Metadata.Name], it) && !s.staleUse(apiKey(m.Metadata.Name)) {
				s.put(m.Metadata.Name, p)
				s.keepRaw(m.Metadata.Name, it)
				continue
			}
		}
		s.applyLocked(ctx, it, true)
	}
	for name := range old {
		if _, ok := s.apiRaw[name]; !ok {
			s.setUse(apiKey(name), nil)
		}
	}
	s.compileMu.Unlock()
	s.publish()
	s.ready.Store(true)
	s.lastErr.Store(nil)
	return s.kube.watchChanges(ctx, policiesPath, rv, false, func(typ string, obj json.RawMessage) error {
		if typ == "DELETED" {
			var m struct {
				Metadata admission.ObjectMeta `json:"metadata"`
			}
			if err := json.Unmarshal(obj, &m); err != nil {
				return fmt.Errorf("watch DELETED event: %w", err)
			}
			s.compileMu.Lock()
			s.forget(m.Metadata.Name)
			s.compileMu.Unlock()
		} else {
			s.apply(ctx, obj)
		}
		s.publish()
		return nil
	})
}

// dockerConfigKeychain resolves credentials from the
// .dockerconfigjson of image pull secrets.
type dockerConfigKeychain map[string]authn.AuthConfig

func (k dockerConfigKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	reg := r.RegistryStr()
	if c, ok := k[reg]; ok {
		return authn.FromConfig(c), nil
	}
	if reg == "index.docker.io" {
		if c, ok := k["docker.io"]; ok {
			return authn.FromConfig(c), nil
		}
	}
	return authn.Anonymous, nil
}

// pullSecrets builds a keychain of docker-registry secrets.
func pullSecrets(kc *kube) func(ctx context.Context, ns string, names []string) (authn.Keychain, error) {
	return func(ctx context.Context, ns string, names []string) (authn.Keychain, error) {
		out := dockerConfigKeychain{}
		for _, n := range names {
			data, err := kc.secret(ctx, ns, n)
			if err != nil {
				return nil, err
			}
			raw, ok := data[".dockerconfigjson"]
			if !ok {
				return nil, fmt.Errorf("secret %s/%s has no .dockerconfigjson (want type kubernetes.io/dockerconfigjson)", ns, n)
			}
			var cfg struct {
				Auths map[string]authn.AuthConfig `json:"auths"`
			}
			if err := json.Unmarshal(raw, &cfg); err != nil {
				return nil, fmt.Errorf("secret %s/%s: .dockerconfigjson: %w", ns, n, err)
			}
			for host, c := range cfg.Auths {
				out[registryHost(host)] = c
			}
		}
		return out, nil
	}
}

// registryHost reduces a docker config key ("https://index.docker.io/v1/",
// "ghcr.io") to the registry host go-containerregistry names.
func registryHost(key string) string {
	key = strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	key, _, _ = strings.Cut(key, "/")
	return key
}
