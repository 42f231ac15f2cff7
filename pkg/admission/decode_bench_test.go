package admission

import (
	"os"
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
