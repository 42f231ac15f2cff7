// Command gendocs writes signet's command reference from the cobra tree:
//
//	go run ./hack/gendocs markdown docs/cli   (make docs)
//	go run ./hack/gendocs man bin/man          (make man; dated by SOURCE_DATE_EPOCH)
package main

import (
	"fmt"
	"os"

	"github.com/signetdev/signet/internal/clidocs"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: gendocs markdown|man DIR")
	}
	switch args[0] {
	case "markdown":
		return clidocs.Markdown(args[1])
	case "man":
		date, err := clidocs.SourceDate(os.Getenv("SOURCE_DATE_EPOCH"))
		if err != nil {
			return err
		}
		return clidocs.Man(args[1], date)
	}
	return fmt.Errorf("unknown format %q: want markdown or man", args[0])
}
