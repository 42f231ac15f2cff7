package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/signetdev/signet/pkg/admission"
)

// A policy's configMapRef (policy-controller's out-of-line policy text)
// is read with a GET when the policy is compiled; the ConfigMaps of the
// system namespace are then watched, and a policy is compiled again when
// one it read changes, appears or goes, so the next admission uses the
// new text (its version, part of the cache key, changes with it).

// maxConfigMapBody bounds one ConfigMap: the API server stores at most
// 1 MiB of data, which JSON escaping may grow.
const maxConfigMapBody = 4 << 20

// errNoConfigMap: the ConfigMap does not exist (HTTP 404).
var errNoConfigMap = errors.New("does not exist")

type configMapObject struct {
	Metadata admission.ObjectMeta `json:"metadata"`
	Data     map[string]string    `json:"data"`
}

// configMapMeta is what the list and watch read of a ConfigMap (they ask
// for its metadata alone): its data is read by the GET of a policy that
// names it.
type configMapMeta struct {
	Metadata admission.ObjectMeta `json:"metadata"`
}

func configMapsPath(ns string) string {
	return "/api/v1/namespaces/" + url.PathEscape(ns) + "/configmaps"
}

// configMap reads one ConfigMap, within fetchTimeout.
func (k *kube) configMap(ctx context.Context, ns, name string) (*configMapObject, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	var cm configMapObject
	err := k.getJSON(ctx, configMapsPath(ns)+"/"+url.PathEscape(name), maxConfigMapBody, &cm)
	var ae *apiError
	if errors.As(err, &ae) && ae.code == http.StatusNotFound {
		return nil, errNoConfigMap
	}
	if err != nil {
		return nil, err
	}
	return &cm, nil
}

// cmUse is what one compile of a policy read from ConfigMaps: by name,
// the resourceVersion it saw, "" for none, "?" for a failed read.
type cmUse map[string]string

// Keys of store.uses: a policy of the API server, or of --policy-file.
func apiKey(name string) string { return "api/" + name }
func fileKey(i int) string      { return "file/" + strconv.Itoa(i) }

// configMapGetter reads ConfigMaps for one compile, recording in use
// what it read. Caller holds compileMu.
func (s *store) configMapGetter(use cmUse) func(ctx context.Context, ns, name string) (map[string]string, error) {
	return func(ctx context.Context, ns, name string) (map[string]string, error) {
		cm, err := s.kube.configMap(ctx, ns, name)
		switch {
		case err == nil:
			use[name] = cm.Metadata.ResourceVersion
			return cm.Data, nil
		case errors.Is(err, errNoConfigMap):
			use[name] = ""
		default:
			use[name] = "?"
		}
		return nil, err
	}
}

// setUse records what the policy under key read. Caller holds compileMu.
func (s *store) setUse(key string, use cmUse) {
	if len(use) == 0 {
		delete(s.uses, key)
		return
	}
	if s.uses == nil {
		s.uses = map[string]cmUse{}
	}
	s.uses[key] = use
}

// runConfigMaps lists and watches the system namespace's ConfigMaps
// until ctx is done.
func (s *store) runConfigMaps(ctx context.Context) {
	follow(ctx, s.syncConfigMaps, func(err error, backoff time.Duration) {
		s.logf("ConfigMap watch in namespace %s: %v (retrying in %s)", s.load.SystemNamespace, err, backoff)
	})
}

func (s *store) syncConfigMaps(ctx context.Context) error {
	path := configMapsPath(s.load.SystemNamespace)
	// Metadata alone: a name and a resourceVersion are all this reads,
	// and a namespace's ConfigMaps (1 MiB each) would otherwise count
	// against the list's bound and a watch event's.
	items, rv, err := s.kube.list(ctx, path, true)
	var ae *apiError
	if errors.As(err, &ae) && ae.code == http.StatusForbidden {
		// An install whose RBAC predates configMapRef: the policies
		// naming a ConfigMap are refused by their own GET, saying so.
		if !s.cmForbidden.Swap(true) {
			s.logf("cannot list ConfigMaps in namespace %s (HTTP 403: the Role does not allow it): a policy's configMapRef cannot be read or followed", s.load.SystemNamespace)
		}
		pause(ctx, noCRDRetry)
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing: %w", err)
	}
	s.cmForbidden.Store(false)
	current := map[string]string{}
	for _, it := range items {
		var m configMapMeta
		if err := json.Unmarshal(it, &m); err != nil {
			return fmt.Errorf("listing: %w", err)
		}
		current[m.Metadata.Name] = m.Metadata.ResourceVersion
	}
	s.compileMu.Lock()
	s.cmCurrent = current
	s.recompileLocked(ctx, "")
	s.compileMu.Unlock()
	return s.kube.watchChanges(ctx, path, rv, true, func(typ string, obj json.RawMessage) error {
		var m configMapMeta
		if err := json.Unmarshal(obj, &m); err != nil {
			return fmt.Errorf("watch %s event: %w", typ, err)
		}
		s.compileMu.Lock()
		defer s.compileMu.Unlock()
		if typ == "DELETED" {
			delete(s.cmCurrent, m.Metadata.Name)
		} else {
			s.cmCurrent[m.Metadata.Name] = m.Metadata.ResourceVersion
		}
		s.recompileLocked(ctx, m.Metadata.Name)
		return nil
	})
}

// stale: the policy read a ConfigMap (only the one named, unless only is
// "") at another resourceVersion than current's.
func (u cmUse) stale(current map[string]string, only string) bool {
	for name, seen := range u {
		if (only == "" || name == only) && seen != current[name] {
			return true
		}
	}
	return false
}

// staleUse: the policy under key read a ConfigMap that has changed
// since. Caller holds compileMu.
func (s *store) staleUse(key string) bool { return s.uses[key].stale(s.cmCurrent, "") }

// recompileLocked compiles again every policy that read a ConfigMap
// (only the one named, unless only is "") at another resourceVersion
// than it has now, and publishes the result. Caller holds compileMu.
func (s *store) recompileLocked(ctx context.Context, only string) {
	var stale []string
	for key, use := range s.uses {
		if use.stale(s.cmCurrent, only) {
			stale = append(stale, key)
		}
	}
	if len(stale) == 0 {
		return
	}
	sort.Strings(stale)
	for _, key := range stale {
		what, id, _ := strings.Cut(key, "/")
		switch what {
		case "api":
			if raw, ok := s.apiRaw[id]; ok {
				s.logf("ClusterImagePolicy %s: a ConfigMap it reads changed, compiling it again", id)
				s.applyLocked(ctx, raw, false)
			}
		case "file":
			i, _ := strconv.Atoi(id)
			cip := s.fileCIPs[i]
			s.logf("ClusterImagePolicy %s (--policy-file): a ConfigMap it reads changed, compiling it again", cip.Metadata.Name)
			p, err := s.compile(ctx, key, cip)
			if err != nil {
				s.logf("ClusterImagePolicy %s (--policy-file) refused; the images it names are denied until it is fixed: %v", cip.Metadata.Name, err)
			}
			s.mu.Lock()
			s.files[i] = p
			s.mu.Unlock()
		}
	}
	s.publish()
}
