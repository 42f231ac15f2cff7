// Command local-kms serves local-kms's KMS API on 127.0.0.1:$PORT ($PORT 0
// picks a free port): the same handler and database as local-kms's own
// main, configured by the same KMS_* variables, on the loopback interface
// only. Keys are created through the API; nothing is seeded.
package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"

	kms "github.com/nsmithuk/local-kms/src"
	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
)

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func main() {
	config.AWSAccountId = getenv("KMS_ACCOUNT_ID", "111122223333")
	config.AWSRegion = getenv("KMS_REGION", "eu-west-2")
	path, err := filepath.Abs(getenv("KMS_DATA_PATH", "/tmp/local-kms"))
	if err != nil {
		log.Fatal(err)
	}
	config.DatabasePath = path
	db := data.NewDatabase(config.DatabasePath)
	defer db.Close()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", getenv("PORT", "8080")))
	if err != nil {
		log.Fatal(err)
	}
	// The line the test harness waits for, as local-kms logs it.
	fmt.Fprintf(os.Stderr, "Local KMS started on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kms.HandleRequest(w, r, db)
	})))
}
