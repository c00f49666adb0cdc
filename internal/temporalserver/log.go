package temporalserver

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.uber.org/zap/zapcore"
)

// slogLogger routes the server's logs into the application's slog.Logger so an
// operator sees one log stream, in one format, rather than a second zap stream
// on stdout.
type slogLogger struct {
	l *slog.Logger
	// min drops server messages below it before they reach l. The server is
	// chatty at info (every shard acquisition, every membership change), which
	// drowns the application's own logs, so by default only warnings and errors
	// come through.
	min slog.Level
	// silenced is shared with every logger derived through With, so that
	// Stop can quiet them all at once.
	silenced *atomic.Bool
	// with holds the tags of With, converted only when a message is logged.
	with []tag.Tag
}

var (
	_ log.Logger     = (*slogLogger)(nil)
	_ log.WithLogger = (*slogLogger)(nil)
)

// newServerLogger returns a log.Logger for the server's own messages: warn and
// above normally, info and above when l is set up for debugging. The server's
// debug level is never passed on: it logs every persistence call.
func newServerLogger(l *slog.Logger) *slogLogger {
	if l == nil {
		l = slog.Default()
	}
	min := slog.LevelWarn
	if l.Enabled(context.Background(), slog.LevelDebug) {
		min = slog.LevelInfo
	}
	return &slogLogger{l: l.With("component", "temporal"), min: min, silenced: new(atomic.Bool)}
}

// silence drops everything from now on.
func (s *slogLogger) silence() { s.silenced.Store(true) }

// isNoise picks out warnings and errors the server logs on most starts of a
// setup like this one, which would teach people to ignore the ones that matter.
func isNoise(msg string, tags []tag.Tag) bool {
	if noise[msg] {
		return true
	}
	// The worker service dials the frontend while the frontend is still
	// starting, is refused, and retries; the frontend logs the refusal as a
	// "service failure" error.
	// A shard's queue readers start before the shard has taken its lease,
	// and log "shard status unknown" once while they wait for it.
	for _, t := range tags {
		if t.Key() == "error" {
			v := fmt.Sprint(t.Value())
			if strings.Contains(v, "Frontend is not healthy yet") || strings.Contains(v, "shard status unknown") {
				return true
			}
		}
	}
	return false
}

var noise = map[string]bool{
	// Throughgate uses no Nexus, and the HTTP API would be one more port
	// open without authentication.
	"HTTP API port has not been set. Nexus HTTP endpoints will not be available. To enable Nexus, follow these instructions: https://github.com/temporalio/temporal/blob/main/docs/architecture/nexus.md#enabling-nexus.": true,
}

func (s *slogLogger) Debug(msg string, tags ...tag.Tag) { s.log(slog.LevelDebug, msg, tags) }
func (s *slogLogger) Info(msg string, tags ...tag.Tag)  { s.log(slog.LevelInfo, msg, tags) }
func (s *slogLogger) Warn(msg string, tags ...tag.Tag)  { s.log(slog.LevelWarn, msg, tags) }
func (s *slogLogger) Error(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }

// DPanic panics only in zap's development mode; the server is never in it here.
func (s *slogLogger) DPanic(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }

// Panic and Fatal must not return: callers rely on that (the schema tool, for
// one, carries on with a nil value after Fatal). Fatal panics rather than
// calling os.Exit so that, on Start's goroutine, the panic is recovered and
// returned as an error instead of ending the whole Throughgate process; on a
// server goroutine it still ends the process, as Fatal would.
func (s *slogLogger) Panic(msg string, tags ...tag.Tag) {
	s.log(slog.LevelError, msg, tags)
	panic(serverPanic{msg: msg, tags: tags})
}

func (s *slogLogger) Fatal(msg string, tags ...tag.Tag) {
	s.log(slog.LevelError, msg, tags)
	panic(serverPanic{msg: msg, tags: tags})
}

// With keeps tags for the messages the derived logger logs. The server
// derives a logger for every task and many requests (tasks.InitializeLogger)
// and logs through few of them, above all at the warn level this logger
// passes on: converting the tags here cost about 1 % of the dev process's
// processor time while cases were being opened, so they are converted only
// when a message is logged.
func (s *slogLogger) With(tags ...tag.Tag) log.Logger {
	if len(tags) == 0 {
		return s
	}
	// The full slice expression makes append copy: siblings derived from
	// one logger must not share a backing array.
	return &slogLogger{l: s.l, min: s.min, silenced: s.silenced, with: append(s.with[:len(s.with):len(s.with)], tags...)}
}

func (s *slogLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	if level < s.min || s.silenced.Load() || isNoise(msg, tags) {
		return
	}
	ctx := context.Background()
	if !s.l.Enabled(ctx, level) {
		return
	}
	s.l.LogAttrs(ctx, level, msg, tagAttrs(tagAttrs(make([]slog.Attr, 0, len(s.with)+len(tags)), s.with), tags)...)
}

// tagAttrs converts server tags to slog attributes. Almost every server tag is
// a zap field; encoding it with zap's own map encoder gives the same value zap
// would have printed (errors as their message, durations, protos, nested
// objects) without a type switch over every zap field type here.
func tagAttrs(dst []slog.Attr, tags []tag.Tag) []slog.Attr {
	for _, t := range tags {
		zt, ok := t.(tag.ZapTag)
		if !ok {
			dst = append(dst, slog.Any(t.Key(), t.Value()))
			continue
		}
		enc := zapcore.NewMapObjectEncoder()
		zt.Field().AddTo(enc)
		keys := make([]string, 0, len(enc.Fields))
		for k := range enc.Fields {
			// zap adds the error's %+v form next to its message; it is a
			// multi-line stack dump for some error types and adds nothing
			// for the rest.
			if k == "errorVerbose" {
				continue
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			dst = append(dst, slog.Any(k, enc.Fields[k]))
		}
	}
	return dst
}

// serverPanic is what Panic and Fatal panic with, so that Start can tell a
// server that gave up (and said why in its message) from a programming error.
type serverPanic struct {
	msg  string
	tags []tag.Tag
}

func (p serverPanic) Error() string {
	s := p.msg
	for _, a := range tagAttrs(nil, p.tags) {
		s += fmt.Sprintf(" %s=%v", a.Key, a.Value.Any())
	}
	return s
}
