package main

import (
	"context"
	"log/slog"
)

// withoutQueryTraces drops the records FerretDB's PostgreSQL backend makes of
// failed queries (pgx's tracer: attributes "sql" and "args"). Their arguments
// are whole documents, which must not reach a log, and the failures they
// report are answered to the client anyway: most are the duplicate keys of
// unique inserts, which the hub makes on purpose (idempotency, one commit per
// revision).
type withoutQueryTraces struct{ slog.Handler }

func (h withoutQueryTraces) Handle(ctx context.Context, record slog.Record) error {
	trace := false
	record.Attrs(func(attr slog.Attr) bool {
		trace = attr.Key == "sql" || attr.Key == "args"
		return !trace
	})
	if trace {
		return nil
	}
	return h.Handler.Handle(ctx, record)
}

func (h withoutQueryTraces) WithAttrs(attrs []slog.Attr) slog.Handler {
	return withoutQueryTraces{h.Handler.WithAttrs(attrs)}
}

func (h withoutQueryTraces) WithGroup(name string) slog.Handler {
	return withoutQueryTraces{h.Handler.WithGroup(name)}
}
