// Package version reports what signet binary this is.
package version

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"
)

// Set at link time by the Makefile (-X); empty in a plain `go build`.
var (
	gitVersion = ""
	gitCommit  = ""
	buildDate  = ""
)

// Info mirrors the fields cosign's `version` prints, so scripts that parse
// it keep working.
type Info struct {
	GitVersion   string `json:"gitVersion"`
	GitCommit    string `json:"gitCommit"`
	GitTreeState string `json:"gitTreeState"`
	BuildDate    string `json:"buildDate"`
	GoVersion    string `json:"goVersion"`
	Compiler     string `json:"compiler"`
	Platform     string `json:"platform"`
}

// Get returns the version of the running binary. Values set with -X win;
// otherwise the module and VCS data Go embeds are used.
func Get() Info {
	info := Info{
		GitVersion:   gitVersion,
		GitCommit:    gitCommit,
		GitTreeState: "unknown",
		BuildDate:    buildDate,
		GoVersion:    runtime.Version(),
		Compiler:     runtime.Compiler,
		Platform:     runtime.GOOS + "/" + runtime.GOARCH,
	}
	if strings.HasSuffix(info.GitVersion, "-dirty") {
		info.GitTreeState = "dirty"
	} else if info.GitVersion != "" {
		info.GitTreeState = "clean"
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.GitVersion == "" {
			info.GitVersion = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.GitCommit == "" {
					info.GitCommit = s.Value
				}
			case "vcs.time":
				if info.BuildDate == "" {
					info.BuildDate = s.Value
				}
			case "vcs.modified":
				if info.GitTreeState == "unknown" {
					info.GitTreeState = map[string]string{"true": "dirty", "false": "clean"}[s.Value]
				}
			}
		}
	}
	for _, p := range []*string{&info.GitVersion, &info.GitCommit, &info.BuildDate} {
		if *p == "" {
			*p = "unknown"
		}
	}
	return info
}

// String renders the info as cosign does: an aligned key/value table.
func (i Info) String() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"GitVersion:", i.GitVersion},
		{"GitCommit:", i.GitCommit},
		{"GitTreeState:", i.GitTreeState},
		{"BuildDate:", i.BuildDate},
		{"GoVersion:", i.GoVersion},
		{"Compiler:", i.Compiler},
		{"Platform:", i.Platform},
	} {
		fmt.Fprintf(w, "%s\t%s\n", kv[0], kv[1])
	}
	w.Flush()
	return b.String()
}

// JSON renders the info as indented JSON.
func (i Info) JSON() (string, error) {
	b, err := json.MarshalIndent(i, "", "  ")
	if err != nil {
		return "", err
	}
	return string(b), nil
}
