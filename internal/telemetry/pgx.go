package telemetry

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/trace"
)

// PgxTracer returns a pgx.QueryTracer (set on the PostgreSQL pool's connection config) that records every
// statement like a bbolt transaction: accessbot_store_operation_duration_seconds by op (the statement's
// verb and table, e.g. "INSERT conversations") and kind, errors counted, and a "store <op>" span under the
// caller's. The SQL text and its arguments are never recorded.
func (m *Metrics) PgxTracer() pgx.QueryTracer { return pgxTracer{m} }

type pgxTracer struct{ m *Metrics }

type pgxQueryKey struct{}

type pgxQuery struct {
	op, kind string
	start    time.Time
	span     trace.Span
}

// TraceQueryStart implements pgx.QueryTracer.
func (t pgxTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	op, kind := SQLOperation(data.SQL)
	ctx, span := Tracer().Start(ctx, "store "+op, spanKindInternal, storeAttrs(kind))
	return context.WithValue(ctx, pgxQueryKey{}, &pgxQuery{op: op, kind: kind, start: time.Now(), span: span})
}

// TraceQueryEnd implements pgx.QueryTracer.
func (t pgxTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	q, ok := ctx.Value(pgxQueryKey{}).(*pgxQuery)
	if !ok {
		return
	}
	if t.m != nil {
		t.m.storeDuration.WithLabelValues(q.op, q.kind).Observe(time.Since(q.start).Seconds())
		if data.Err != nil && data.Err != pgx.ErrNoRows {
			t.m.storeErrors.WithLabelValues(q.op, q.kind).Inc()
		}
	}
	err := data.Err
	if err == pgx.ErrNoRows {
		err = nil
	}
	endSpan(q.span, err)
}

// SQLOperation names a statement by its verb and first table ("SELECT conversations", "INSERT outbox",
// "BEGIN"); kind is "read" for a SELECT (or WITH) that changes nothing and "write" otherwise. Only keywords and identifiers of the statement
// text are used, never literals or arguments.
func SQLOperation(sql string) (op, kind string) {
	f := strings.Fields(sql)
	if len(f) == 0 {
		return "unknown", "write"
	}
	verb := strings.ToUpper(f[0])
	kind = "write"
	if verb == "SELECT" || verb == "WITH" {
		kind = "read"
		for _, w := range f {
			switch strings.ToUpper(w) {
			case "INSERT", "UPDATE", "DELETE":
				kind = "write"
			}
		}
	}
	for i := 1; i < len(f)-1 && i < 40; i++ {
		switch strings.ToUpper(f[i]) {
		case "FROM", "INTO", "UPDATE":
			return verb + " " + ident(f[i+1]), kind
		}
	}
	if verb == "UPDATE" && len(f) > 1 {
		return verb + " " + ident(f[1]), kind
	}
	return verb, kind
}

// ident keeps the leading identifier characters of s (a table name, perhaps schema-qualified).
func ident(s string) string {
	end := strings.IndexFunc(s, func(r rune) bool {
		return !(r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
	if end == 0 {
		return "?"
	}
	if end > 0 {
		s = s[:end]
	}
	return strings.ToLower(s)
}
