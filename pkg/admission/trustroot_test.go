package admission

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/signetdev/signet/internal/testing/fakesigstore"
	"github.com/signetdev/signet/pkg/keys"
)

func b64PEM(certs ...*x509.Certificate) string {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return base64.StdEncoding.EncodeToString(out)
}

// sigstoreKeysYAML is a TrustRoot holding tm's CAs, logs and TSAs as
// policy-controller's spec.sigstoreKeys.
func sigstoreKeysYAML(t *testing.T, name string, tm root.TrustedMaterial) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata:\n  name: %s\nspec:\n  sigstoreKeys:\n    certificateAuthorities:\n", name)
	for _, ca := range tm.FulcioCertificateAuthorities() {
		f := ca.(*root.FulcioCertificateAuthority)
		fmt.Fprintf(&b, "    - subject: {organization: fake, commonName: fulcio}\n      uri: https://fulcio.fake\n      certChain: %s\n", b64PEM(append(append([]*x509.Certificate(nil), f.Intermediates...), f.Root)...))
	}
	for field, logs := range map[string]map[string]*root.TransparencyLog{"tLogs": tm.RekorLogs(), "ctLogs": tm.CTLogs()} {
		fmt.Fprintf(&b, "    %s:\n", field)
		for _, l := range logs {
			pub, err := keys.MarshalPublicKeyPEM(l.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "    - baseURL: https://log.fake\n      hashAlgorithm: sha-256\n      publicKey: %s\n", base64.StdEncoding.EncodeToString(pub))
		}
	}
	b.WriteString("    timestampAuthorities:\n")
	for _, ta := range tm.TimestampingAuthorities() {
		s := ta.(*root.SigstoreTimestampingAuthority)
		chain := append(append([]*x509.Certificate{s.Leaf}, s.Intermediates...), s.Root)
		fmt.Fprintf(&b, "    - subject: {organization: fake, commonName: tsa}\n      uri: https://tsa.fake\n      certChain: %s\n", b64PEM(chain...))
	}
	return b.String()
}

// withTrustRoots loads file's TrustRoots and policies into w, whose
// default trust material then trusts nothing: an image verifies only
// through the TrustRoot a policy names.
func withTrustRoots(t *testing.T, w *world, file string) {
	t.Helper()
	cips, trs, err := ParseFile([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]root.TrustedMaterial{}
	o := LoadOptions{TrustRoots: map[string]bool{}}
	for _, tr := range trs {
		c, err := CompileTrustRoot(tr)
		if err != nil {
			t.Fatal(err)
		}
		named[c.Name], o.TrustRoots[c.Name] = c.Material, true
	}
	w.e.Trust = func(_ context.Context, ref string) (root.TrustedMaterial, error) {
		if ref == "" {
			return &root.BaseTrustedMaterial{}, nil
		}
		if tm, ok := named[ref]; ok {
			return tm, nil
		}
		return nil, errors.New("no trust root " + ref)
	}
	for _, c := range cips {
		p, err := Compile(context.Background(), c, o)
		if err != nil {
			t.Fatal(err)
		}
		w.ps = append(w.ps, p)
	}
}

func withTrustRootRef(cip, ref string) string {
	return strings.Replace(cip, "      insecureIgnoreSCT: true\n", "      insecureIgnoreSCT: true\n      trustRootRef: "+ref+"\n", 1)
}

// A TrustRoot's spec.sigstoreKeys (and spec.trustedRootJSON) is the trust
// material of the policies naming it: an image signed by that instance is
// admitted; by another instance, denied; with no trustRootRef, nothing
// is trusted and it is denied.
func TestTrustRootMaterial(t *testing.T) {
	other := fakesigstore.New(t)
	for _, form := range []string{"sigstoreKeys", "trustedRootJSON"} {
		t.Run(form, func(t *testing.T) {
			w := newWorld(t)
			spec := func(name string, fs *fakesigstore.Sigstore) string {
				if form == "sigstoreKeys" {
					return sigstoreKeysYAML(t, name, fs.TrustedMaterial())
				}
				return fmt.Sprintf("apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: %s}\nspec:\n  trustedRootJSON: '%s'\n", name, fs.TrustedRootJSON(t))
			}
			file := spec("private", w.fs) + "---\n" + spec("elsewhere", other) + "---\n" +
				withTrustRootRef(keylessCIP("private", w.host+"/acme/private/**", gitlabSubject), "private") + "---\n" +
				withTrustRootRef(keylessCIP("elsewhere", w.host+"/acme/elsewhere/**", gitlabSubject), "elsewhere") + "---\n" +
				keylessCIP("default", w.host+"/acme/default/**", gitlabSubject)
			withTrustRoots(t, w, file)
			for _, repo := range []string{"private", "elsewhere", "default"} {
				img := w.image("acme/" + repo + "/app")
				w.signKeyless(img, gitlabSubject, gitlabIssuer)
				d := w.admit(img.String())
				if repo == "private" {
					if !d.Allowed {
						t.Fatalf("signed by the TrustRoot's instance: %s", d.Message)
					}
					continue
				}
				wantDenied(t, repo, d, "policy "+repo)
			}
		})
	}
}

// Fields and forms signet cannot use are refused by name.
func TestTrustRootRefused(t *testing.T) {
	head := "apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: tr}\n"
	root1 := base64.StdEncoding.EncodeToString([]byte(`{"signed":{"_type":"root","version":1},"signatures":[]}`))
	for _, tc := range []struct{ spec, want string }{
		{"spec: {sigstoreKeys: {certificateAuthorities: [], extra: 1}}", `unknown field "extra"`},
		{"spec: {repository: {root: eA==, mirrorFS: eA==}}", "spec.repository (a serialized TUF repository) is not supported"},
		{"spec: {}", "exactly one of remote, repository, sigstoreKeys or trustedRootJSON"},
		{"spec: {trustedRootJSON: '{}', remote: {root: eA==, mirror: 'https://x'}}", "exactly one of"},
		{"spec: {trustedRootJSON: 'nope'}", "spec.trustedRootJSON"},
		{"spec: {sigstoreKeys: {certificateAuthorities: [{certChain: eA==}]}}", "certificateAuthorities[0].certChain: no PEM CERTIFICATE block"},
		{"spec: {sigstoreKeys: {certificateAuthorities: [], tLogs: [{baseURL: 'https://r', hashAlgorithm: sha-512, publicKey: eA==}]}}", `tLogs[0].hashAlgorithm "sha-512"`},
		{"spec: {sigstoreKeys: {certificateAuthorities: [], ctLogs: [{baseURL: 'https://r', publicKey: eA==}]}}", "ctLogs[0].publicKey"},
		{"spec: {remote: {root: " + root1 + ", mirror: 'ftp://x'}}", `spec.remote.mirror "ftp://x"`},
		{"spec: {remote: {root: " + root1 + ", mirror: 'https://x', targets: other}}", `spec.remote.targets "other"`},
		{"spec: {remote: {root: " + root1 + ", mirror: 'https://x', trustedRootTarget: mine.json}}", `spec.remote.trustedRootTarget "mine.json"`},
		{"spec: {remote: {root: eA==, mirror: 'https://x'}}", "spec.remote.root: not a TUF root.json"},
	} {
		_, trs, err := ParseFile([]byte(head + tc.spec + "\n"))
		if err == nil {
			_, err = CompileTrustRoot(trs[0])
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "TrustRoot tr") {
			t.Errorf("%s: %v, want %q", tc.spec, err, tc.want)
		}
	}
	c, err := CompileTrustRoot(mustTrustRoot(t, head+"spec: {remote: {root: "+root1+", mirror: 'https://tuf.example/'}}\n"))
	if err != nil || c.Mirror != "https://tuf.example" || c.Material != nil || len(c.TUFRoot) == 0 {
		t.Errorf("remote: %+v %v", c, err)
	}
	if _, err := ParsePolicyFile([]byte(head + "spec: {trustedRootJSON: x}\n")); err == nil || !strings.Contains(err.Error(), "no ClusterImagePolicy") {
		t.Errorf("a file of TrustRoots only, read for policies: %v", err)
	}
}

func mustTrustRoot(t *testing.T, doc string) *TrustRoot {
	t.Helper()
	_, trs, err := ParseFile([]byte(doc))
	if err != nil || len(trs) != 1 {
		t.Fatalf("%d TrustRoots, %v", len(trs), err)
	}
	return trs[0]
}

// Without a TrustRoot of its name, a trustRootRef is refused when the
// policy is compiled, unless TrustRoots are watched (LateTrustRoots):
// then the images are denied until it exists.
func TestTrustRootRefLate(t *testing.T) {
	cips, err := ParsePolicyFile([]byte(withTrustRootRef(keylessCIP("p", "**", gitlabSubject), "later")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compile(context.Background(), cips[0], LoadOptions{}); err == nil || !strings.Contains(err.Error(), `trustRootRef "later": no such trust root`) {
		t.Errorf("unknown trustRootRef: %v", err)
	}
	w := newWorld(t)
	img := w.image("acme/app")
	w.signKeyless(img, gitlabSubject, gitlabIssuer)
	p, err := Compile(context.Background(), cips[0], LoadOptions{LateTrustRoots: true})
	if err != nil {
		t.Fatal(err)
	}
	w.ps = []*Policy{p}
	w.e.Trust = func(_ context.Context, ref string) (root.TrustedMaterial, error) {
		return nil, fmt.Errorf("trust root %q: no TrustRoot of that name", ref)
	}
	wantDenied(t, "no TrustRoot yet", w.admit(img.String()), `trust root "later": no TrustRoot of that name`)
}
