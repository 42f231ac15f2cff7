package admission

import (
	"encoding/json"
	"os"
	"slices"
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
		rv, err := ParseReview(data)
		if err != nil {
			b.Fatal(err)
		}
		imgs, skip, err := Images(rv.Request)
		if err != nil || skip || len(imgs) != 3 {
			b.Fatalf("%v %v %d", err, skip, len(imgs))
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
	rv, ok := readReview(data)
	if !ok {
		t.Fatal("readReview left the API server's review to encoding/json")
	}
	var raw Review
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	got, _, err := Images(rv.Request)
	want, _, err2 := Images(raw.Request)
	if err != nil || err2 != nil || len(got) != 3 || !slices.Equal(got, want) {
		t.Fatalf("got %v (%v), want %v (%v)", got, err, want, err2)
	}
}

// Each seed is either read by readReview or left to encoding/json as
// expected.
func TestReadReviewLeavesDoubtToEncodingJSON(t *testing.T) {
	want := []bool{true, false, false, false, false, false, true, false, false}
	for i, s := range readReviewSeeds {
		if _, ok := readReview([]byte(s)); ok != want[i] {
			t.Errorf("seed %d: readReview ok=%v, want %v", i, ok, want[i])
		}
	}
}
