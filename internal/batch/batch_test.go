package batch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
)

func TestOneCauseSaidOnce(t *testing.T) {
	cause := errors.New(`recording the signature in Rekor at http://127.0.0.1:9: context deadline exceeded`)
	var fails []Failure
	for i := 1; i <= 200; i++ {
		fails = append(fails, Failure{Name: fmt.Sprintf("f%d.txt", i), Err: cause})
	}
	err := New("files", 200, fails)
	want := "200 of 200 files failed: recording the signature in Rekor at http://127.0.0.1:9: context deadline exceeded (f1.txt, f10.txt, f100.txt and 197 more)"
	if err.Error() != want {
		t.Fatalf("got  %s\nwant %s", err, want)
	}
}

func TestCausesMostFrequentFirst(t *testing.T) {
	rekor := errors.New("rekor: 503")
	fails := []Failure{
		{"c", &fs.PathError{Op: "open", Path: "c", Err: fs.ErrPermission}},
		{"b", rekor},
		{"a", rekor},
		{"d", &fs.PathError{Op: "open", Path: "d", Err: fs.ErrPermission}},
		{"e", rekor},
		{"z", errors.New("is a directory")},
	}
	got := New("files", 10, fails).Error()
	want := "6 of 10 files failed: rekor: 503 (a, b, e); open <file>: permission denied (c, d); is a directory (z)"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestManyCausesBounded(t *testing.T) {
	var fails []Failure
	for i := 0; i < 50; i++ {
		fails = append(fails, Failure{fmt.Sprintf("img%02d", i), fmt.Errorf("cause %02d", i)})
	}
	got := New("images", 50, fails).Error()
	want := "50 of 50 images failed: cause 00 (img00); cause 01 (img01); cause 02 (img02); and 47 more for 47 other causes"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestOneLineAndUnwrap(t *testing.T) {
	if New("files", 3, nil) != nil {
		t.Fatal("no failures must be no error")
	}
	err := New("files", 2, []Failure{{"a", fmt.Errorf("x:\n  %w", os.ErrNotExist)}, {"b", errors.New("y")}})
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("not one line: %q", err)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Error("errors.Is does not reach an item's error")
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"a"}, "a"},
		{[]string{"a", "b", "c"}, "a, b, c"},
		{[]string{"a", "b", "c", "d"}, "a, b, c and 1 more"},
	} {
		if got := Names(tc.in, 3); got != tc.want {
			t.Errorf("Names(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
