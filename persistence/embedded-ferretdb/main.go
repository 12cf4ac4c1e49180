// Command hub-ferretdb runs FerretDB (its SQLite or its PostgreSQL backend)
// embedded in a binary we build ourselves, because `go install` of FerretDB's
// own command panics at start (its version file is not part of the module;
// FerretDB issue #2982).
//
// It listens on the given loopback address (port 0 picks a free port), prints
// one JSON line {"uri": "..."} once the listener accepts connections, and
// exits when it receives SIGINT/SIGTERM or when its standard input closes, so
// it never outlives the Node process that started it.
//
// It also keeps lookups by _id indexed (idindex.go for SQLite, pgidindex.go
// for PostgreSQL): FerretDB 1.24 itself scans the whole table for them.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on")
	handler := flag.String("handler", "sqlite", "storage backend: sqlite or postgresql")
	dir := flag.String("dir", "data/ferretdb", "directory for SQLite files (-handler sqlite)")
	postgreSQLURL := flag.String("postgresql-url", "", "PostgreSQL connection URL (-handler postgresql), e.g. postgres:///ferretdb?host=/run/pg")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	indexEvery := flag.Duration("index-every", 200*time.Millisecond, "how often new collections get their _id lookup index")
	indexIDLookups := flag.Bool("index-id-lookups", true, "give new collections an index for lookups by _id (one front end per PostgreSQL)")
	watchStdin := flag.Bool("exit-on-stdin-close", true, "exit when standard input closes")
	flag.Parse()

	config := ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: *listen}, Handler: *handler}
	var abs string
	switch *handler {
	case "sqlite":
		var err error
		if abs, err = filepath.Abs(*dir); err != nil {
			fail("resolve data directory: %v", err)
		}
		if err := os.MkdirAll(abs, 0o700); err != nil {
			fail("create data directory: %v", err)
		}
		config.SQLiteURL = "file:" + abs + "/"
	case "postgresql":
		if *postgreSQLURL == "" {
			fail("-handler postgresql needs -postgresql-url")
		}
		config.PostgreSQLURL = *postgreSQLURL
	default:
		fail("bad -handler %q: sqlite or postgresql", *handler)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fail("bad -log-level: %v", err)
	}
	logger := slog.New(withoutQueryTraces{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})})

	config.Logger = logger
	db, err := ferretdb.New(&config)
	if err != nil {
		fail("start FerretDB: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	runErr := make(chan error, 1)
	go func() { runErr <- db.Run(ctx) }()

	indexed := make(chan struct{})
	var indexer interface {
		run(context.Context, time.Duration)
		close()
	}
	switch {
	case !*indexIDLookups:
	case *handler == "sqlite":
		indexer = newIDIndexer(abs, logger)
	default:
		indexer = newPgIDIndexer(*postgreSQLURL, logger)
	}
	if indexer != nil {
		go func() {
			indexer.run(ctx, *indexEvery)
			close(indexed)
		}()
	} else {
		close(indexed)
	}

	// MongoDBURI blocks until the listener is bound, so this line means "ready".
	line, _ := json.Marshal(map[string]string{"uri": db.MongoDBURI()})
	fmt.Println(string(line))

	err = <-runErr
	interrupted := ctx.Err() != nil
	stop()
	<-indexed // the indexer has finished its last pass before its handles close
	if indexer != nil {
		indexer.close()
	}
	if err != nil && !interrupted {
		fail("FerretDB stopped: %v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "hub-ferretdb: "+format+"\n", args...)
	os.Exit(1)
}
