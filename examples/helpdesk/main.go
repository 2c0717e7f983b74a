// Command helpdesk is a small but genuine ticketing app with gdprkit wired
// in: agents log in with a password and TOTP, customers write through a
// contact form that records their consent, the inbox shows the spam filter's
// verdicts and learns from the agents' buttons, and a privacy page erases
// and exports people, shows open requests, consent histories, legal holds
// and retention rules. An account page shows the lifecycle, and in demo
// mode a clock control walks it from trial to deletion.
//
//	go run ./examples/helpdesk                 # demo on http://127.0.0.1:8080
//	go run ./examples/helpdesk -tls            # self-signed https://localhost
//	go run ./examples/helpdesk -demo=false -db 'postgres://…'
//
// Storage: embedded SQLite in the working directory by default
// (helpdesk-demo.db, recreated at every start in demo mode; helpdesk.db
// otherwise), or a PostgreSQL (postgres://…) or MySQL (user:pw@tcp(host)/db)
// DSN with -db. Attachment files live in a folder next to the database.
// The app's root secret comes from HELPDESK_SECRET (64 hex digits) or a
// key file created next to the database (helpdesk.key); the recreated demo
// database uses a fresh one.
//
// Choices: the host's tables are prefixed hd_ and bound to gdprkit's
// erasure graph with erasure/sqltarget and erasure/fsblob; customers reach
// the portal through a signed link (what a real deployment would e-mail);
// the demo clock is a fakeclock moved only from the /demo page.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql" // MySQL / MariaDB driver
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver
	_ "modernc.org/sqlite"             // embedded, pure-Go SQLite driver

	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("helpdesk", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	dsn := fs.String("db", "", "database: empty for SQLite in the working directory, or a SQLite file path, a postgres:// URL or a MySQL DSN")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a self-signed localhost certificate")
	demo := fs.Bool("demo", true, "demo mode: fresh demo data and a clock control")
	pool := fs.Int("pool", 0, "most database connections at once (0: 16 for PostgreSQL and MySQL, 4 for SQLite); requests wait for a free one")
	maxActive := fs.Int("max-active", 0, "most requests served at once; the others wait in arrival order (0: twice -pool; negative: no cap)")
	trusted := fs.String("trusted-proxy", "", "comma-separated addresses or prefixes of reverse proxies whose X-Forwarded-For names the client")
	pprofAddr := fs.String("pprof", "", "serve Go's profiler (net/http/pprof) on this address, e.g. 127.0.0.1:6060, apart from the app; empty: off")
	recoverOwner := fs.Bool("recover-owner", false, "break glass: remove the IP allow lists, unlock the owner's sign-in, print a new owner password, and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	db, dialect, base, err := openDB(*dsn, *demo && !*recoverOwner)
	if err != nil {
		return err
	}
	defer db.Close()
	sizePool(db, dialect, *pool)
	proxy, err := parseProxies(*trusted)
	if err != nil {
		return err
	}
	fresh := *demo && *dsn == "" && !*recoverOwner // the demo database is recreated at every start
	secret, err := loadSecret(base+".key", fresh)
	if err != nil {
		return err
	}
	blobDir := base + "-files"
	if fresh {
		if err := os.RemoveAll(blobDir); err != nil {
			return err
		}
	}
	app, err := NewApp(ctx, Config{DB: db, Dialect: dialect, BlobDir: blobDir, Secret: secret, Demo: *demo, TLS: *useTLS, Logger: logger, Proxy: proxy,
		MaxActive: *maxActive})
	if err != nil {
		return err
	}
	if *recoverOwner {
		pw, err := app.RecoverOwner(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "IP allow lists removed, owner's sign-in unlocked. New owner password (shown once): %s\n", pw)
		return nil
	}
	logins, err := app.Seed(ctx)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	scheme := "http"
	srv := &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	if *useTLS {
		cert, err := selfSigned()
		if err != nil {
			return err
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String()
	if strings.HasPrefix(ln.Addr().String(), "127.0.0.1:") {
		url = scheme + "://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	}
	if *pprofAddr != "" {
		pln, err := servePprof(ctx, *pprofAddr, db)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "profiler on http://%s/debug/pprof/ (database pool: /debug/dbstats)\n", pln)
	}
	fmt.Fprintf(out, "gdprkit helpdesk on %s (%s, account %q)\n", url, dialect, app.acct)
	for _, l := range logins {
		if l.Username != "" {
			fmt.Fprintf(out, "  %-8s %-15s username %-6s password %s\n", l.Role, l.Name, l.Username, l.Password)
		} else {
			fmt.Fprintf(out, "  %-8s %-15s portal   %s%s\n", l.Role, l.Name, url, l.PortalLink)
		}
	}
	fmt.Fprintf(out, "  contact form: %s/contact", url)
	if *demo {
		fmt.Fprintf(out, "   demo clock: %s/demo", url)
	}
	fmt.Fprintln(out)

	app.RunWorkers(ctx)
	// On SIGINT/SIGTERM: stop accepting, let the requests in flight finish
	// (a contact form that was accepted is stored), then flush what is
	// buffered, and only then return.
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 35*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = app.kit.Auth.FlushTokenUsage(sctx)
		_ = app.audit.Flush(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-drained
	return nil
}

// servePprof serves net/http/pprof on addr, on a listener and mux of its
// own (never the app's), until ctx ends, and returns the address it
// listens on; /debug/dbstats there shows the database pool's counters
// (how often and how long requests waited for a connection). It also
// turns on the block and mutex profiles. It is for measuring the app
// under load: bind it to loopback.
func servePprof(ctx context.Context, addr string, db *sql.DB) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-pprof: %w", err)
	}
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.HandleFunc("/debug/dbstats", func(w http.ResponseWriter, _ *http.Request) {
		st := db.Stats()
		fmt.Fprintf(w, "open %d in_use %d idle %d max_open %d wait_count %d wait_ms %d\n",
			st.OpenConnections, st.InUse, st.Idle, st.MaxOpenConnections, st.WaitCount, st.WaitDuration.Milliseconds())
	})
	runtime.SetBlockProfileRate(int(100 * time.Microsecond)) // blocking of 100 µs and more
	runtime.SetMutexProfileFraction(10)
	srv := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	return ln.Addr(), nil
}

// openDB opens the database the -db flag names and returns a base path for
// the files kept next to it.
func openDB(dsn string, demo bool) (*sql.DB, sqldb.Dialect, string, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := sql.Open("pgx", dsn)
		return db, sqlstore.Postgres, "helpdesk", err
	case strings.Contains(dsn, "@tcp(") || strings.Contains(dsn, "@unix("):
		if !strings.Contains(dsn, "parseTime=") {
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			dsn += sep + "parseTime=true"
		}
		db, err := sql.Open("mysql", dsn)
		return db, sqlstore.MySQL, "helpdesk", err
	}
	path := dsn
	if path == "" {
		path = "helpdesk.db"
		if demo {
			path = "helpdesk-demo.db"
		}
	}
	if demo && dsn == "" {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, "", "", err
			}
		}
	}
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
	return db, sqlstore.SQLite, strings.TrimSuffix(path, filepath.Ext(path)), err
}

// sizePool caps the database connections: PostgreSQL refuses clients past
// max_connections (100 by default, shared by every process), and SQLite
// has one writer at a time. Past the cap a request waits for a free
// connection (until it is cancelled) instead of failing.
func sizePool(db *sql.DB, d sqldb.Dialect, n int) {
	if n <= 0 {
		n = 16
		if d == sqlstore.SQLite {
			n = 4
		}
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
}

// parseProxies reads the -trusted-proxy flag.
func parseProxies(s string) (ipfilter.ProxyConfig, error) {
	var p ipfilter.ProxyConfig
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return p, fmt.Errorf("-trusted-proxy %q: %w", f, err)
			}
			f = netip.PrefixFrom(a, a.BitLen()).String()
		}
		pfx, err := netip.ParsePrefix(f)
		if err != nil {
			return p, fmt.Errorf("-trusted-proxy %q: %w", f, err)
		}
		p.Trusted = append(p.Trusted, pfx)
	}
	return p, nil
}

// loadSecret returns the root secret: HELPDESK_SECRET, else for a fresh
// demo database a random one, else the key file (created with a random key
// if missing).
func loadSecret(path string, fresh bool) ([]byte, error) {
	if s := os.Getenv("HELPDESK_SECRET"); s != "" {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) < 32 {
			return nil, errors.New("HELPDESK_SECRET must be at least 64 hex digits")
		}
		return b, nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if fresh {
		return key, nil
	}
	if b, err := os.ReadFile(path); err == nil {
		k, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) < 32 {
			return nil, fmt.Errorf("%s: not a 32-byte hex key", path)
		}
		return k, nil
	}
	return key, os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600)
}

// selfSigned makes a certificate for localhost, 127.0.0.1 and ::1, valid
// for a week.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, err
	}
	tpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "localhost", Organization: []string{"gdprkit helpdesk demo"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(7 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
