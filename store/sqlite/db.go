// Package sqlite is the embedded store.Store on modernc.org/sqlite (pure Go,
// no cgo), the zero-configuration default.
//
// Writes go through one connection, so they serialize in Go instead of
// failing with SQLITE_BUSY, and each transaction starts with BEGIN IMMEDIATE
// so it holds the write lock from its first statement. Reads outside a
// transaction use a separate pool and run concurrently thanks to WAL.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

var _ store.Store = (*DB)(nil)

// busyTimeoutMS is how long a connection waits for a lock another process
// holds, e.g. a second server or `hearth migrate` on the same file.
const busyTimeoutMS = "10000"

// DB is a SQLite database file.
type DB struct {
	write *sql.DB            // one connection: all writes and all transactions
	read  *sql.DB            // reads outside transactions
	stop  context.CancelFunc // ends keepStatistics

	statsMu     sync.Mutex
	readerStats string // the statistics the read pool was last renewed for (renewReaders)
}

// Open opens (creating if needed) the database file at path. It does not
// migrate; call Migrate.
func Open(ctx context.Context, path string) (*DB, error) {
	const op = "sqlite.Open"
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?") {
		// In-memory databases would give each pool its own database, and
		// URIs or query strings would clash with the options set here.
		return nil, sqlbase.Internalf(op, "need a plain file path, got %q", path)
	}
	// synchronous=FULL makes a commit durable once it returns; NORMAL would
	// be faster in WAL mode but can lose the last commits on power loss.
	// temp_store=MEMORY keeps statement journals (the undo of one statement
	// of a larger transaction, such as a multi-row INSERT of index rows) off
	// the disk: a third less time for an audit append with its index.
	write, err := sql.Open("sqlite", path+"?_txlock=immediate&_journal_mode=WAL&_synchronous=FULL"+
		"&_foreign_keys=1&_pragma=temp_store(MEMORY)&_busy_timeout="+busyTimeoutMS)
	if err != nil {
		return nil, sqlbase.Wrap(op, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	// The write connection is opened first so it creates the file and
	// switches it to WAL before any reader connects.
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, sqlbase.Unavailable(op, err)
	}
	read, err := sql.Open("sqlite", path+"?_query_only=1&_foreign_keys=1&_busy_timeout="+busyTimeoutMS)
	if err != nil {
		write.Close()
		return nil, sqlbase.Wrap(op, err)
	}
	read.SetMaxOpenConns(readConns())
	read.SetMaxIdleConns(readConns())
	// A connection plans with the statistics it loaded when it opened
	// (analyze.go renews the idle ones when they change); an hour bounds
	// how long one that was busy then keeps the old ones.
	read.SetConnMaxLifetime(time.Hour)
	if err := read.PingContext(ctx); err != nil {
		write.Close()
		read.Close()
		return nil, sqlbase.Unavailable(op, err)
	}
	bg, stop := context.WithCancel(context.Background())
	db := &DB{write: write, read: read, stop: stop}
	go db.keepStatistics(bg)
	return db, nil
}

// readConns is the size of the read pool.
func readConns() int { return max(4, runtime.NumCPU()) }

// Close closes both pools.
func (db *DB) Close() error {
	db.stop()
	return errors.Join(db.read.Close(), db.write.Close())
}

// queryer is what *sql.DB and *sql.Tx share, so that helpers run the same
// statements inside and outside a transaction.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
