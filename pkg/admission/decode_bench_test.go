package admission

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// BenchmarkDecodePodReview: the CPU an admission spends reading what
// the API server sends, a Pod of three containers as kube-apiserver
// posts it (managedFields, userInfo, options: testdata/review-pod.json,
// written for this benchmark after the API's field set).
func BenchmarkDecodePodReview(b *testing.B) {
	data, err := os.ReadFile("testdata/review-pod.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rv, err := parseReview(data, false) // as serve, with no policy that includes the object
		if err != nil {
			b.Fatal(err)
		}
		w, skip, err := ReadWorkload(rv.Request)
		if err != nil || skip || len(w.Images) != 3 {
			b.Fatalf("%v %v %d", err, skip, len(w.Images))
		}
	}
}

// A review as kube-apiserver sends it is read by readReview, not left to
// encoding/json, and to the same images.
func TestReadReviewReadsAPIServerReview(t *testing.T) {
	data, err := os.ReadFile("testdata/review-pod.json")
	if err != nil {
		t.Fatal(err)
	}
	rv, ok := readReview(data, true)
	if !ok {
		t.Fatal("readReview left the API server's review to encoding/json")
	}
	var raw Review
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	got, _, err := ReadWorkload(rv.Request)
	want, _, err2 := ReadWorkload(raw.Request)
	if err != nil || err2 != nil || len(got.Images) != 3 || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v (%v), want %+v (%v)", got, err, want, err2)
	}
	if len(got.Labels) == 0 {
		t.Error("the review's labels were not read")
	}
}

// Each seed is either read by readReview or left to encoding/json as
// expected.
func TestReadReviewLeavesDoubtToEncodingJSON(t *testing.T) {
	want := []bool{true, false, false, false, false, false, true, false, false}
	for i, s := range readReviewSeeds {
		if _, ok := readReview([]byte(s), false); ok != want[i] {
			t.Errorf("seed %d: readReview ok=%v, want %v", i, ok, want[i])
		}
	}
}

// TestReadReviewLabels: the object's labels (spec.match selectors) are
// read as encoding/json reads them, and what it might read otherwise is
// left to it.
func TestReadReviewLabels(t *testing.T) {
	review := func(labels string) []byte {
		return []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod","version":"v1"},"operation":"CREATE","object":{"metadata":{"labels":` + labels + `},"spec":{"containers":[{"image":"a"}]}}}}`)
	}
	for _, tc := range []struct {
		labels string
		read   bool
	}{
		{`{"team":"a","app.kubernetes.io/name":"x"}`, true},
		{`{}`, true},
		{`null`, true},
		{`{"te\u0061m":"a"}`, false},
		{`{"team":"a","team":"b"}`, false},
		{`{"team":null}`, false},
		{`{"team":1}`, false},
	} {
		data := review(tc.labels)
		rv, ok := readReview(data, true)
		if ok != tc.read {
			t.Errorf("%s: read %v, want %v", tc.labels, ok, tc.read)
		}
		var raw Review
		jerr := json.Unmarshal(data, &raw)
		if !ok {
			continue
		}
		if jerr != nil {
			t.Fatalf("%s: read what encoding/json refuses: %v", tc.labels, jerr)
		}
		got, _, _ := ReadWorkload(rv.Request)
		want, _, _ := ReadWorkload(raw.Request)
		if !reflect.DeepEqual(got.Labels, want.Labels) || string(got.Object) != string(want.Object) {
			t.Errorf("%s: labels %v object %s; encoding/json %v %s", tc.labels, got.Labels, got.Object, want.Labels, want.Object)
		}
	}
}
