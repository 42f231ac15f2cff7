// Package admission decides Kubernetes admission requests for container
// images against policy-controller's ClusterImagePolicy: the
// AdmissionReview wire types, the images of a workload, the policies and
// their evaluation. Signatures are verified by pkg/imagesig and
// pkg/verifier, the same path as `signet verify`; this package adds only
// what admission needs on top (policies, globs, caching, messages).
package admission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// The AdmissionReview wire types of admission.k8s.io/v1, written by hand:
// signet depends on no Kubernetes library. Only the fields a webhook
// reads or writes are declared; the rest of a request is ignored.
const (
	ReviewAPIVersion = "admission.k8s.io/v1"
	ReviewKind       = "AdmissionReview"
)

// Review is an AdmissionReview.
type Review struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Request    *Request  `json:"request,omitempty"`
	Response   *Response `json:"response,omitempty"`
}

// GroupVersionKind names an object's type.
type GroupVersionKind struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
}

// GroupVersionResource names a resource.
type GroupVersionResource struct {
	Group    string `json:"group"`
	Version  string `json:"version"`
	Resource string `json:"resource"`
}

// Request is what the API server asks.
type Request struct {
	UID         string               `json:"uid"`
	Kind        GroupVersionKind     `json:"kind"`
	Resource    GroupVersionResource `json:"resource"`
	SubResource string               `json:"subResource,omitempty"`
	Name        string               `json:"name,omitempty"`
	Namespace   string               `json:"namespace,omitempty"`
	Operation   string               `json:"operation"`
	Object      json.RawMessage      `json:"object,omitempty"`
	OldObject   json.RawMessage      `json:"oldObject,omitempty"`
	DryRun      *bool                `json:"dryRun,omitempty"`

	// object and oldObject are Object and OldObject as ParseReview
	// decoded them in its one pass (nil: Images decodes Object).
	object, oldObject *workload
}

// Response is the webhook's answer.
type Response struct {
	UID       string   `json:"uid"`
	Allowed   bool     `json:"allowed"`
	Result    *Status  `json:"status,omitempty"`
	Patch     []byte   `json:"patch,omitempty"` // base64 in JSON, as the API expects
	PatchType string   `json:"patchType,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
}

// Status is the metav1.Status of a denial.
type Status struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Code    int32  `json:"code,omitempty"`
}

// MaxReviewSize bounds a request body. The API server caps objects at
// 3 MiB in etcd; a review carries the object and the old one.
const MaxReviewSize = 8 << 20

// ErrReviewTooLarge: the body exceeds MaxReviewSize.
var ErrReviewTooLarge = errors.New("admission review exceeds the size limit")

// DecodeReview reads an AdmissionReview v1 request, at most limit bytes.
// keepObject keeps the request's object as JSON text (Request.Object),
// which only a spec.policy that includes the object needs: a copy of
// every object costs a cached admission an allocation of its size.
func DecodeReview(r io.Reader, limit int64, keepObject bool) (*Review, error) {
	buf := reviewBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledReview {
			reviewBuffers.Put(buf)
		}
	}()
	buf.Reset()
	// ParseReview copies what it keeps, so the buffer is reused: reading
	// a review into a fresh one cost several allocations as it grew.
	if _, err := buf.ReadFrom(io.LimitReader(r, limit+1)); err != nil {
		return nil, fmt.Errorf("reading the admission review: %w", err)
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%w of %d bytes", ErrReviewTooLarge, limit)
	}
	return parseReview(buf.Bytes(), keepObject)
}

var reviewBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledReview: a buffer that grew past it (a rare large object) is
// left to the collector rather than held.
const maxPooledReview = 1 << 20

// ParseReview parses an AdmissionReview v1 request, keeping its object.
func ParseReview(data []byte) (*Review, error) { return parseReview(data, true) }

func parseReview(data []byte, keepObject bool) (*Review, error) {
	if rv, ok := readReview(data, keepObject); ok {
		return checkReview(rv)
	}
	// One pass decodes the review and the fields of the object that name
	// images: encoding/json walks the bytes once to validate them and
	// once to decode, and a RawMessage object decoded later costs two
	// more walks over most of the bytes (a Pod as the API server sends
	// it is 5-10 KB of managedFields, env, probes…).
	var w reviewWire
	rv := &Review{}
	if err := json.Unmarshal(data, &w); err == nil && w.Request != nil && w.Request.Object != nil {
		rv.APIVersion, rv.Kind, rv.Request = w.APIVersion, w.Kind, &w.Request.Request
		rv.Request.object, rv.Request.oldObject = w.Request.Object, w.Request.OldObject
		if keepObject {
			// requestWire's Object hides Request's: the text takes its
			// own pass (this path is the rare one).
			var raw struct {
				Request struct {
					Object json.RawMessage `json:"object"`
				} `json:"request"`
			}
			if err := json.Unmarshal(data, &raw); err == nil {
				rv.Request.Object = raw.Request.Object
			}
		}
	} else if err := json.Unmarshal(data, rv); err != nil {
		// Anything the one pass refuses (a type it does not expect in a
		// kind it does not judge, a null object) is read as before: the
		// object kept raw, decoded by Images for its kind alone.
		return nil, fmt.Errorf("parsing the admission review: %w", err)
	}
	return checkReview(rv)
}

func checkReview(rv *Review) (*Review, error) {
	if rv.APIVersion != ReviewAPIVersion || rv.Kind != ReviewKind {
		return nil, fmt.Errorf("parsing the admission review: got %s %q, want %s %s", rv.APIVersion, rv.Kind, ReviewAPIVersion, ReviewKind)
	}
	if rv.Request == nil {
		return nil, errors.New("parsing the admission review: no request")
	}
	if rv.Request.UID == "" {
		return nil, errors.New("parsing the admission review: request has no uid")
	}
	return rv, nil
}

// reviewWire is a Review whose objects are decoded in the same pass.
type reviewWire struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Request    *requestWire `json:"request"`
}

// requestWire's Object and OldObject, shallower than Request's, are
// the ones encoding/json fills.
type requestWire struct {
	Request
	Object    *workload `json:"object"`
	OldObject *workload `json:"oldObject"`
}

// Answer wraps a response in a review for the request's uid.
func Answer(req *Request, resp Response) Review {
	resp.UID = req.UID
	return Review{APIVersion: ReviewAPIVersion, Kind: ReviewKind, Response: &resp}
}

// Allow admits, with warnings if any.
func Allow(warnings []string) Response {
	return Response{Allowed: true, Warnings: warnings}
}

// Deny refuses with a message the API server shows the user.
func Deny(msg string, warnings []string) Response {
	return Response{Allowed: false, Warnings: warnings, Result: &Status{Status: "Failure", Message: msg, Reason: "Forbidden", Code: 403}}
}
