package localstack

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
)

// Loopback ports. Only the TSA is on 2112: its metrics listener is
// hard-wired there and it exits if the port is taken. Rekor v1 also tries
// :2112 for metrics but ignores failure, so the TSA is always started first.
const (
	PortOIDC           = 8080
	PortFulcio         = 5555
	PortFulcioGRPC     = 5554
	PortFulcioMetrics  = 2113
	PortRekorV2        = 3003
	PortRekorV2GRPC    = 3001
	PortRekorV2Metrics = 2114
	PortTSA            = 3004
	PortTSAMetrics     = 2112
	PortRegistry       = 5000
	PortMariaDB        = 3307 // not 3306, so a system MySQL/MariaDB can coexist
	PortTrillianRPC    = 8090
	PortTrillianHTTP   = 8091
	PortSignerRPC      = 8190
	PortSignerHTTP     = 8191
	PortRekorV1        = 3000
	PortCTLog          = 6962
	PortCTLogMetrics   = 6963
)

const loopback = "127.0.0.1"

func hostPort(port int) string { return fmt.Sprintf("%s:%d", loopback, port) }

func httpURL(port int) string { return "http://" + hostPort(port) }

// portFree reports whether port can be bound on loopback (which fails too
// when something holds the port on all interfaces).
func portFree(port int) error {
	ln, err := net.Listen("tcp", hostPort(port))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("port %d is already in use%s", port, holder(port))
		}
		return fmt.Errorf("port %d: %w", port, err)
	}
	return ln.Close()
}

// holder names the listener on port, from ss, when it can.
func holder(port int) string {
	out, err := exec.Command("ss", "-Hltnp", fmt.Sprintf("sport = :%d", port)).Output()
	if err != nil || len(strings.TrimSpace(string(out))) == 0 {
		return ""
	}
	return " (" + strings.Join(strings.Fields(string(out)), " ") + ")"
}
