package admission

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ContainerImage is one image reference of a workload.
type ContainerImage struct {
	// Path names the field in messages, as policy-controller does:
	// spec.containers[0].image.
	Path string
	// Pointer is the field's JSON pointer, for patches.
	Pointer string
	Image   string
}

// podSpec holds the fields of a PodSpec that name images.
type podSpec struct {
	Containers          []container `json:"containers"`
	InitContainers      []container `json:"initContainers"`
	EphemeralContainers []container `json:"ephemeralContainers"`
	Volumes             []volume    `json:"volumes"`
}

type volume struct {
	Image *volumeImage `json:"image"`
}

type volumeImage struct {
	Reference string `json:"reference"`
}

type container struct {
	Image string `json:"image"`
}

type meta struct {
	DeletionTimestamp *string           `json:"deletionTimestamp"`
	Labels            map[string]string `json:"labels"`
}

// Workload is what a request asks to run: its images, and what a
// policy's spec.match selects on (the request's resource, the object's
// labels).
type Workload struct {
	Resource GroupVersionResource
	Labels   map[string]string
	Images   []ContainerImage
	// Object is the request's object, for a spec.policy that includes
	// its spec, metadata or type (kept only when such a policy exists:
	// DecodeReview's keepObject).
	Object []byte
}

// workload holds the image fields of every kind judged: a Pod's spec,
// a controller's pod template and a CronJob's job template.
type workload struct {
	Metadata meta `json:"metadata"`
	Spec     struct {
		podSpec
		controllerSpec
	} `json:"spec"`
}

type podObject struct {
	Metadata meta    `json:"metadata"`
	Spec     podSpec `json:"spec"`
}

type template struct {
	Spec podSpec `json:"spec"`
}

type controllerSpec struct {
	Replicas    *int64   `json:"replicas"`
	Template    template `json:"template"`
	JobTemplate struct {
		Spec struct {
			Template template `json:"template"`
		} `json:"spec"`
	} `json:"jobTemplate"`
}

type workloadObject struct {
	Metadata meta           `json:"metadata"`
	Spec     controllerSpec `json:"spec"`
}

// pick returns the pod spec, metadata and replicas of a kind.
func (w *workload) pick(key string) (podSpec, meta, *int64) {
	switch key {
	case "/Pod":
		return w.Spec.podSpec, w.Metadata, nil
	case "batch/CronJob":
		return w.Spec.JobTemplate.Spec.Template.Spec, w.Metadata, nil
	}
	return w.Spec.Template.Spec, w.Metadata, w.Spec.Replicas
}

// workloads maps a kind (group/Kind) to where its pod spec is.
var workloads = map[string]string{
	"/Pod":             "spec",
	"apps/ReplicaSet":  "spec.template.spec",
	"apps/Deployment":  "spec.template.spec",
	"apps/StatefulSet": "spec.template.spec",
	"apps/DaemonSet":   "spec.template.spec",
	"batch/Job":        "spec.template.spec",
	"batch/CronJob":    "spec.jobTemplate.spec.template.spec",
}

// specPointers are the JSON pointers of workloads' pod specs.
var specPointers = map[string]string{
	"spec":                                "/spec",
	"spec.template.spec":                  "/spec/template/spec",
	"spec.jobTemplate.spec.template.spec": "/spec/jobTemplate/spec/template/spec",
}

// ReadWorkload returns what a request must be judged on, or skip=true
// when policy-controller does not judge it: deletes and connects, status
// and other subresources (except a Pod's ephemeral containers), objects
// being deleted, scale-downs that change no image, and kinds that run no
// containers.
func ReadWorkload(req *Request) (w Workload, skip bool, err error) {
	if req.Operation != "CREATE" && req.Operation != "UPDATE" {
		return w, true, nil
	}
	key := req.Kind.Group + "/" + req.Kind.Kind
	at, ok := workloads[key]
	if !ok {
		return w, true, nil
	}
	if req.SubResource != "" && !(key == "/Pod" && req.SubResource == "ephemeralcontainers") {
		return w, true, nil
	}
	if req.object == nil && len(req.Object) == 0 {
		return w, false, fmt.Errorf("%s %s/%s: the request has no object", req.Kind.Kind, req.Namespace, req.Name)
	}
	spec, m, replicas, err := decodeWorkload(req.object, req.Object, key)
	if err != nil {
		return w, false, fmt.Errorf("%s %s/%s: %w", req.Kind.Kind, req.Namespace, req.Name, err)
	}
	if m.DeletionTimestamp != nil {
		return w, true, nil
	}
	w = Workload{Resource: req.Resource, Labels: m.Labels, Images: spec.images(at), Object: req.Object}
	if w.Resource.Resource == "" {
		// The API server always names the resource; a hand-made review
		// may not. Every judged kind's resource is its plural.
		w.Resource = GroupVersionResource{Group: req.Kind.Group, Version: req.Kind.Version, Resource: strings.ToLower(req.Kind.Kind) + "s"}
	}
	if req.Operation == "UPDATE" && replicas != nil && (req.oldObject != nil || len(req.OldObject) > 0) {
		oldSpec, _, oldReplicas, err := decodeWorkload(req.oldObject, req.OldObject, key)
		// A scale-down that also changes an image is judged: otherwise it
		// would be a way around the policy.
		if err == nil && oldReplicas != nil && *replicas < *oldReplicas && sameImages(w.Images, oldSpec.images(at)) {
			return Workload{}, true, nil
		}
	}
	return w, false, nil
}

// decodeWorkload returns what ParseReview decoded, or decodes raw.
func decodeWorkload(decoded *workload, raw json.RawMessage, key string) (podSpec, meta, *int64, error) {
	if decoded != nil {
		spec, m, replicas := decoded.pick(key)
		return spec, m, replicas, nil
	}
	if key == "/Pod" {
		var p podObject
		if err := json.Unmarshal(raw, &p); err != nil {
			return podSpec{}, meta{}, nil, fmt.Errorf("decoding the object: %w", err)
		}
		return p.Spec, p.Metadata, nil, nil
	}
	var w workloadObject
	if err := json.Unmarshal(raw, &w); err != nil {
		return podSpec{}, meta{}, nil, fmt.Errorf("decoding the object: %w", err)
	}
	if key == "batch/CronJob" {
		return w.Spec.JobTemplate.Spec.Template.Spec, w.Metadata, nil, nil
	}
	return w.Spec.Template.Spec, w.Metadata, w.Spec.Replicas, nil
}

func (s podSpec) images(at string) []ContainerImage {
	ptr := specPointers[at] // every workloads path has one
	var out []ContainerImage
	add := func(field string, cs []container) {
		for i, c := range cs {
			n := strconv.Itoa(i) // concatenation, not Sprintf: once per container per admission
			out = append(out, ContainerImage{
				Path:    at + "." + field + "[" + n + "].image",
				Pointer: ptr + "/" + field + "/" + n + "/image",
				Image:   c.Image,
			})
		}
	}
	add("initContainers", s.InitContainers)
	add("containers", s.Containers)
	add("ephemeralContainers", s.EphemeralContainers)
	for i, v := range s.Volumes {
		if v.Image != nil && v.Image.Reference != "" {
			out = append(out, ContainerImage{
				Path:    fmt.Sprintf("%s.volumes[%d].image.reference", at, i),
				Pointer: fmt.Sprintf("%s/volumes/%d/image/reference", ptr, i),
				Image:   v.Image.Reference,
			})
		}
	}
	return out
}

func sameImages(a, b []ContainerImage) bool {
	return slices.EqualFunc(a, b, func(x, y ContainerImage) bool { return x == y })
}
