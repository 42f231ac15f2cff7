package trustspec

import (
	"strings"
	"testing"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
)

func TestKV(t *testing.T) {
	kv, err := KV(" url = https://x , api-version=1")
	if err != nil || kv["url"] != "https://x" || kv["api-version"] != "1" {
		t.Fatalf("%v %v", kv, err)
	}
	for _, bad := range []string{"url", "url=a,url=b", "a=1,"} {
		if _, err := KV(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestSelector(t *testing.T) {
	for in, want := range map[string]prototrustroot.ServiceSelector{"ANY": prototrustroot.ServiceSelector_ANY, "all": prototrustroot.ServiceSelector_ALL, "EXACT:2": prototrustroot.ServiceSelector_EXACT} {
		got, err := Selector(in)
		if err != nil || got.Selector != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "ANY:1", "EXACT", "EXACT:0", "EXACT:x", "SOME"} {
		if _, err := Selector(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestService(t *testing.T) {
	s, err := Service("url=https://r,api-version=2,start-time=2024-01-01T00:00:00Z,end-time=2025-01-01T00:00:00Z,operator=o")
	if err != nil || s.MajorAPIVersion != 2 || s.ValidityPeriodEnd.Year() != 2025 {
		t.Fatalf("%+v %v", s, err)
	}
	if _, err := Service("url=https://r,api-version=-1,start-time=2024-01-01T00:00:00Z,operator=o"); err == nil || !strings.Contains(err.Error(), "api-version") {
		t.Errorf("negative api-version: %v", err)
	}
}
