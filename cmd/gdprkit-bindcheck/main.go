// Command gdprkit-bindcheck checks a host's erasure binding against its
// database, for the host's CI: it reads a binding written as JSON (the
// JSON form of sqltarget.Config), connects to a database migrated to the
// host's current schema, runs sqltarget.Coverage, prints the report, and
// exits non-zero when the binding has any problem — a delete a foreign key
// would refuse or cascade, a table that references the people and no
// target binds, an action a column cannot take, a cycle.
//
// Usage:
//
//	gdprkit-bindcheck -driver pgx -dsn "$DATABASE_URL" binding.json
//	gdprkit-bindcheck -driver sqlite -dsn host.db -json binding.json
//
// Flags:
//
//	-driver  sqlite, pgx or mysql (postgres and mariadb are accepted as
//	         names for pgx and mysql); it also sets the SQL dialect
//	-dsn     the data source name; default $GDPRKIT_BINDCHECK_DSN, so a
//	         password need not appear on a command line
//	-json    print the report as JSON (sqltarget.Report) instead of text
//	-v       list, in the text report, every foreign key into a bound table
//	         and what accounts for it
//	-timeout how long the check may take (default 1m)
//
// Exit status: 0 when the binding has no problem, 1 when it has problems
// (each printed with its table, column and graph path), 2 when the check
// could not run (bad flags, an unreadable or malformed binding file, a
// database that cannot be reached).
//
// The database needs the schema, not the data: the check reads the
// catalog (tables, columns, keys, foreign keys with their actions) and
// runs each Spec.Filter once with a condition that matches no row. Point
// it at the database your migrations build in CI; it writes nothing. On
// SQLite the file must exist (a missing path would otherwise be created
// empty and every table reported missing).
//
// What a JSON binding cannot hold, and how the command treats it:
//
//   - BlobSpec.Store (the files): Coverage does not read files, so every
//     blob spec is checked with a store that refuses to be read.
//   - BlobSpec.Keys, the function computing file keys from a row: write
//     the blob spec with the "columns" Keys reads and no "key_column"; the
//     command checks those columns exist and notes, on stderr, that the
//     function itself is the host's to test.
//   - BlobSpec.Variants (derived files): not needed for the check; left out.
//   - Config.DB and the dialect: from -driver and -dsn. A "dialect" in the
//     file must agree with the driver.
//
// The file is read with sqltarget.LoadConfig, which refuses unknown
// fields, so a misspelt field fails the build instead of dropping a
// check. A host that keeps its binding in Go can write the JSON from it
// with encoding/json (the struct tags are the format) in a test, as
// erasure/sqltarget's TestLoadConfigReadsTheWorkedBindings does.
//
// Why cmd/ and not examples/: examples/ holds programs to read and copy;
// this is a tool to install and run unchanged
// (go install github.com/gdprkit/gdprkit/cmd/gdprkit-bindcheck@latest), and
// cmd/<name> is where Go programmers look for one. The binary's name says
// whose check it is in a CI log.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql" // driver "mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/sqltarget"
	"github.com/gdprkit/gdprkit/sqldb"
)

// The exit codes.
const (
	exitOK       = 0
	exitProblems = 1
	exitError    = 2
)

// envDSN is the environment variable -dsn defaults to.
const envDSN = "GDPRKIT_BINDCHECK_DSN"

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the command: it returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gdprkit-bindcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	driver := fs.String("driver", "", "database/sql driver: sqlite, pgx or mysql")
	dsn := fs.String("dsn", "", "data source name (default $"+envDSN+")")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	verbose := fs.Bool("v", false, "list every foreign key into a bound table")
	timeout := fs.Duration("timeout", time.Minute, "how long the check may take")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gdprkit-bindcheck -driver sqlite|pgx|mysql -dsn DSN [-json] [-v] BINDING.json")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "gdprkit-bindcheck: "+format+"\n", a...)
		return exitError
	}
	drv, dialect, err := driverOf(*driver)
	if err != nil {
		return fail("%v", err)
	}
	if *dsn == "" {
		*dsn = getenv(envDSN)
	}
	if *dsn == "" {
		return fail("-dsn (or $%s) is required", envDSN)
	}
	cfg, err := load(fs.Arg(0))
	if err != nil {
		return fail("%v", err)
	}
	if cfg.Dialect != "" && cfg.Dialect != dialect {
		return fail("the binding says dialect %s, the driver %s speaks %s", cfg.Dialect, drv, dialect)
	}
	cfg.Dialect = dialect
	for _, note := range prepareBlobs(&cfg) {
		fmt.Fprintln(stderr, "gdprkit-bindcheck: note: "+note)
	}
	if dialect == sqldb.SQLite {
		if err := sqliteExists(*dsn); err != nil {
			return fail("%v", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	db, err := sql.Open(drv, *dsn)
	if err != nil {
		return fail("open the database: %v", sqldb.Classify(err))
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fail("connect to the database: %v", sqldb.Classify(err))
	}
	cfg.DB = db
	rep, err := sqltarget.Coverage(ctx, cfg)
	if err != nil {
		return fail("%v", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return fail("write the report: %v", err)
		}
	} else {
		writeText(stdout, fs.Arg(0), cfg, rep, *verbose)
	}
	if len(rep.Problems) > 0 {
		return exitProblems
	}
	return exitOK
}

// driverOf returns the database/sql driver name and the dialect for a
// -driver value.
func driverOf(name string) (string, sqldb.Dialect, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "sqlite", "sqlite3":
		return "sqlite", sqldb.SQLite, nil
	case "pgx", "postgres", "postgresql":
		return "pgx", sqldb.Postgres, nil
	case "mysql", "mariadb":
		return "mysql", sqldb.MySQL, nil
	case "":
		return "", "", fmt.Errorf("-driver is required: sqlite, pgx or mysql")
	}
	return "", "", fmt.Errorf("-driver %q: use sqlite, pgx or mysql", name)
}

// load reads the binding file ("-" for standard input).
func load(path string) (sqltarget.Config, error) {
	if path == "-" {
		return sqltarget.LoadConfig(os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return sqltarget.Config{}, err
	}
	defer f.Close()
	cfg, err := sqltarget.LoadConfig(f)
	if err != nil {
		return sqltarget.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// unreadStore is the store blob specs are checked with: Coverage never
// reads files, and nothing else runs here.
type unreadStore struct{}

var errNoFiles = fmt.Errorf("%w: gdprkit-bindcheck reads no files", erasure.ErrUnsupported)

func (unreadStore) Stat(context.Context, gdprkit.AccountID, []string) (map[string]int64, error) {
	return nil, errNoFiles
}

func (unreadStore) Read(context.Context, gdprkit.AccountID, string) ([]byte, error) {
	return nil, errNoFiles
}

func (unreadStore) Delete(context.Context, gdprkit.AccountID, []string) (int, error) {
	return 0, errNoFiles
}

func (unreadStore) Walk(context.Context, gdprkit.AccountID, string, func(string, int64) error) error {
	return errNoFiles
}

func (unreadStore) DeleteAccount(context.Context, gdprkit.AccountID) (int, error) {
	return 0, errNoFiles
}

// prepareBlobs gives every blob spec what JSON cannot hold, and returns a
// note for each computed-key spec.
func prepareBlobs(cfg *sqltarget.Config) []string {
	var notes []string
	for i := range cfg.Blobs {
		b := &cfg.Blobs[i]
		b.Store = unreadStore{}
		if b.KeyColumn == "" && len(b.Columns) > 0 {
			b.Keys = func([]any) []string { return nil }
			notes = append(notes, fmt.Sprintf("blob %s: its file keys are computed by host code from %s: the columns are checked, the function is yours to test",
				b.Kind, strings.Join(b.Columns, ", ")))
		}
	}
	return notes
}

// sqliteExists refuses a SQLite DSN whose file does not exist.
func sqliteExists(dsn string) error {
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" || path == ":memory:" || strings.Contains(dsn, "mode=memory") {
		return errors.New("an in-memory SQLite database has no schema to check: give the file your migrations built")
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("the SQLite database %s: %w", path, err)
	}
	return nil
}

// writeText prints the report for people: the problems, the order the
// kinds act in and why, and how the foreign keys are accounted for.
func writeText(w io.Writer, file string, cfg sqltarget.Config, rep sqltarget.Report, verbose bool) {
	fmt.Fprintf(w, "binding %s on %s: %d kinds of rows, %d of files\n", file, cfg.Dialect, len(cfg.Specs), len(cfg.Blobs))
	if len(rep.Problems) > 0 {
		fmt.Fprintf(w, "\nPROBLEMS (%d): the binding would be refused\n", len(rep.Problems))
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "  %-9s %s\n", p.Class, describe(p))
		}
	}
	if len(rep.Kinds) > 0 {
		fmt.Fprintf(w, "\nORDER: the kinds act in this order\n")
		for i, k := range rep.Kinds {
			fmt.Fprintf(w, "  %3d %s\n", i+1, k)
		}
	} else if len(rep.Problems) > 0 {
		fmt.Fprintf(w, "\nORDER: not derived while the binding has problems\n")
	}
	if len(rep.Order) > 0 {
		fmt.Fprintf(w, "\nWHY: what the foreign keys add to the order of parents and children\n")
		for _, o := range rep.Order {
			fmt.Fprintf(w, "  %s\n", o)
		}
	}
	var by, cascaded, ignored, open int
	for _, r := range rep.References {
		switch {
		case len(r.By) > 0:
			by++
		case r.Cascaded:
			cascaded++
		case r.Ignored:
			ignored++
		default:
			open++
		}
	}
	fmt.Fprintf(w, "\nREFERENCES: %d foreign keys into bound tables: %d handled by targets first, %d left to the database (Cascade), %d not handled",
		len(rep.References), by, cascaded, open)
	if ignored > 0 {
		fmt.Fprintf(w, ", %d ignored", ignored)
	}
	fmt.Fprintln(w)
	if verbose {
		for _, r := range rep.References {
			how := "NOT HANDLED"
			switch {
			case len(r.By) > 0:
				how = "by " + joinKinds(r.By)
			case r.Cascaded:
				how = "the database (Cascade)"
			case r.Ignored:
				how = "ignored"
			}
			fmt.Fprintf(w, "  %s -> %s (ON DELETE %s): %s\n", r.From, r.To, r.OnDelete, how)
		}
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(w, "\nFAIL: %d problems\n", len(rep.Problems))
		return
	}
	fmt.Fprintln(w, "\nok: no problems")
}

// describe is a problem's line without its class: where, then what.
func describe(p sqltarget.Problem) string {
	s := strings.TrimPrefix(p.Error(), "sqltarget")
	return strings.TrimPrefix(strings.TrimPrefix(s, ":"), " ")
}

func joinKinds(ks []erasure.Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}
