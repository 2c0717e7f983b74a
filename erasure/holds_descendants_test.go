package erasure_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
)

// A file of an attachment in a held ticket could be permanently deleted:
// the blob target was no ParentFinder, so heldAbove stopped at once.
func TestDeleteRecordKeepsAHeldTicketsFiles(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	_, err := e.svc.PlaceHold(ctx, e.acct, erasure.HoldSpec{Kind: erasure.KindTicket, RecordID: "t-ana-1", Ground: "Art. 17(3)(e)", By: "admin"})
	require.NoError(t, err)
	before := e.hd.Blobs.Len(e.acct)
	_, err = e.svc.DeleteRecord(ctx, e.acct, erasure.KindBlob, "blobs/a-m-t-ana-1-0", "agent1")
	assert.ErrorIs(t, err, erasure.ErrHeld)
	assert.Equal(t, before, e.hd.Blobs.Len(e.acct), "the held ticket's file must survive")
}

// A subject hold covers all of the subject's data, but DeleteRecord
// removed their identities, portal profile, tokens, sessions and saved
// searches: those memhelpdesk targets named no parents.
func TestDeleteRecordKeepsAHeldSubjectsProfileData(t *testing.T) {
	for _, c := range []struct {
		k  erasure.Kind
		id string
	}{{erasure.KindIdentity, "idn-ana-phone"}, {erasure.KindPortalProfile, "pp-ana"}, {erasure.KindOAuthToken, "tok-ana"},
		{erasure.KindSession, "ses-ana"}, {erasure.KindSavedSearch, "ss-ana"}} {
		t.Run(string(c.k), func(t *testing.T) {
			e := newEnv(t, envOpt{})
			e.seed()
			_, err := e.svc.PlaceHold(ctx, e.acct, erasure.HoldSpec{Subject: "ana", Ground: "Art. 17(3)(e)", By: "admin"})
			require.NoError(t, err)
			n, err := e.svc.DeleteRecord(ctx, e.acct, c.k, c.id, "agent1")
			assert.ErrorIs(t, err, erasure.ErrHeld, "deleted %v", n)
		})
	}
}

// Plan and receipt agree when holds reach records another way.
func TestPlanMatchesReceiptWithHolds(t *testing.T) {
	for _, sc := range []struct {
		name    string
		subject gdprkit.SubjectID
		hold    erasure.HoldSpec
	}{
		{"agent, bob held", "agent1", erasure.HoldSpec{Subject: "bob", Ground: "g", By: "admin"}},
		{"agent, ticket held", "agent1", erasure.HoldSpec{Kind: erasure.KindTicket, RecordID: "t-ana-1", Ground: "g", By: "admin"}},
		{"ana, bob ticket held", "ana", erasure.HoldSpec{Kind: erasure.KindTicket, RecordID: "t-bob", Ground: "g", By: "admin"}},
		{"ana, own ticket held", "ana", erasure.HoldSpec{Kind: erasure.KindAssignedTicket, RecordID: "t-ana-1", Ground: "g", By: "admin"}},
		{"ana, message held", "ana", erasure.HoldSpec{Kind: erasure.KindAuthoredMessage, RecordID: "m-t-ana-1-0", Ground: "g", By: "admin"}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			e := newEnv(t, envOpt{batch: 2})
			e.seed()
			_, err := e.svc.PlaceHold(ctx, e.acct, sc.hold)
			require.NoError(t, err)
			p, err := e.svc.Plan(ctx, e.acct, sc.subject, erasure.ScopeFull, nil)
			require.NoError(t, err)
			r := e.erase(sc.subject, "admin")
			require.Empty(t, e.drain())
			rc, err := e.svc.Receipt(ctx, e.acct, r.ID)
			require.NoError(t, err)
			got, err := e.svc.Request(ctx, e.acct, r.ID)
			require.NoError(t, err)
			assert.Equal(t, erasure.StatusCompleted, got.Status)
			for i, pt := range p.Targets {
				rt := rc.Targets[i]
				assert.Equal(t, [3]int64{pt.Deleted, pt.Anonymized, pt.Kept}, [3]int64{rt.Deleted, rt.Anonymized, rt.Kept}, "%s plan vs receipt", pt.Kind)
			}
		})
	}
}

// opaque hides a target's ParentsOf: a host target that cannot say which
// records its records are under.
// opaque hides its target's parent lookup: a child target that cannot say
// which records it lives under.
type opaque struct{ erasure.Target }

func (o opaque) Info() erasure.TargetInfo {
	info := o.Target.Info()
	info.Caps.Parents = false
	return info
}

// While holds are active, DeleteRecord refuses a record whose ancestry a
// target cannot tell (it might be held); without holds it deletes it.
func TestDeleteRecordFailsClosedWithoutParentFinder(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	var ts []erasure.Target
	for _, x := range append(e.hd.Targets(), kitdata.CredentialsTarget(e.creds)) {
		if x.Info().Kind == erasure.KindMessage {
			x = opaque{x}
		}
		ts = append(ts, x)
	}
	g, err := erasure.NewGraph(ts...)
	require.NoError(t, err)
	ps, _ := gdprkit.NewPseudonymizer(key)
	e.svc, err = erasure.New(erasure.Config{Store: e.store, Graph: g, Directory: e.hd, Pseudonymizer: ps, Clock: e.clock})
	require.NoError(t, err)

	h, err := e.svc.PlaceHold(ctx, e.acct, erasure.HoldSpec{Kind: erasure.KindTicket, RecordID: "t-ana-1", Ground: "Art. 17(3)(e)", By: "admin"})
	require.NoError(t, err)
	_, err = e.svc.DeleteRecord(ctx, e.acct, erasure.KindMessage, "m-t-ana-0-0", "agent1")
	assert.ErrorIs(t, err, erasure.ErrHeld, "a message of an unheld ticket, but the target cannot tell")
	assert.Contains(t, e.dump().Messages, "m-t-ana-0-0")

	require.NoError(t, e.svc.ReleaseHold(ctx, e.acct, h.ID, "admin"))
	_, err = e.svc.DeleteRecord(ctx, e.acct, erasure.KindMessage, "m-t-ana-0-0", "agent1")
	require.NoError(t, err)
	assert.NotContains(t, e.dump().Messages, "m-t-ana-0-0")
}

// plainIndex is a BlobIndex that cannot name a blob's parent.
type plainIndex struct{ *memhelpdesk.Helpdesk }

func (plainIndex) BlobParents(context.Context, gdprkit.AccountID, []string) (map[string]string, error) {
	return nil, erasure.ErrUnsupported
}

// A blob target over an index that cannot name a file's parent makes
// DeleteRecord fail closed on its files while a hold is active, instead of
// taking "no parent named" for "not held"; once the hold ends, the file
// can be deleted.
func TestBlobTargetFailsClosedWithoutParentIndex(t *testing.T) {
	e := newEnv(t, envOpt{})
	e.seed()
	var ts []erasure.Target
	for _, x := range e.hd.Targets() {
		if x.Info().Kind == erasure.KindBlob {
			x = erasure.BlobTarget(erasure.KindBlob, erasure.KindAttachment, plainIndex{e.hd}, e.hd.Blobs)
		}
		ts = append(ts, x)
	}
	g, err := erasure.NewGraph(ts...)
	require.NoError(t, err)
	ps, _ := gdprkit.NewPseudonymizer(key)
	e.svc, err = erasure.New(erasure.Config{Store: e.store, Graph: g, Directory: e.hd, Pseudonymizer: ps, Clock: e.clock})
	require.NoError(t, err)
	h, err := e.svc.PlaceHold(ctx, e.acct, erasure.HoldSpec{Kind: erasure.KindTicket, RecordID: "t-ana-1", Ground: "Art. 17(3)(e)", By: "admin"})
	require.NoError(t, err)
	_, err = e.svc.DeleteRecord(ctx, e.acct, erasure.KindBlob, "blobs/a-m-t-ana-0-0", "agent1")
	assert.ErrorIs(t, err, erasure.ErrHeld)
	assert.Equal(t, 7, e.hd.Blobs.Len(e.acct))
	require.NoError(t, e.svc.ReleaseHold(ctx, e.acct, h.ID, "admin"))
	got, err := e.svc.DeleteRecord(ctx, e.acct, erasure.KindBlob, "blobs/a-m-t-ana-0-0", "agent1")
	require.NoError(t, err)
	assert.Equal(t, map[erasure.Kind]int64{erasure.KindBlob: 1}, got)
	assert.Equal(t, 6, e.hd.Blobs.Len(e.acct))
}
