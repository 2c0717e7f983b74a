package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/sqlstore"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// hostTx is a database with a table of the host's own, a consent service
// over the unbound store, and helpers to work in one host transaction.
type hostTx struct {
	s   *sqlstore.Store
	db  *testdb.DB
	svc *consent.Service
}

func newHostTx(t *testing.T, d sqldb.Dialect) *hostTx {
	t.Helper()
	s, db := testdb.OpenStore(t, d)
	_, err := db.Exec("CREATE TABLE host_people (id VARCHAR(64) PRIMARY KEY, name VARCHAR(200) NOT NULL)")
	require.NoError(t, err)
	ps, err := gdprkit.NewPseudonymizer(storetest.TestKey)
	require.NoError(t, err)
	svc, err := consent.New(consent.Config{Store: s.Consent(), Pseudonymizer: ps, Clock: fakeclock.New(storetest.T0)})
	require.NoError(t, err)
	return &hostTx{s: s, db: db, svc: svc}
}

func (h *hostTx) q(query string) string { return h.db.Dialect.Rebind(query) }

// begin opens a host transaction; the test fails if it is still open at
// the end.
func (h *hostTx) begin(t *testing.T) *sql.Tx {
	t.Helper()
	tx, err := h.db.BeginTx(context.Background(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback() })
	return tx
}

// work writes, in tx, a host row and, through a bound store, a purpose,
// its policy, a grant and a set of IP rules of account a.
func (h *hostTx) work(t *testing.T, tx *sql.Tx, a gdprkit.AccountID, person string) {
	t.Helper()
	ctx := context.Background()
	_, err := tx.ExecContext(ctx, h.q("INSERT INTO host_people (id, name) VALUES (?, ?)"), person, "Dana")
	require.NoError(t, err)
	bound := h.s.WithTx(tx)
	require.Same(t, tx, bound.Tx())
	svc := h.svc.WithStore(bound.Consent())
	_, err = svc.DefinePurpose(ctx, a, consent.Purpose{Key: "support", Name: "Support"})
	require.NoError(t, err)
	_, err = svc.PublishPolicy(ctx, a, "support", "We keep your message to answer it.", false, "admin-1")
	require.NoError(t, err)
	_, err = svc.Record(ctx, a, []consent.Decision{
		{Subject: gdprkit.SubjectID(person), Purpose: "support", Source: consent.SourcePreChat},
		{Subject: gdprkit.SubjectID(person + "-2"), Purpose: "support", Source: consent.SourcePreChat},
	}, consent.Grant)
	require.NoError(t, err)
	_, err = bound.IPFilter().ReplaceRules(ctx, a, ipfilter.SurfaceRules{Surface: gdprkit.SurfaceAgentPanel,
		Allow: []ipfilter.Entry{{Prefix: netip.MustParsePrefix("192.0.2.0/24"), AddedBy: "admin-1", AddedAt: storetest.T0}}}, 0)
	require.NoError(t, err)
}

// count counts a's rows in a gdprkit table (or host_people rows with id
// a when table is host_people), outside any transaction.
func (h *hostTx) count(t *testing.T, table, key string, a string) int {
	t.Helper()
	var n int
	require.NoError(t, h.db.QueryRow(h.q("SELECT COUNT(*) FROM "+table+" WHERE "+key+" = ?"), a).Scan(&n))
	return n
}

func TestWithTxRolledBackLeavesNothing(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := newHostTx(t, d)
			a := storetest.NewAccount(t)
			tx := h.begin(t)
			h.work(t, tx, a, "p-1")
			require.NoError(t, tx.Rollback())

			ctx := context.Background()
			_, err := h.svc.Purpose(ctx, a, "support")
			require.ErrorIs(t, err, gdprkit.ErrNotFound)
			head, err := h.s.Consent().Head(ctx, a)
			require.NoError(t, err)
			assert.Zero(t, head)
			for _, tbl := range []string{"gdpr_consent_purposes", "gdpr_consent_policies", "gdpr_consent_records", "gdpr_consent_heads", "gdpr_consent_state", "gdpr_ipfilter_versions"} {
				assert.Zero(t, h.count(t, tbl, "account_id", string(a)), tbl)
			}
			assert.Zero(t, h.count(t, "host_people", "id", "p-1"))
			v, err := h.s.IPFilter().Version(ctx, a)
			require.NoError(t, err)
			assert.Zero(t, v)
		})
	}
}

func TestWithTxCommittedKeepsEverything(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := newHostTx(t, d)
			a := storetest.NewAccount(t)
			tx := h.begin(t)
			h.work(t, tx, a, "p-1")

			ctx := context.Background()
			assert.Zero(t, h.count(t, "gdpr_consent_records", "account_id", string(a)), "nothing is visible outside before the host commits")
			require.NoError(t, tx.Commit())

			assert.Equal(t, 1, h.count(t, "host_people", "id", "p-1"))
			st, err := h.svc.Check(ctx, a, "p-1", "support")
			require.NoError(t, err)
			assert.True(t, st.Granted())
			res, err := h.svc.Verify(ctx, a)
			require.NoError(t, err)
			assert.EqualValues(t, 2, res.Records)
			assert.EqualValues(t, 2, res.Head.Seq)
			rs, err := h.s.IPFilter().Rules(ctx, a)
			require.NoError(t, err)
			assert.EqualValues(t, 1, rs.Version)
			require.Len(t, rs.Surfaces, 1)
		})
	}
}

// Calls through a bound store, failed ones included, never end the host's
// transaction: it stays usable, keeps what was written before the failure
// and nothing of the failed call, and the host's commit is the one that
// counts.
func TestWithTxNeverEndsTheHostTransaction(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := newHostTx(t, d)
			a := storetest.NewAccount(t)
			ctx := context.Background()
			tx := h.begin(t)
			h.work(t, tx, a, "p-1")
			bound := h.s.WithTx(tx)
			svc := h.svc.WithStore(bound.Consent())

			// A single-statement write that fails (on PostgreSQL it would
			// abort an unguarded transaction).
			_, err := svc.DefinePurpose(ctx, a, consent.Purpose{Key: "support", Name: "Again"})
			require.ErrorIs(t, err, gdprkit.ErrConflict)
			// A multi-row step that fails half-way: the first record is
			// written, then sealing the second fails.
			boom := errors.New("seal refused")
			drafts := []consent.Record{{ID: gdprkit.NewID(), SubjectPS: "ps-x", Purpose: "support", PolicyVersion: 1, Action: consent.Grant, Source: consent.SourceAPI, At: storetest.T0},
				{ID: gdprkit.NewID(), SubjectPS: "ps-y", Purpose: "support", PolicyVersion: 1, Action: consent.Grant, Source: consent.SourceAPI, At: storetest.T0}}
			calls := 0
			_, err = bound.Consent().Append(ctx, a, drafts, func(head consent.ChainHead, r *consent.Record) error {
				calls++
				if calls == 2 {
					return boom
				}
				r.Seq, r.PrevHash, r.Hash = head.Seq+1, head.Hash, "h"
				return nil
			})
			require.ErrorIs(t, err, boom)
			require.Equal(t, 2, calls, "a bound store does not retry")
			// A conflict detected inside a multi-statement step.
			_, err = bound.IPFilter().ReplaceRules(ctx, a, ipfilter.SurfaceRules{Surface: gdprkit.SurfaceAgentPanel}, 0)
			require.ErrorIs(t, err, gdprkit.ErrConflict)

			// The transaction is still the host's, and usable.
			_, err = tx.ExecContext(ctx, h.q("INSERT INTO host_people (id, name) VALUES (?, ?)"), "p-2", "Eli")
			require.NoError(t, err, "the host's transaction was ended or aborted by a failed call")
			_, err = svc.Grant(ctx, a, consent.Decision{Subject: "p-2", Purpose: "support", Source: consent.SourcePortal})
			require.NoError(t, err)
			require.NoError(t, tx.Commit(), "the bound store committed or rolled back the host's transaction")

			assert.Equal(t, 1, h.count(t, "host_people", "id", "p-2"))
			res, err := h.svc.Verify(ctx, a)
			require.NoError(t, err, "no trace of the failed append")
			assert.EqualValues(t, 3, res.Records)
			p, err := h.svc.Purpose(ctx, a, "support")
			require.NoError(t, err)
			assert.Equal(t, "Support", p.Name)
			rs, err := h.s.IPFilter().Rules(ctx, a)
			require.NoError(t, err)
			assert.EqualValues(t, 1, rs.Version, "the refused replacement left the rules")
			require.Len(t, rs.Surfaces, 1)
		})
	}
}

// Two host transactions appending to one account's chain take turns on
// its head: the second waits until the first commits, and the chain stays
// whole.
func TestWithTxAppendsOfTwoHostTransactionsTakeTurns(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := newHostTx(t, d)
			a := storetest.NewAccount(t)
			ctx := context.Background()
			tx := h.begin(t)
			h.work(t, tx, a, "p-1")
			require.NoError(t, tx.Commit())

			first := h.begin(t)
			_, err := h.svc.WithStore(h.s.WithTx(first).Consent()).Grant(ctx, a, consent.Decision{Subject: "p-3", Purpose: "support", Source: consent.SourceAPI})
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() {
				second, err := h.db.BeginTx(ctx, nil) // SQLite (BEGIN IMMEDIATE) waits here, elsewhere the head row waits
				if err != nil {
					done <- err
					return
				}
				_, err = h.svc.WithStore(h.s.WithTx(second).Consent()).Grant(ctx, a, consent.Decision{Subject: "p-4", Purpose: "support", Source: consent.SourceAPI})
				if err != nil {
					_ = second.Rollback()
					done <- err
					return
				}
				done <- second.Commit()
			}()
			select {
			case err := <-done:
				t.Fatalf("the second transaction appended while the first held the head: %v", err)
			case <-time.After(200 * time.Millisecond):
			}
			require.NoError(t, first.Commit())
			require.NoError(t, <-done)
			res, err := h.svc.Verify(ctx, a)
			require.NoError(t, err)
			assert.EqualValues(t, 4, res.Records)
			for _, p := range []gdprkit.SubjectID{"p-3", "p-4"} {
				st, err := h.svc.Check(ctx, a, p, "support")
				require.NoError(t, err)
				assert.True(t, st.Granted(), p)
			}
		})
	}
}

func TestWithTxRefusesMigrateAndSkipsCheckpoint(t *testing.T) {
	h := newHostTx(t, sqlstore.SQLite)
	tx := h.begin(t)
	bound := h.s.WithTx(tx)
	require.ErrorIs(t, bound.Migrate(context.Background()), gdprkit.ErrInvalid)
	require.NoError(t, bound.Checkpoint(context.Background()))
	assert.Same(t, h.s.DB(), bound.DB())
	assert.Nil(t, h.s.Tx(), "WithTx leaves the store it was called on unbound")
	assert.Nil(t, h.s.WithTx(nil).Tx())
	require.NoError(t, tx.Commit())
}

// A transient failure inside the host's transaction (here a lock the
// store cannot get in time: another transaction holds the consent chain's
// head) is returned at once, marked retryable, rather than retried inside
// a transaction the host owns; the host's transaction stays usable, and
// the same call goes through once the lock is free.
func TestWithTxReturnsTransientFailuresToTheHost(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h := newHostTx(t, d)
			a := storetest.NewAccount(t)
			ctx := context.Background()
			setup := h.begin(t)
			h.work(t, setup, a, "p-1")
			require.NoError(t, setup.Commit())

			blocker := h.begin(t)
			_, err := h.svc.WithStore(h.s.WithTx(blocker).Consent()).Grant(ctx, a, consent.Decision{Subject: "p-5", Purpose: "support", Source: consent.SourceAPI})
			require.NoError(t, err)

			// The host's transaction waits at most briefly for a lock.
			hostDB, hostStore := h.db.DB, h.s
			var limit time.Duration
			switch d {
			case sqlstore.SQLite: // a plain BEGIN and a short busy timeout, on a pool of the host's
				dsn := strings.Replace(strings.Replace(h.db.DSN, "_txlock=immediate", "_txlock=deferred", 1), "busy_timeout(10000)", "busy_timeout(100)", 1)
				require.NotEqual(t, h.db.DSN, dsn)
				var err error
				hostDB, err = sql.Open("sqlite", dsn)
				require.NoError(t, err)
				t.Cleanup(func() { hostDB.Close() })
				hostStore, err = sqlstore.New(hostDB, d)
				require.NoError(t, err)
				limit = time.Second
			case sqlstore.Postgres:
				limit = time.Second
			case sqlstore.MySQL:
				limit = 4 * time.Second
			}
			tx, err := hostDB.BeginTx(ctx, nil)
			require.NoError(t, err)
			t.Cleanup(func() { _ = tx.Rollback() })
			switch d {
			case sqlstore.Postgres:
				_, err = tx.ExecContext(ctx, "SET LOCAL lock_timeout = '100ms'")
			case sqlstore.MySQL:
				_, err = tx.ExecContext(ctx, "SET SESSION innodb_lock_wait_timeout = 1")
				t.Cleanup(func() { _, _ = hostDB.Exec("SET SESSION innodb_lock_wait_timeout = DEFAULT") })
			}
			require.NoError(t, err)
			_, err = tx.ExecContext(ctx, "SELECT 1") // on SQLite: a reader until its first write
			require.NoError(t, err)
			svc := h.svc.WithStore(hostStore.WithTx(tx).Consent())
			grant := consent.Decision{Subject: "p-6", Purpose: "support", Source: consent.SourceAPI}

			start := time.Now()
			_, err = svc.Grant(ctx, a, grant)
			took := time.Since(start)
			require.ErrorIs(t, err, gdprkit.ErrUnavailable)
			assert.True(t, sqldb.Retryable(err), "the host is told to run its transaction again: %v", err)
			assert.Less(t, took, limit, "the store retried inside the host's transaction")

			require.NoError(t, blocker.Rollback())
			_, err = svc.Grant(ctx, a, grant)
			require.NoError(t, err, "the host's transaction is still usable")
			require.NoError(t, tx.Commit())
			res, err := h.svc.Verify(ctx, a)
			require.NoError(t, err)
			assert.EqualValues(t, 3, res.Records)
		})
	}
}
