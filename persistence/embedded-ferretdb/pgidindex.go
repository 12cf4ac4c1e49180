package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgIDIndexer adds the index FerretDB 1.24's PostgreSQL backend lacks for
// finds by _id.
//
// FerretDB gives every collection table a unique B-tree index on
// `_jsonb->'_id'`, but it filters with `_jsonb->'_id' @> '"value"'`
// (containment), which a B-tree cannot serve: every find, update and delete by
// _id scans the whole table (about 130 ms at 200 000 documents on our machine,
// growing with the table). A GIN index on the same expression serves `@>`
// (2–3 ms there). The B-tree stays: it is what makes _id unique. FerretDB
// does not know about this index (it is not in its metadata), so it neither
// lists nor drops it; PostgreSQL drops it with its table.
//
// One front end runs it (-index-id-lookups): two would race to create the
// same index.
type pgIDIndexer struct {
	url    string
	logger *slog.Logger
	conn   *pgx.Conn
}

// Our indexes are named after an md5 of their table's name: short enough for
// PostgreSQL's 63-byte identifiers whatever the table is called, and never
// like FerretDB's own names (which end in _idx).
const pgIndexPrefix = "hub_id_lookup_"

// FerretDB's collection tables that lack our index: the tables of every
// schema that holds FerretDB's metadata table (a schema per database), less
// FerretDB's own.
const pgUnindexedTables = `
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND c.relname NOT LIKE '\_ferretdb\_%'
  AND EXISTS (SELECT 1 FROM pg_class m WHERE m.relnamespace = n.oid AND m.relname = '_ferretdb_database_metadata')
  AND NOT EXISTS (SELECT 1 FROM pg_class i WHERE i.relnamespace = n.oid AND i.relname = $1 || md5(c.relname))`

func newPgIDIndexer(url string, logger *slog.Logger) *pgIDIndexer {
	return &pgIDIndexer{url: url, logger: logger}
}

func (x *pgIDIndexer) run(ctx context.Context, every time.Duration) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		if err := x.pass(ctx); err != nil && ctx.Err() == nil {
			x.logger.Debug("could not index _id lookups yet", slog.String("error", err.Error()))
			x.close() // a fresh connection next time
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// pass indexes every collection table that is not indexed yet. A pass that
// finds nothing to do is one catalog query.
func (x *pgIDIndexer) pass(ctx context.Context) error {
	if x.conn == nil {
		config, err := pgx.ParseConfig(x.url)
		if err != nil {
			return err
		}
		// FerretDB's pool setting (pgxpool reads it); a single connection would send it to PostgreSQL as a setting
		delete(config.RuntimeParams, "pool_max_conns")
		conn, err := pgx.ConnectConfig(ctx, config)
		if err != nil {
			return err
		}
		x.conn = conn
	}
	rows, err := x.conn.Query(ctx, pgUnindexedTables, pgIndexPrefix)
	if err != nil {
		return err
	}
	type table struct{ schema, name string }
	var missing []table
	for rows.Next() {
		var t table
		if err := rows.Scan(&t.schema, &t.name); err != nil {
			rows.Close()
			return err
		}
		missing = append(missing, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range missing {
		var name string
		if err := x.conn.QueryRow(ctx, `SELECT $1 || md5($2)`, pgIndexPrefix, t.name).Scan(&name); err != nil {
			return err
		}
		// jsonb_path_ops: the smaller GIN operator class, and it serves @>. fastupdate off: a lookup never has to
		// search a pending list, and each insert adds one key anyway.
		query := "CREATE INDEX IF NOT EXISTS " + pgx.Identifier{name}.Sanitize() + " ON " + pgx.Identifier{t.schema, t.name}.Sanitize() +
			" USING gin ((_jsonb->'_id') jsonb_path_ops) WITH (fastupdate = off)"
		if _, err := x.conn.Exec(ctx, query); err != nil {
			// e.g. the table was dropped meanwhile: try again on the next pass
			x.logger.Debug("could not index _id lookups yet", slog.String("table", t.schema+"."+t.name), slog.String("error", err.Error()))
		}
	}
	return nil
}

func (x *pgIDIndexer) close() {
	if x.conn != nil {
		_ = x.conn.Close(context.Background())
		x.conn = nil
	}
}
