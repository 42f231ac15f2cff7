package imagesig

import (
	"encoding/json"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const probeDigest = "sha256:a68e3811c36f3647c1307509e4ad1c1bfd48bb96f5c3613460361f17de5088b1"

// TestSimpleSigningBytes: the payload is byte for byte what cosign v3
// stored for the same image (read back from a registry on the local
// stack), with and without annotations.
func TestSimpleSigningBytes(t *testing.T) {
	h, _ := v1.NewHash(probeDigest)
	for _, tc := range []struct {
		ann  map[string]string
		want string
	}{
		{map[string]string{"foo": "bar"}, `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/probe/app"},"image":{"docker-manifest-digest":"` + probeDigest + `"},"type":"cosign container image signature"},"optional":{"foo":"bar"}}`},
		{nil, `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/probe/app"},"image":{"docker-manifest-digest":"` + probeDigest + `"},"type":"cosign container image signature"},"optional":null}`},
	} {
		got, err := NewSimpleSigning("127.0.0.1:5000/probe/app", h, tc.ann)
		if err != nil || string(got) != tc.want {
			t.Errorf("got %s (%v)\nwant %s", got, err, tc.want)
		}
		p, err := ParseSimpleSigning(got)
		if err != nil || p.Critical.Image.DockerManifestDigest != probeDigest {
			t.Errorf("round trip: %+v, %v", p, err)
		}
	}
}

func TestParseSimpleSigningRejects(t *testing.T) {
	for _, bad := range []string{
		``, `null`, `[]`, `{"critical":{}}`,
		`{"critical":{"image":{"docker-manifest-digest":"sha256:00"},"type":"something else"}}`,
		`{"critical":{"type":"cosign container image signature"}}`,
	} {
		if _, err := ParseSimpleSigning([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestSignStatement: the shape cosign v3 signs (probe on the local stack):
// the digest as the only subject, no name, annotations always present,
// the sign predicate type, an empty predicate.
func TestSignStatement(t *testing.T) {
	h, _ := v1.NewHash(probeDigest)
	for _, ann := range []map[string]string{nil, {"env": "prod"}} {
		b, err := NewSignStatement(h, ann)
		if err != nil {
			t.Fatal(err)
		}
		var st map[string]any
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		subj := st["subject"].([]any)[0].(map[string]any)
		if st["_type"] != "https://in-toto.io/Statement/v1" || st["predicateType"] != SignPredicateType ||
			len(st["predicate"].(map[string]any)) != 0 || subj["name"] != nil ||
			subj["digest"].(map[string]any)["sha256"] != probeDigest[len("sha256:"):] {
			t.Errorf("statement %s", b)
		}
		if got := subj["annotations"].(map[string]any); len(got) != len(ann) || (ann != nil && got["env"] != "prod") {
			t.Errorf("annotations %v, want %v", got, ann)
		}
	}
}

func FuzzParseSimpleSigning(f *testing.F) {
	h, _ := v1.NewHash(probeDigest)
	seed, _ := NewSimpleSigning("r/x", h, map[string]string{"a": "b"})
	f.Add(seed)
	f.Add([]byte(`{"critical":{"type":"cosign container image signature","image":{"docker-manifest-digest":"x"}},"optional":[1]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseSimpleSigning(data)
		if err == nil && (p.Critical.Type != SimpleSigningType || p.Critical.Image.DockerManifestDigest == "") {
			t.Fatalf("accepted %q as %+v", data, p)
		}
	})
}
