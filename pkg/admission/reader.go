package admission

import (
	"bytes"
	"strconv"

	"github.com/signetdev/signet/internal/jsonlex"
)

// readReview reads the fields of an AdmissionReview that admission uses
// in one pass over the bytes, validating the rest as it skips it.
// encoding/json walks a Pod as kube-apiserver sends it (5-10 KB of
// managedFields, env, probes…) byte by byte through its scanner, twice,
// and that was half of a cached admission's CPU. readReview answers
// (ok) only for input it reads exactly as encoding/json would: anything
// else — a key that is escaped, not ASCII or differs from a field's name
// only in case (encoding/json matches those), a field given twice
// (encoding/json merges), a string read that is escaped or not plain
// ASCII, an unexpected type, nesting past maxReaderDepth, or any JSON
// error — is left to encoding/json (ok=false). FuzzParseReview checks
// the two agree.
// With keepObject, the request's object is kept as its JSON text (a copy:
// data is a pooled buffer), as encoding/json keeps a RawMessage.
func readReview(data []byte, keepObject bool) (rv *Review, ok bool) {
	r := &reader{b: data, keep: keepObject}
	rv = &Review{}
	r.ws()
	r.object(reviewFields, func(k int) {
		switch k {
		case 0:
			rv.APIVersion = r.str()
		case 1:
			rv.Kind = r.str()
		case 2:
			rv.Request = r.request()
		case 3:
			if !r.null() {
				r.bad = true // a response in a request: left to encoding/json
			}
		}
	})
	r.ws()
	if r.bad || r.i != len(r.b) || rv.Request == nil || rv.Request.object == nil {
		return nil, false // a null object is judged as encoding/json reads it
	}
	return rv, true
}

// The fields read, in each object.
var (
	reviewFields   = []string{"apiVersion", "kind", "request", "response"}
	requestFields  = []string{"uid", "kind", "resource", "subResource", "name", "namespace", "operation", "dryRun", "object", "oldObject"}
	gvkFields      = []string{"group", "version", "kind"}
	gvrFields      = []string{"group", "version", "resource"}
	objectFields   = []string{"metadata", "spec"}
	metadataFields = []string{"deletionTimestamp", "labels"}
	// specFields: a PodSpec's image fields (0-3), then a controller's.
	specFields    = []string{"containers", "initContainers", "ephemeralContainers", "volumes", "replicas", "template", "jobTemplate"}
	podSpecFields = specFields[:4]
	onlySpec      = []string{"spec"}
	onlyTemplate  = []string{"template"}
	onlyImage     = []string{"image"}
	onlyReference = []string{"reference"}
)

// maxReaderDepth: deeper input is left to encoding/json (whose limit is
// 10000). The fields read nest only as deep as the kinds' schemas, and
// skipped values are walked without recursion (jsonlex.Skip), but the
// limit stays what FuzzParseReview has held it to.
const maxReaderDepth = 500

// reader walks JSON, setting bad at the first thing it does not read
// exactly as encoding/json would; after that every method returns at
// once.
type reader struct {
	b     []byte
	i     int
	depth int
	bad   bool
	keep  bool // keep the request's object as text
}

func (r *reader) ws() { r.i = jsonlex.SkipWS(r.b, r.i) }

func (r *reader) peek() byte {
	if r.bad || r.i >= len(r.b) {
		r.bad = true
		return 0
	}
	return r.b[r.i]
}

// null consumes a null if one is next.
func (r *reader) null() bool {
	if r.bad || !bytes.HasPrefix(r.b[r.i:], []byte("null")) {
		return false
	}
	r.i += 4
	return true
}

// object reads an object (or null: nothing), calling f with the index
// in fields of each field read, positioned at its value, which f must
// consume. Other keys' values are validated and skipped.
func (r *reader) object(fields []string, f func(k int)) {
	var seen uint64
	r.members(func(key []byte, plain bool) {
		k := -1
		for i, name := range fields {
			if string(key) == name {
				k = i
				break
			}
		}
		switch {
		case k >= 0 && plain:
			if seen&(1<<k) != 0 {
				r.bad = true // encoding/json would merge the two
				return
			}
			seen |= 1 << k
			f(k)
		case !plain:
			r.bad = true // escaped or not ASCII: might name a field
		default:
			for _, name := range fields {
				// A plain key is ASCII, so it folds to a name only if as
				// long and with the same first letter folded (both
				// ASCII: c|0x20 is a letter's lower case): most keys
				// stop at the length.
				if len(key) == len(name) && key[0]|0x20 == name[0]|0x20 && bytes.EqualFold(key, []byte(name)) {
					r.bad = true // encoding/json would take it for the field
					return
				}
			}
			r.skip()
		}
	})
}

// members reads an object (or null: nothing), calling f with each
// member's key, and whether the key is plain, positioned at its value,
// which f must consume (or set bad).
func (r *reader) members(f func(key []byte, plain bool)) {
	r.container('{', '}', func() {
		key, plain := r.rawString()
		r.ws()
		if r.peek() != ':' {
			r.bad = true
			return
		}
		r.i++
		r.ws()
		f(key, plain)
	})
}

// array reads an array (or null: nothing), calling f positioned at each
// element, which f must consume.
func (r *reader) array(f func()) { r.container('[', ']', f) }

// container reads an object or array (or null: nothing), calling item at
// each member, which must consume it.
func (r *reader) container(open, close byte, item func()) {
	if r.null() {
		return
	}
	if r.peek() != open || !r.enter() {
		r.bad = true
		return
	}
	r.i++
	r.ws()
	if r.peek() == close {
		r.i++
		r.depth--
		return
	}
	for !r.bad {
		if item(); r.bad {
			return
		}
		r.ws()
		switch r.peek() {
		case ',':
			r.i++
			r.ws()
		case close:
			r.i++
			r.depth--
			return
		default:
			r.bad = true
		}
	}
}

func (r *reader) enter() bool {
	r.depth++
	return r.depth <= maxReaderDepth
}

// rawString reads a string, returning its bytes between the quotes
// and whether they are plain: printable ASCII without escapes.
func (r *reader) rawString() (raw []byte, plain bool) {
	if r.bad {
		return nil, false
	}
	end, plain, ok := jsonlex.String(r.b, r.i)
	if !ok {
		r.bad = true
		return nil, false
	}
	raw = r.b[r.i+1 : end-1]
	r.i = end
	return raw, plain
}

// str reads a string field; null is "" (encoding/json leaves it). A
// string that is not plain is left to encoding/json.
func (r *reader) str() string {
	if r.null() {
		return ""
	}
	raw, plain := r.rawString()
	if !plain {
		r.bad = true
		return ""
	}
	return string(raw)
}

// number reads a number as JSON's grammar has it and returns its text.
func (r *reader) number() []byte {
	end, ok := jsonlex.Number(r.b, r.i)
	if !ok {
		r.bad = true
		return nil
	}
	start := r.i
	r.i = end
	return r.b[start:end]
}

// skip validates and skips any value, counting the containers open
// around it against maxReaderDepth.
func (r *reader) skip() {
	if r.bad {
		return
	}
	end, ok := jsonlex.Skip(r.b, r.i, r.depth, maxReaderDepth)
	if !ok {
		r.bad = true
		return
	}
	r.i = end
}

func (r *reader) request() *Request {
	if r.null() {
		return nil
	}
	q := &Request{}
	r.object(requestFields, func(k int) {
		switch k {
		case 0:
			q.UID = r.str()
		case 1:
			r.object(gvkFields, func(k int) { *r.gv(k, &q.Kind.Group, &q.Kind.Version, &q.Kind.Kind) = r.str() })
		case 2:
			r.object(gvrFields, func(k int) {
				*r.gv(k, &q.Resource.Group, &q.Resource.Version, &q.Resource.Resource) = r.str()
			})
		case 3:
			q.SubResource = r.str()
		case 4:
			q.Name = r.str()
		case 5:
			q.Namespace = r.str()
		case 6:
			q.Operation = r.str()
		case 7:
			switch {
			case r.null():
			case bytes.HasPrefix(r.b[r.i:], []byte("true")):
				r.i += 4
				q.DryRun = new(bool)
				*q.DryRun = true
			case bytes.HasPrefix(r.b[r.i:], []byte("false")):
				r.i += 5
				q.DryRun = new(bool)
			default:
				r.bad = true
			}
		case 8:
			start := r.i
			q.object = r.workload()
			if r.keep && !r.bad && q.object != nil {
				q.Object = bytes.Clone(r.b[start:r.i])
			}
		case 9:
			q.oldObject = r.workload()
		}
	})
	return q
}

func (r *reader) gv(k int, group, version, last *string) *string {
	switch k {
	case 0:
		return group
	case 1:
		return version
	}
	return last
}

func (r *reader) workload() *workload {
	if r.null() {
		return nil
	}
	w := &workload{}
	r.object(objectFields, func(k int) {
		if k == 0 {
			r.object(metadataFields, func(k int) {
				if k == 1 {
					w.Metadata.Labels = r.labels()
					return
				}
				if !r.null() {
					s := r.str()
					w.Metadata.DeletionTimestamp = &s
				}
			})
			return
		}
		r.object(specFields, func(k int) {
			switch k {
			case 4:
				if r.null() {
					w.Spec.Replicas = nil
					return
				}
				n, err := strconv.ParseInt(string(r.number()), 10, 64)
				if err != nil {
					r.bad = true // a fraction or exponent: encoding/json refuses it
					return
				}
				w.Spec.Replicas = &n
			case 5:
				r.template(&w.Spec.Template)
			case 6:
				r.object(onlySpec, func(int) {
					r.object(onlyTemplate, func(int) { r.template(&w.Spec.JobTemplate.Spec.Template) })
				})
			default:
				r.podSpecField(k, &w.Spec.podSpec)
			}
		})
	})
	return w
}

func (r *reader) template(t *template) {
	r.object(onlySpec, func(int) {
		r.object(podSpecFields, func(k int) { r.podSpecField(k, &t.Spec) })
	})
}

// podSpecField reads podSpecFields[k].
func (r *reader) podSpecField(k int, s *podSpec) {
	switch k {
	case 0:
		s.Containers = r.containers()
	case 1:
		s.InitContainers = r.containers()
	case 2:
		s.EphemeralContainers = r.containers()
	case 3:
		var vs []volume
		r.array(func() {
			vs = append(vs, volume{})
			v := &vs[len(vs)-1]
			r.object(onlyImage, func(int) {
				if r.null() {
					return
				}
				v.Image = &volumeImage{}
				r.object(onlyReference, func(int) { v.Image.Reference = r.str() })
			})
		})
		s.Volumes = vs
	}
}

// containers reads a list of containers; null elements are zero, as
// encoding/json leaves them.
func (r *reader) containers() []container {
	var cs []container
	r.array(func() {
		cs = append(cs, container{})
		c := &cs[len(cs)-1]
		r.object(onlyImage, func(int) { c.Image = r.str() })
	})
	return cs
}

// labels reads an object of string values, as encoding/json reads it into
// a map[string]string. A key or value that is not plain, a null value or
// a key given twice (encoding/json keeps the last) is left to
// encoding/json.
func (r *reader) labels() map[string]string {
	if r.null() {
		return nil
	}
	m := map[string]string{}
	r.members(func(key []byte, plain bool) {
		if _, dup := m[string(key)]; !plain || dup || r.peek() != '"' {
			r.bad = true
			return
		}
		m[string(key)] = r.str()
	})
	if r.bad {
		return nil
	}
	return m
}
