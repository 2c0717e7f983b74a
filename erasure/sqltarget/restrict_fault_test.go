package sqltarget_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/internal/hostfixture"
	"github.com/gdprkit/gdprkit/internal/testdb"
	"github.com/gdprkit/gdprkit/sqldb"
)

// refuseTicketDelete installs a trigger that refuses the delete of one
// ticket, the way an archiving rule in a host's database would, and
// returns the statement that drops it.
func refuseTicketDelete(t *testing.T, h *host, id int64) (drop string) {
	t.Helper()
	var stmts []string
	switch h.d {
	case sqldb.Postgres:
		stmts = []string{
			`CREATE FUNCTION refuse_ticket_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.id = ` + fmt.Sprint(id) + ` THEN RAISE EXCEPTION 'ticket % is archived', OLD.id; END IF;
	RETURN OLD;
END $$`,
			`CREATE TRIGGER refuse_ticket_delete BEFORE DELETE ON ticket FOR EACH ROW EXECUTE FUNCTION refuse_ticket_delete()`,
		}
		drop = `DROP TRIGGER refuse_ticket_delete ON ticket`
	case sqldb.MySQL:
		stmts = []string{`CREATE TRIGGER refuse_ticket_delete BEFORE DELETE ON ticket FOR EACH ROW
BEGIN
	IF OLD.id = ` + fmt.Sprint(id) + ` THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ticket is archived'; END IF;
END`}
		drop = `DROP TRIGGER refuse_ticket_delete`
	default:
		stmts = []string{`CREATE TRIGGER refuse_ticket_delete BEFORE DELETE ON ticket WHEN OLD.id = ` + fmt.Sprint(id) + `
BEGIN SELECT RAISE(ABORT, 'ticket is archived'); END`}
		drop = `DROP TRIGGER refuse_ticket_delete`
	}
	for _, s := range stmts {
		_, err := h.db.DB.ExecContext(ctx, s)
		require.NoError(t, err, s)
	}
	return drop
}

// A trigger refusing the delete of the customer's second ticket, late in
// the order: the job ends failed after its bounded tries, visibly (Job,
// the audit feed, no receipt), with the rows deleted before it consistent;
// once the trigger is dropped, Retry finishes it with
// plan = receipt = what changed since before the first attempt.
func TestRestrictRefusedDeleteFailsVisiblyAndResumes(t *testing.T) {
	for _, d := range testdb.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			h, cfg := restrictHost(t, d)
			bernd, rs := h.seed.SubjectCustomer, h.seed.Restrict
			subject := gdprkit.SubjectID("customer:" + bernd.Login)
			before := h.snapshot()
			plan, err := h.svc.Plan(ctx, "atlas", subject, "", nil)
			require.NoError(t, err)
			drop := refuseTicketDelete(t, h, rs.CustomerTickets[1])
			r, err := h.svc.Submit(ctx, "atlas", erasure.Submission{Type: erasure.TypeErasure, Subject: subject, By: "agent:1", Verified: true})
			require.NoError(t, err)

			_, errs := h.svc.RunUntilIdle(ctx, "w")
			require.Len(t, errs, 1)
			assert.True(t, erasure.Permanent(errs[0]), "a trigger's refusal is permanent: %v", errs[0])
			job, err := h.svc.Job(ctx, "atlas", r.ID)
			require.NoError(t, err)
			assert.Equal(t, erasure.JobQueued, job.Status, "one more try after a short backoff")
			assert.Equal(t, 1, job.Attempts)
			assert.Contains(t, job.LastError, "ticket")
			assert.LessOrEqual(t, job.NextRunAt.Sub(h.clock.Now()), time.Minute, "a permanent error does not back off for hours")
			assert.Positive(t, job.Done, "the kinds before the ticket went")
			assert.Less(t, job.Done, job.Planned)

			h.clock.Advance(time.Minute)
			_, errs = h.svc.RunUntilIdle(ctx, "w")
			require.Len(t, errs, 1)
			job, err = h.svc.Job(ctx, "atlas", r.ID)
			require.NoError(t, err)
			assert.Equal(t, erasure.JobFailed, job.Status, "ended, not retried for hours")
			assert.Equal(t, 2, job.Attempts)
			for _, typ := range []gdprkit.EventType{"erasure.run_failed", "erasure.failed"} {
				evs := h.audit.OfType(typ)
				require.NotEmpty(t, evs, typ)
				assert.Equal(t, "true", evs[len(evs)-1].Attrs["permanent"])
				assert.NotContains(t, evs[len(evs)-1].Attrs["error"], bernd.Login, "the error names tables, not people")
			}
			assert.Len(t, h.audit.OfType("erasure.run_failed"), 2)
			assert.Len(t, h.audit.OfType("erasure.failed"), 1)
			_, err = h.svc.Receipt(ctx, "atlas", r.ID)
			assert.ErrorIs(t, err, gdprkit.ErrNotFound, "no receipt for a failed job")
			h.clock.Advance(time.Hour)
			n, errs := h.svc.RunUntilIdle(ctx, "w")
			assert.Zero(t, n, "a failed job is not picked up again by itself")
			assert.Empty(t, errs)
			mid := hostfixture.Compare(before, h.snapshot())
			assert.Empty(t, mid.Table("ticket").Deleted, "the refused batch rolled back whole")
			assert.Empty(t, mid.Table("customer_user").Deleted, "the customer outlives his tickets")

			_, err = h.db.DB.ExecContext(ctx, drop)
			require.NoError(t, err)
			require.NoError(t, h.svc.Retry(ctx, "atlas", r.ID, "agent:1"))
			_, errs = h.svc.RunUntilIdle(ctx, "w")
			require.Empty(t, errs)
			job, err = h.svc.Job(ctx, "atlas", r.ID)
			require.NoError(t, err)
			assert.Equal(t, erasure.JobDone, job.Status)
			assert.Len(t, h.audit.OfType("erasure.retried"), 1)
			rc, err := h.svc.Receipt(ctx, "atlas", r.ID)
			require.NoError(t, err)
			assertPlanReceiptActual(t, cfg, plan, rc, hostfixture.Compare(before, h.snapshot()))
			left, err := h.svc.FindResidue(ctx, "atlas", []erasure.Identifier{{Kind: "email", Value: bernd.Email}, {Kind: "login", Value: bernd.Login}})
			require.NoError(t, err)
			assert.Empty(t, left)
			for _, e := range h.audit.Events() {
				for _, v := range e.Attrs {
					assert.False(t, strings.Contains(v, bernd.Email), "%s carries his address", e.Type)
				}
			}
		})
	}
}
