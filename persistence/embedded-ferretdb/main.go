// Command hub-ferretdb runs FerretDB (SQLite backend) embedded in a binary we
// build ourselves, because `go install` of FerretDB's own command panics at
// start (its version file is not part of the module; FerretDB issue #2982).
//
// It listens on the given loopback address (port 0 picks a free port), prints
// one JSON line {"uri": "..."} once the listener accepts connections, and
// exits when it receives SIGINT/SIGTERM or when its standard input closes, so
// it never outlives the Node process that started it.
//
// It also keeps lookups by _id indexed (see idindex.go): FerretDB 1.24 itself
// scans the whole table for them.
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
	dir := flag.String("dir", "data/ferretdb", "directory for SQLite files")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	indexEvery := flag.Duration("index-every", 200*time.Millisecond, "how often new collections get their _id lookup index")
	watchStdin := flag.Bool("exit-on-stdin-close", true, "exit when standard input closes")
	flag.Parse()

	abs, err := filepath.Abs(*dir)
	if err != nil {
		fail("resolve data directory: %v", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		fail("create data directory: %v", err)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fail("bad -log-level: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	db, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
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

	indexer := newIDIndexer(abs, logger)
	indexed := make(chan struct{})
	go func() {
		indexer.run(ctx, *indexEvery)
		close(indexed)
	}()

	// MongoDBURI blocks until the listener is bound, so this line means "ready".
	line, _ := json.Marshal(map[string]string{"uri": db.MongoDBURI()})
	fmt.Println(string(line))

	err = <-runErr
	interrupted := ctx.Err() != nil
	stop()
	<-indexed // the indexer has finished its last pass before its handles close
	indexer.close()
	if err != nil && !interrupted {
		fail("FerretDB stopped: %v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "hub-ferretdb: "+format+"\n", args...)
	os.Exit(1)
}
