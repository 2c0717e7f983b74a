package kitdata_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/store/memstore"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// breachWorld: ana's file was stored on day 1, bob's on day 5, both in
// the "files" bucket; a breach register finds subjects through the
// erasure graph.
func breachWorld(t testing.TB) (*breach.Service, *gdprkit.Pseudonymizer) {
	hd := memhelpdesk.New()
	for _, u := range []gdprkit.SubjectID{"ana", "bob"} {
		hd.AddUser("acme", memhelpdesk.User{ID: u, Role: gdprkit.RoleEndUser})
	}
	hd.Update("acme", func(d *memhelpdesk.Data) {
		for i, u := range []gdprkit.SubjectID{"ana", "bob"} {
			id := fmt.Sprint(i)
			at := t0.AddDate(0, 0, 1+4*i)
			d.Tickets["t"+id] = memhelpdesk.Ticket{ID: "t" + id, Requester: u, CreatedAt: at}
			d.Messages["m"+id] = memhelpdesk.Message{ID: "m" + id, Ticket: "t" + id, Author: u, CreatedAt: at}
			d.Attachments["f"+id] = memhelpdesk.Attachment{ID: "f" + id, Message: "m" + id, BlobKey: "files/" + id, CreatedAt: at}
		}
	})
	g, err := erasure.NewGraph(hd.Targets()...)
	require.NoError(t, err)
	ps, err := gdprkit.NewPseudonymizer([]byte("a 32-byte secret from your vault"))
	require.NoError(t, err)
	clock := fakeclock.New(t0.AddDate(0, 0, 10))
	er, err := erasure.New(erasure.Config{Store: memstore.New().Erasure(), Graph: g, Directory: hd, Pseudonymizer: ps, Clock: clock})
	require.NoError(t, err)
	reg, err := breach.New(breach.Config{Store: memstore.New().Breach(), Pseudonymizer: ps, Clock: clock,
		Finder: kitdata.AffectedFinder(er, map[string][]erasure.Kind{"files": {erasure.KindAttachment}, "db": {erasure.KindTicket, erasure.KindMessage}})})
	require.NoError(t, err)
	return reg, ps
}

func TestAffectedFinderAnswersThroughTheGraph(t *testing.T) {
	ctx := context.Background()
	reg, ps := breachWorld(t)
	b, err := reg.Record(ctx, "acme", breach.Report{Title: "Bucket public", Nature: "files readable", OccurredAt: t0, OccurredUntil: t0.AddDate(0, 0, 2),
		AwareAt: t0.AddDate(0, 0, 9), Kinds: []string{"attachment"}, By: "admin"})
	require.NoError(t, err)
	n, err := reg.FindSubjects(ctx, "acme", b.ID, breach.Criteria{Where: "files"}, "admin")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the breach's own period and kinds: only ana's file")
	got, err := reg.Subjects(ctx, "acme", b.ID, "", 10)
	require.NoError(t, err)
	assert.Equal(t, []gdprkit.Pseudonym{ps.Subject("acme", "ana")}, got)

	n, err = reg.FindSubjects(ctx, "acme", b.ID, breach.Criteria{Kinds: []string{"message", "attachment"}, Where: "db", From: t0, Until: t0.AddDate(0, 0, 6)}, "admin")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "messages kept in the database: bob is new, ana counted once")

	for name, c := range map[string]breach.Criteria{
		"a place nobody bound":              {Where: "backups"},
		"kinds not kept in the place":       {Kinds: []string{"ticket"}, Where: "files"},
		"a kind that cannot locate by time": {Kinds: []string{"end_user"}},
	} {
		_, err := reg.FindSubjects(ctx, "acme", b.ID, c, "admin")
		assert.ErrorIs(t, err, gdprkit.ErrInvalid, name)
	}
	bb, err := reg.Breach(ctx, "acme", b.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(2), bb.SubjectsFound, "refused criteria added nobody")
}
