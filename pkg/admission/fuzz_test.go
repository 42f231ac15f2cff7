package admission

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzParseReview: an AdmissionReview from the network never panics, and
// the images of whatever object it carries can be extracted or refused.
func FuzzParseReview(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod","version":"v1"},"operation":"CREATE","object":{"spec":{"containers":[{"image":"a"}],"volumes":[{"image":{"reference":"v"}}]}}}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"batch","kind":"CronJob","version":"v1"},"operation":"UPDATE","object":{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"image":"a"}]}}}}}},"oldObject":{}}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"apps","kind":"Deployment","version":"v1"},"operation":"UPDATE","object":{"spec":{"replicas":1,"template":{"spec":{"containers":[{"image":"a"}]}}}},"oldObject":{"spec":{"replicas":3,"template":{"spec":{"containers":[{"image":"a"}]}}}}}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"apps","kind":"Deployment","version":"v1"},"resource":{"group":"apps","version":"v1","resource":"deployments"},"operation":"CREATE","object":{"metadata":{"labels":{"team":"a","tier":"web"}},"spec":{"template":{"spec":{"containers":[{"image":"a"}]}}}}}}`))
	if pod, err := os.ReadFile("testdata/review-pod.json"); err == nil {
		f.Add(pod)
	}
	for _, s := range readReviewSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rv, err := ParseReview(data)
		if err != nil {
			return
		}
		w, skip, err := ReadWorkload(rv.Request)
		imgs := w.Images
		if err == nil && skip && len(imgs) > 0 {
			t.Fatal("skipped with images")
		}
		for _, i := range imgs {
			if !strings.HasPrefix(i.Pointer, "/spec/") {
				t.Fatalf("pointer %q", i.Pointer)
			}
		}
		// ParseReview decodes the object in the same pass; the object
		// kept raw and decoded for its kind alone must say the same.
		var raw Review
		if json.Unmarshal(data, &raw) != nil || raw.Request == nil {
			t.Fatal("ParseReview accepted what encoding/json refuses")
		}
		rw, rawSkip, rawErr := ReadWorkload(raw.Request)
		if (err == nil) != (rawErr == nil) || skip != rawSkip || !slices.Equal(imgs, rw.Images) || !maps.Equal(w.Labels, rw.Labels) ||
			string(w.Object) != string(rw.Object) {
			t.Fatalf("one pass: %v %v %v %s; raw: %v %v %v %s", imgs, skip, err, w.Object, rw.Images, rawSkip, rawErr, rw.Object)
		}
		// What readReview answers, encoding/json must read the same way.
		if rr, ok := readReview(data, true); ok {
			got, want := *rr.Request, *raw.Request
			if string(got.Object) != string(want.Object) {
				t.Fatalf("readReview kept object %s; encoding/json %s", got.Object, want.Object)
			}
			got.object, got.oldObject, got.Object, want.Object, want.OldObject = nil, nil, nil, nil, nil
			if rr.APIVersion != raw.APIVersion || rr.Kind != raw.Kind || !reflect.DeepEqual(got, want) {
				t.Fatalf("readReview: %s %s %+v; encoding/json: %s %s %+v", rr.APIVersion, rr.Kind, got, raw.APIVersion, raw.Kind, want)
			}
		}
	})
}

// readReviewSeeds are reviews at the edges of what readReview reads
// itself and what it leaves to encoding/json.
var readReviewSeeds = []string{
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod","version":"v1"},"operation":"CREATE","object":{"spec":{"containers":[{"image":"a"},null,{"name":"x"}]}}}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod","version":"v1"},"operation":"CREATE","object":{"spec":{"containers":[{"Image":"b"}]}}}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod","version":"v1"},"operation":"CREATE","object":{"spec":{"containers":[{"image":"a","image":"b"}]}}}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod","version":"v1"},"operation":"CREATE","object":{"spec":{"containers":[{"\u0069mage":"b"}]}}}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod","version":"v1"},"operation":"CREATE","object":{"spec":{"containers":[{"image":"caf\u00e9"}]},"metadata":{"labels":{"k:{\"x\"}":"é"}}}}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"apps","kind":"Deployment","version":"v1"},"operation":"UPDATE","dryRun":true,"object":{"spec":{"replicas":1e0,"template":{"spec":{"containers":[{"image":"a"}]}}}},"oldObject":{"spec":{"replicas":-0,"template":null}}}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod","version":"v1"},"operation":"CREATE","object":{"metadata":{"deletionTimestamp":""},"spec":{"volumes":[null,{"image":null},{"image":{"reference":"r"}}]}}}} `,
	` {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod"},"operation":"CREATE","object":{"spec":{"containers":[{"image":"a"}]}}},"Request":{}}`,
	`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod"},"operation":"CREATE","object":{"spec":{"containers":[{"image":"a"}],"x":[1,-2.5e+3,true,false,null,{"a":[]}]}}}}x`,
}

// FuzzParsePolicy: a ClusterImagePolicy from a file or the API server is
// compiled or refused, never a panic.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"policy.sigstore.dev/v1beta1","kind":"ClusterImagePolicy","metadata":{"name":"p","annotations":{"signet.sigstore.dev/identity-extensions":"{\"a\":{\"source-repository-ref\":\"refs/heads/main\"}}"}},"spec":{"images":[{"glob":"ghcr.io/**"}],"authorities":[{"name":"a","keyless":{"identities":[{"issuer":"https://i","subjectRegExp":"^x$"}]},"attestations":[{"name":"p","predicateType":"slsaprovenance"}]}]}}`))
	f.Add([]byte("apiVersion: policy.sigstore.dev/v1alpha1\nkind: ClusterImagePolicy\nmetadata: {name: s}\nspec: {images: [{glob: '*'}], authorities: [{static: {action: fail, message: no}}], mode: warn}\n"))
	f.Add([]byte(`{"apiVersion":"policy.sigstore.dev/v1beta1","kind":"ClusterImagePolicy","metadata":{"name":"k"},"spec":{"images":[{"glob":"**"}],"authorities":[{"key":{"data":"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"},"ctlog":{"url":"https://rekor"},"source":[{"oci":"ghcr.io/sigs"}]}]}}`))
	f.Add([]byte("apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: c}\nspec: {images: [{glob: '**'}], authorities: [{static: {action: pass}}], policy: {type: cue, configMapRef: {name: policies, namespace: ns, key: p}}}\n"))
	// ConfigMaps are read: configMapRef's checks run on what the fuzzer
	// writes.
	o := LoadOptions{SystemNamespace: "ns", ConfigMap: func(context.Context, string, string) (map[string]string, error) {
		return map[string]string{"p": "x", "blank": " "}, nil
	}}
	f.Fuzz(func(t *testing.T, data []byte) {
		cips, err := ParsePolicyFile(data)
		if err != nil {
			return
		}
		for _, c := range cips {
			p, err := Compile(context.Background(), c, o)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "ClusterImagePolicy ") {
					t.Fatalf("error does not name the policy: %v", err)
				}
				p = Refused(c, err)
			}
			p.Matches("ghcr.io/acme/app@sha256:" + strings.Repeat("a", 64))
		}
	})
}

// FuzzParseTrustRoot: a TrustRoot from a file or the API server is
// compiled into trust material or refused naming it, never a panic.
func FuzzParseTrustRoot(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"policy.sigstore.dev/v1alpha1","kind":"TrustRoot","metadata":{"name":"k"},"spec":{"sigstoreKeys":{"certificateAuthorities":[{"subject":{"organization":"o","commonName":"c"},"uri":"https://fulcio","certChain":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="}],"tLogs":[{"baseURL":"https://rekor","hashAlgorithm":"sha-256","publicKey":"LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJemowREFRY0RRZ0FFCi0tLS0tRU5EIFBVQkxJQyBLRVktLS0tLQo="}]}}}`))
	f.Add([]byte("apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: r}\nspec: {remote: {root: eyJzaWduZWQiOnsiX3R5cGUiOiJyb290IiwidmVyc2lvbiI6MX19, mirror: 'https://tuf.example'}}\n"))
	f.Add([]byte("apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: j}\nspec: {trustedRootJSON: '{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\"}'}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, trs, err := ParseFile(data)
		if err != nil {
			return
		}
		for _, tr := range trs {
			c, err := CompileTrustRoot(tr)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "TrustRoot ") {
					t.Fatalf("error does not name the TrustRoot: %v", err)
				}
				continue
			}
			if (c.Material == nil) == (c.Mirror == "") {
				t.Fatalf("compiled to neither or both material and a mirror: %+v", c)
			}
		}
	})
}
