package admission

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MatchResource is one spec.match entry: the policy applies only to
// requests for this resource (and, with a selector, only to objects whose
// labels it selects).
type MatchResource struct {
	Group    string         `json:"group,omitempty"`
	Version  string         `json:"version,omitempty"`
	Resource string         `json:"resource,omitempty"`
	Selector *LabelSelector `json:"selector,omitempty"`
}

// LabelSelector is metav1.LabelSelector.
type LabelSelector struct {
	MatchLabels      map[string]string          `json:"matchLabels,omitempty"`
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is one matchExpressions entry.
type LabelSelectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// judged are the resources whose pod specs signet reads (objects.go's
// workloads), by group: a match entry naming anything else would make
// its policy silently apply to nothing.
var judged = map[string][]string{
	"":      {"pods"},
	"apps":  {"replicasets", "deployments", "statefulsets", "daemonsets"},
	"batch": {"jobs", "cronjobs"},
}

func compileMatch(ms []MatchResource) error {
	for i, m := range ms {
		if err := checkMatch(m); err != nil {
			return fmt.Errorf("spec.match[%d]: %w", i, err)
		}
	}
	return nil
}

func checkMatch(m MatchResource) error {
	if m.Resource == "" {
		return errors.New("resource is required (e.g. pods, deployments)")
	}
	if !slices.Contains(judged[m.Group], m.Resource) {
		return fmt.Errorf("resource %q in group %q is not a workload signet judges (pods; apps: replicasets, deployments, statefulsets, daemonsets; batch: jobs, cronjobs)", m.Resource, m.Group)
	}
	if m.Version == "" {
		return errors.New(`version is required (e.g. v1, or "*" for any)`)
	}
	if m.Selector == nil {
		return nil
	}
	for k := range m.Selector.MatchLabels {
		if k == "" {
			return errors.New("selector.matchLabels: an empty key")
		}
	}
	for j, r := range m.Selector.MatchExpressions {
		if r.Key == "" {
			return fmt.Errorf("selector.matchExpressions[%d]: key is required", j)
		}
		switch r.Operator {
		case "In", "NotIn":
			if len(r.Values) == 0 {
				return fmt.Errorf("selector.matchExpressions[%d]: operator %s needs values", j, r.Operator)
			}
		case "Exists", "DoesNotExist":
			if len(r.Values) > 0 {
				return fmt.Errorf("selector.matchExpressions[%d]: operator %s takes no values", j, r.Operator)
			}
		default:
			return fmt.Errorf("selector.matchExpressions[%d]: operator %q: want In, NotIn, Exists or DoesNotExist", j, r.Operator)
		}
	}
	return nil
}

// selects reports whether a policy with these match entries applies to a
// request for resource r on an object with these labels: no entries
// select everything, as in policy-controller.
func selects(ms []MatchResource, r GroupVersionResource, labels map[string]string) bool {
	if len(ms) == 0 {
		return true
	}
	for _, m := range ms {
		if m.Group == r.Group && m.Resource == r.Resource && (m.Version == r.Version || m.Version == "*") &&
			(m.Selector == nil || m.Selector.matches(labels)) {
			return true
		}
	}
	return false
}

// matches is Kubernetes' label selector: every matchLabels pair and every
// expression must hold; an empty selector selects everything.
func (s *LabelSelector) matches(labels map[string]string) bool {
	for k, v := range s.MatchLabels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, r := range s.MatchExpressions {
		v, ok := labels[r.Key]
		switch r.Operator {
		case "In":
			if !ok || !slices.Contains(r.Values, v) {
				return false
			}
		case "NotIn":
			if ok && slices.Contains(r.Values, v) {
				return false
			}
		case "Exists":
			if !ok {
				return false
			}
		case "DoesNotExist":
			if ok {
				return false
			}
		default: // refused when the policy was compiled
			return false
		}
	}
	return true
}

// describeMatch names a policy's match entries in messages.
func describeMatch(ms []MatchResource) string {
	var parts []string
	for _, m := range ms {
		if m.Group == "" {
			parts = append(parts, m.Version+"/"+m.Resource)
		} else {
			parts = append(parts, m.Group+"/"+m.Version+"/"+m.Resource)
		}
	}
	return strings.Join(parts, ", ")
}
