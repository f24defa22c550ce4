package cli

import (
	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"golang.org/x/term"
)

// IsTerminal reports whether f is an *os.File open on a terminal. A pipe, a
// file and /dev/null are not (/dev/null is a character device, which is
// why a mode check is not enough: it asks the terminal driver).
func IsTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// FmtDur prints d rounded for people: 274ms, 21.1s, 2m37s.
func FmtDur(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// Logger is -v's logger: structured lines on w, every level. It drops the
// client's "call failed" record: the "retrying" or "call gave up" record
// that always follows carries the same error, and one retry should read as
// one line.
func Logger(w io.Writer) *slog.Logger {
	return slog.New(dropCallFailed{slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})})
}

type dropCallFailed struct{ slog.Handler }

func (h dropCallFailed) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "call failed" {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h dropCallFailed) WithAttrs(as []slog.Attr) slog.Handler {
	return dropCallFailed{h.Handler.WithAttrs(as)}
}

func (h dropCallFailed) WithGroup(name string) slog.Handler {
	return dropCallFailed{h.Handler.WithGroup(name)}
}
