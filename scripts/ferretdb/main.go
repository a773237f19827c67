// Command ferretdb-launcher runs an embedded FerretDB v1 for the loyalty service's
// development, test and benchmark runs on machines where mongodb-memory-server cannot
// obtain a mongod. It is built from the pinned module in this folder by
// src/platform/db/ferretdb.ts; nobody runs `go build` by hand.
//
// It prints one JSON line {"uri": "..."} on stdout once it accepts connections, and
// exits when its standard input closes, so it never outlives the process that
// started it, even when that process is killed with SIGKILL.
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
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on (port 0 picks a free port)")
	handler := flag.String("handler", "sqlite", "backend: sqlite or postgresql")
	sqliteURL := flag.String("sqlite-url", "", "SQLite directory URL, e.g. file:/tmp/data/ (required for sqlite)")
	postgresqlURL := flag.String("postgresql-url", "", "PostgreSQL URL (required for postgresql)")
	logLevel := flag.String("log-level", "error", "debug, info, warn or error; logs go to stderr")
	watchStdin := flag.Bool("watch-stdin", true, "exit when standard input closes")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fail("bad -log-level: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	cfg := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
		Handler:  *handler,
	}
	switch *handler {
	case "sqlite":
		if *sqliteURL == "" {
			fail("-sqlite-url is required with -handler sqlite")
		}
		cfg.SQLiteURL = *sqliteURL
	case "postgresql":
		if *postgresqlURL == "" {
			fail("-postgresql-url is required with -handler postgresql")
		}
		cfg.PostgreSQLURL = *postgresqlURL
	default:
		fail("unknown -handler %q (sqlite or postgresql)", *handler)
	}

	f, err := ferretdb.New(cfg)
	if err != nil {
		fail("start: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := f.Run(ctx); err != nil {
			logger.Error("run", "error", err)
		}
	}()

	// New has already bound the listener, so the URI names the real port.
	line, _ := json.Marshal(map[string]string{"uri": f.MongoDBURI()})
	fmt.Println(string(line))

	<-done
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ferretdb-launcher: "+format+"\n", args...)
	os.Exit(2)
}
