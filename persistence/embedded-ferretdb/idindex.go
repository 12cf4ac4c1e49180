package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// idIndexer adds the index FerretDB 1.24's SQLite backend lacks.
//
// FerretDB indexes _id as `_ferretdb_sjson->"_id"` but looks documents up with
// `WHERE _ferretdb_sjson->'$._id' = ?`. SQLite only uses an expression index
// for the very same expression, so every lookup by _id scans the table
// (seconds at 100 000 documents). An index on the expression FerretDB queries
// makes those lookups index searches. FerretDB does not know about this index
// (it is not in its metadata), so it neither lists nor drops it; SQLite drops
// it with its table.
type idIndexer struct {
	dir     string
	logger  *slog.Logger
	handles map[string]*sql.DB
}

func newIDIndexer(dir string, logger *slog.Logger) *idIndexer {
	return &idIndexer{dir: dir, logger: logger, handles: map[string]*sql.DB{}}
}

func (x *idIndexer) run(ctx context.Context, every time.Duration) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		x.pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// pass indexes every collection table that is not indexed yet, in every database file.
func (x *idIndexer) pass(ctx context.Context) {
	files, err := filepath.Glob(filepath.Join(x.dir, "*.sqlite"))
	if err != nil {
		return
	}
	present := map[string]bool{}
	for _, file := range files {
		present[file] = true
		db, ok := x.handles[file]
		if !ok {
			db, err = sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
			if err != nil {
				continue
			}
			db.SetMaxOpenConns(1)
			x.handles[file] = db
		}
		// Read-only unless something is missing, so a pass costs FerretDB's writers nothing.
		missing, err := unindexedTables(ctx, db)
		if err != nil {
			continue // a database FerretDB is still creating
		}
		for _, table := range missing {
			query := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, table+indexSuffix, table)
			if _, err := db.ExecContext(ctx, query); err != nil {
				x.logger.Debug("could not index _id lookups yet", slog.String("table", table), slog.String("error", err.Error()))
			}
		}
	}
	for file, db := range x.handles {
		if !present[file] {
			_ = db.Close()
			delete(x.handles, file)
		}
	}
}

const indexSuffix = "_hub_id_lookup"

// unindexedTables lists FerretDB's collection tables that lack our index.
func unindexedTables(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT c.table_name FROM "_ferretdb_collections" c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = c.table_name || ?)`, indexSuffix)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var table string
		if err := rows.Scan(&table); err != nil {
			return nil, err
		}
		tables = append(tables, table)
	}
	return tables, rows.Err()
}

func (x *idIndexer) close() {
	for _, db := range x.handles {
		_ = db.Close()
	}
}
