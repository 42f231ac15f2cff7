package progress

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/signetdev/signet/internal/iostreams"
)

// Transfer returns a channel for go-containerregistry's
// remote.WithProgress and a function to call once the write has
// returned; it draws a bytes bar once the write's total reaches MinBytes.
// The channel is nil (no option to add) when no bar may be drawn.
func Transfer(ios *iostreams.IOStreams, jsonOutput bool, what string) (chan v1.Update, func()) {
	if !Enabled(ios, jsonOutput) {
		return nil, func() {}
	}
	updates := make(chan v1.Update)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var bar *Bar
		var seen int64
		defer func() { bar.Finish() }()
		for {
			select {
			case u, ok := <-updates:
				if !ok {
					return
				}
				if bar == nil && u.Total >= MinBytes {
					bar = Bytes(ios, jsonOutput, u.Total, what)
				}
				if bar != nil {
					bar.pb.ChangeMax64(u.Total)
					bar.Add(int(u.Complete - seen))
				}
				seen = u.Complete
			case <-stop:
				// The write returned without closing the channel (it
				// failed before starting).
				return
			}
		}
	}()
	return updates, func() {
		close(stop)
		<-done
	}
}
