package sqlstore_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/staffaccess"
	"github.com/gdprkit/gdprkit/store/storetest"
)

// sqlEdit is one change made directly in the database, as someone with
// database access would, and the change that puts it back ("" when the
// case is the last and stays).
type sqlEdit struct {
	name       string
	edit, undo string
	editArgs   []any
	undoArgs   []any
}

// checkTampering applies each edit, expects check to report a break naming
// the problem, undoes it and expects check to pass again.
func checkTampering(t *testing.T, db *sql.DB, d sqldb.Dialect, edits []sqlEdit, check func() (ok bool, problem string, err error), tampered error) {
	t.Helper()
	ctx := context.Background()
	run := func(q string, args []any) {
		t.Helper()
		res, err := db.ExecContext(ctx, d.Rebind(q), args...)
		require.NoError(t, err, q)
		n, err := res.RowsAffected()
		require.NoError(t, err)
		require.EqualValues(t, 1, n, "the edit must hit exactly one row: %s", q)
	}
	for _, e := range edits {
		run(e.edit, e.editArgs)
		ok, problem, err := check()
		require.ErrorIs(t, err, tampered, e.name)
		assert.False(t, ok, e.name)
		assert.NotEmpty(t, problem, e.name)
		t.Logf("%s: %s", e.name, problem)
		if e.undo != "" {
			run(e.undo, e.undoArgs)
			ok, problem, err = check()
			require.NoError(t, err, "%s undone: %s", e.name, problem)
			require.True(t, ok)
		}
	}
}

func queryString(t *testing.T, db *sql.DB, d sqldb.Dialect, q string, args ...any) string {
	t.Helper()
	var s string
	require.NoError(t, db.QueryRowContext(context.Background(), d.Rebind(q), args...).Scan(&s), q)
	return s
}

func replaceOnce(t *testing.T, s, from, to string) string {
	t.Helper()
	require.Contains(t, s, from)
	return strings.Replace(s, from, to, 1)
}

// TestBreachTamperDetected edits and deletes rows of the breach register in
// each database and checks that Verify names the break, that Register still
// answers with the failed verification, and that the restored rows verify.
func TestBreachTamperDetected(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			s, db := testdb.OpenStore(t, d)
			ctx := context.Background()
			clock := fakeclock.New(storetest.T0)
			ps, _ := gdprkit.NewPseudonymizer(storetest.TestKey)
			svc, err := breach.New(breach.Config{Store: s.Breach(), Pseudonymizer: ps, Clock: clock,
				Finder: breach.FinderFunc(func(context.Context, gdprkit.AccountID, breach.Criteria) ([]gdprkit.SubjectID, error) {
					return []gdprkit.SubjectID{"ana", "bob"}, nil
				}),
				Notifier: breach.NotifierFunc(func(context.Context, breach.Message) (string, error) { return "case-9", nil })})
			require.NoError(t, err)
			a := storetest.NewAccount(t)
			b, err := svc.Record(ctx, a, breach.Report{Title: "t", Nature: "n", OccurredAt: clock.Now().Add(-time.Hour), AwareAt: clock.Now(), By: "admin-1"})
			require.NoError(t, err)
			_, err = svc.FindSubjects(ctx, a, b.ID, breach.Criteria{}, "admin-1")
			require.NoError(t, err)
			_, err = svc.Notify(ctx, a, b.ID, breach.NotifyRequest{Authority: true, Subjects: true, By: "admin-1"})
			require.NoError(t, err)
			_, errs := svc.RunUntilIdle(ctx, "w")
			require.Empty(t, errs)
			v, err := svc.Verify(ctx, a)
			require.NoError(t, err)
			require.EqualValues(t, 6, v.Entries, "recorded, subjects found, notify, three sent")

			acct := string(a)
			data := queryString(t, db.DB, d, "SELECT data FROM gdpr_breach_history WHERE account_id = ? AND seq = 1", acct)
			body := queryString(t, db.DB, d, "SELECT body FROM gdpr_breaches WHERE account_id = ?", acct)
			nid := queryString(t, db.DB, d, "SELECT id FROM gdpr_breach_notices WHERE account_id = ? AND dedupe = id", acct)
			nbody := queryString(t, db.DB, d, "SELECT body FROM gdpr_breach_notices WHERE account_id = ? AND id = ?", acct, nid)
			subject := queryString(t, db.DB, d, "SELECT MIN(subject_ps) FROM gdpr_breach_subjects WHERE account_id = ?", acct)
			notified := b.AwareAt.Format(time.RFC3339Nano) // AuthorityNotifiedAt is the fake clock's now too
			require.Contains(t, body, `"authority_notified_at":"`+notified+`"`)

			check := func() (bool, string, error) {
				v, err := svc.Verify(ctx, a)
				reg, rerr := svc.Register(ctx, a)
				require.NoError(t, rerr, "the register is still returned")
				assert.Equal(t, v.OK, reg.Verification.OK, "Register carries the same verification")
				return v.OK, v.Problem, err
			}
			checkTampering(t, db.DB, d, []sqlEdit{
				{name: "a history entry's data edited",
					edit: "UPDATE gdpr_breach_history SET data = ? WHERE account_id = ? AND seq = 1", editArgs: []any{replaceOnce(t, data, `"title":"t"`, `"title":"x"`), acct},
					undo: "UPDATE gdpr_breach_history SET data = ? WHERE account_id = ? AND seq = 1", undoArgs: []any{data, acct}},
				{name: "a history entry's actor edited",
					edit: "UPDATE gdpr_breach_history SET actor = ? WHERE account_id = ? AND seq = 2", editArgs: []any{"someone-else", acct},
					undo: "UPDATE gdpr_breach_history SET actor = ? WHERE account_id = ? AND seq = 2", undoArgs: []any{"admin-1", acct}},
				{name: "the breach's notification time edited",
					edit: "UPDATE gdpr_breaches SET body = ? WHERE account_id = ?", editArgs: []any{replaceOnce(t, body, `"authority_notified_at":"`+notified, `"authority_notified_at":"2025-01-01T00:00:00Z`), acct},
					undo: "UPDATE gdpr_breaches SET body = ? WHERE account_id = ?", undoArgs: []any{body, acct}},
				{name: "a sent notice's reference edited",
					edit: "UPDATE gdpr_breach_notices SET body = ? WHERE account_id = ? AND id = ?", editArgs: []any{replaceOnce(t, nbody, "case-9", "case-0"), acct, nid},
					undo: "UPDATE gdpr_breach_notices SET body = ? WHERE account_id = ? AND id = ?", undoArgs: []any{nbody, acct, nid}},
				{name: "an affected subject deleted",
					edit: "DELETE FROM gdpr_breach_subjects WHERE account_id = ? AND subject_ps = ?", editArgs: []any{acct, subject},
					undo: "INSERT INTO gdpr_breach_subjects (account_id, breach_id, subject_ps) VALUES (?, ?, ?)", undoArgs: []any{acct, b.ID, subject}},
				{name: "the last history entry deleted",
					edit: "DELETE FROM gdpr_breach_history WHERE account_id = ? AND seq = 6", editArgs: []any{acct}},
			}, check, breach.ErrTampered)
		})
	}
}

// TestStaffAccessTamperDetected edits and deletes rows of the staff access
// trail and grants in each database and checks that Verify names the break,
// that Trail still answers with the failed verification, and that the
// restored rows verify.
func TestStaffAccessTamperDetected(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			s, db := testdb.OpenStore(t, d)
			ctx := context.Background()
			clock := fakeclock.New(storetest.T0)
			svc, err := staffaccess.New(staffaccess.Config{Store: s.StaffAccess(), Clock: clock})
			require.NoError(t, err)
			a := storetest.NewAccount(t)
			g, err := svc.Request(ctx, a, staffaccess.Request{Staff: "vendor:eva", Purpose: "Ticket 7", Until: clock.Now().Add(time.Hour)})
			require.NoError(t, err)
			_, err = svc.Approve(ctx, a, g.ID, staffaccess.Actor{ID: "dana", Role: gdprkit.RoleAdmin}, "")
			require.NoError(t, err)
			for _, w := range []string{"GET /tickets/7", "GET /tickets/8", "GET /contacts/3"} {
				_, err := svc.Access(ctx, a, "vendor:eva", w)
				require.NoError(t, err)
			}
			v, err := svc.Verify(ctx, a)
			require.NoError(t, err)
			require.EqualValues(t, 5, v.Entries)

			acct := string(a)
			body := queryString(t, db.DB, d, "SELECT body FROM gdpr_staff_grants WHERE account_id = ?", acct)
			check := func() (bool, string, error) {
				v, err := svc.Verify(ctx, a)
				tr, terr := svc.Trail(ctx, a, staffaccess.TrailQuery{})
				require.NoError(t, terr, "the trail is still returned")
				assert.Equal(t, v.OK, tr.Verification.OK, "Trail carries the same verification")
				return v.OK, v.Problem, err
			}
			checkTampering(t, db.DB, d, []sqlEdit{
				{name: "what an access saw edited",
					edit: "UPDATE gdpr_staff_trail SET what = ? WHERE account_id = ? AND seq = 4", editArgs: []any{"GET /nothing", acct},
					undo: "UPDATE gdpr_staff_trail SET what = ? WHERE account_id = ? AND seq = 4", undoArgs: []any{"GET /tickets/8", acct}},
				{name: "who approved the grant edited",
					edit: "UPDATE gdpr_staff_grants SET body = ? WHERE account_id = ?", editArgs: []any{replaceOnce(t, body, `"decided_by":"dana"`, `"decided_by":"owner"`), acct},
					undo: "UPDATE gdpr_staff_grants SET body = ? WHERE account_id = ?", undoArgs: []any{body, acct}},
				{name: "an access deleted",
					edit: "DELETE FROM gdpr_staff_trail WHERE account_id = ? AND seq = 4", editArgs: []any{acct}},
			}, check, staffaccess.ErrTampered)
		})
	}
}
