package erasure_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// holdersWorld: ana's and bob's tickets carry attachments stored on
// different days; a mailed-in ticket has no requester; another account
// has files on the same days.
func holdersWorld(t *testing.T, wrap func(*memhelpdesk.Helpdesk) erasure.Directory) (*erasure.Service, *memhelpdesk.Helpdesk) {
	t.Helper()
	hd := memhelpdesk.New()
	day := func(n int) time.Time { return t0.AddDate(0, 0, n) }
	for _, a := range []gdprkit.AccountID{"acme", "other"} {
		hd.AddUser(a, memhelpdesk.User{ID: "admin", Role: gdprkit.RoleAdmin})
		hd.AddUser(a, memhelpdesk.User{ID: "ana", Role: gdprkit.RoleEndUser})
		hd.AddUser(a, memhelpdesk.User{ID: "bob", Role: gdprkit.RoleEndUser})
		hd.AddUser(a, memhelpdesk.User{ID: "cy", Role: gdprkit.RoleEndUser})
	}
	hd.Update("acme", func(d *memhelpdesk.Data) {
		d.Tickets["t-ana"] = memhelpdesk.Ticket{ID: "t-ana", Requester: "ana", CreatedAt: day(0)}
		d.Tickets["t-bob"] = memhelpdesk.Ticket{ID: "t-bob", Requester: "bob", CreatedAt: day(0)}
		d.Tickets["t-cy"] = memhelpdesk.Ticket{ID: "t-cy", Requester: "cy", CreatedAt: day(0)}
		d.Tickets["t-mail"] = memhelpdesk.Ticket{ID: "t-mail", CreatedAt: day(0)} // mailed in, no requester
		for i, x := range []struct {
			ticket string
			day    int
		}{{"t-ana", 1}, {"t-ana", 2}, {"t-ana", 3}, {"t-bob", 3}, {"t-bob", 9}, {"t-cy", 12}, {"t-mail", 3}} {
			m := fmt.Sprintf("m%d", i)
			d.Messages[m] = memhelpdesk.Message{ID: m, Ticket: x.ticket, Author: "admin", CreatedAt: day(x.day)}
			d.Attachments["f"+m] = memhelpdesk.Attachment{ID: "f" + m, Message: m, BlobKey: "files/" + m, CreatedAt: day(x.day)}
		}
	})
	hd.Update("other", func(d *memhelpdesk.Data) {
		d.Tickets["t-x"] = memhelpdesk.Ticket{ID: "t-x", Requester: "cy", CreatedAt: day(0)}
		d.Messages["mx"] = memhelpdesk.Message{ID: "mx", Ticket: "t-x", CreatedAt: day(3)}
		d.Attachments["fx"] = memhelpdesk.Attachment{ID: "fx", Message: "mx", CreatedAt: day(3)}
	})
	var dir erasure.Directory = hd
	if wrap != nil {
		dir = wrap(hd)
	}
	g, err := erasure.NewGraph(hd.Targets()...)
	require.NoError(t, err)
	ps, err := gdprkit.NewPseudonymizer(key)
	require.NoError(t, err)
	svc, err := erasure.New(erasure.Config{Store: memstore.New().Erasure(), Graph: g, Directory: dir, Pseudonymizer: ps,
		Clock: fakeclock.New(t0), BatchSize: 2})
	require.NoError(t, err)
	return svc, hd
}

func TestHoldersFindTheSubjectsWhoseRecordsWereCreatedInAPeriod(t *testing.T) {
	svc, hd := holdersWorld(t, nil)
	day := func(n int) time.Time { return t0.AddDate(0, 0, n) }
	for _, c := range []struct {
		name        string
		kind        erasure.Kind
		from, until time.Time
		want        []gdprkit.SubjectID
	}{
		{"files of days 2 to 3, bounds inclusive", erasure.KindAttachment, day(2), day(3), []gdprkit.SubjectID{"ana", "bob"}},
		{"files from day 4 on", erasure.KindAttachment, day(4), time.Time{}, []gdprkit.SubjectID{"bob", "cy"}},
		{"files up to day 1", erasure.KindAttachment, time.Time{}, day(1), []gdprkit.SubjectID{"ana"}},
		{"every file", erasure.KindAttachment, time.Time{}, time.Time{}, []gdprkit.SubjectID{"ana", "bob", "cy"}},
		{"a period with none", erasure.KindAttachment, day(20), day(30), []gdprkit.SubjectID{}},
		{"one instant before a file", erasure.KindAttachment, day(12).Add(-time.Nanosecond), day(12).Add(-time.Nanosecond), []gdprkit.SubjectID{}},
		{"messages", erasure.KindMessage, day(9), day(9), []gdprkit.SubjectID{"bob"}},
		{"tickets", erasure.KindTicket, day(0), day(0), []gdprkit.SubjectID{"ana", "bob", "cy"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := svc.Holders(ctx, "acme", c.kind, c.from, c.until)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
	got, err := svc.Holders(ctx, "other", erasure.KindAttachment, day(3), day(3))
	require.NoError(t, err)
	assert.Equal(t, []gdprkit.SubjectID{"cy"}, got, "each account sees only its own records")

	// Locate pages by ID in the target's order.
	ts := hd.Targets()
	var att erasure.Target
	for _, x := range ts {
		if x.Info().Kind == erasure.KindAttachment {
			att = x
		}
	}
	require.True(t, att.Info().Caps.Locate)
	var ids []string
	q := erasure.LocateQuery{From: day(1), Until: day(9), Limit: 2}
	for {
		refs, err := att.Locate(ctx, "acme", q)
		require.NoError(t, err)
		for _, r := range refs {
			ids = append(ids, r.ID)
		}
		if len(refs) < q.Limit {
			break
		}
		q.After = refs[len(refs)-1].Next()
	}
	assert.Equal(t, []string{"fm0", "fm1", "fm2", "fm3", "fm4", "fm6"}, ids)
}

func TestHoldersRefusesWhatItCannotAnswer(t *testing.T) {
	svc, _ := holdersWorld(t, nil)
	for name, k := range map[string]erasure.Kind{"unknown kind": "nope", "a kind that cannot locate": erasure.KindEndUser,
		"a root sharing records it cannot locate": erasure.KindAuthoredMessage} {
		_, err := svc.Holders(ctx, "acme", k, time.Time{}, time.Time{})
		assert.ErrorIs(t, err, gdprkit.ErrInvalid, name)
	}
	_, err := svc.Holders(ctx, "acme", erasure.KindAttachment, t0.AddDate(0, 0, 2), t0)
	assert.ErrorIs(t, err, gdprkit.ErrInvalid, "a period that ends before it begins")
	_, err = svc.Holders(ctx, "", erasure.KindAttachment, time.Time{}, time.Time{})
	assert.ErrorIs(t, err, gdprkit.ErrInvalid, "no account")
}

// keyedDirectory names people "person:<key>" while the helpdesk's rows
// name them by key, as a host with its own ID scheme does.
type keyedDirectory struct{ hd *memhelpdesk.Helpdesk }

func (k keyedDirectory) Lookup(ctx context.Context, a gdprkit.AccountID, id gdprkit.SubjectID) (erasure.Subject, error) {
	if len(id) < 7 || id[:7] != "person:" {
		return erasure.Subject{}, fmt.Errorf("%q: %w", id, gdprkit.ErrNotFound)
	}
	sub, err := k.hd.Lookup(ctx, a, id[7:])
	if err != nil {
		return sub, err
	}
	return erasure.Subject{ID: id, Role: sub.Role, Key: id[7:]}, nil
}

func (k keyedDirectory) Subjects(ctx context.Context, a gdprkit.AccountID, cursor string, limit int) ([]gdprkit.SubjectID, string, error) {
	ids, next, err := k.hd.Subjects(ctx, a, cursor, limit)
	for i := range ids {
		ids[i] = "person:" + ids[i]
	}
	return ids, next, err
}

func TestHoldersMapKeysToSubjectsThroughTheDirectory(t *testing.T) {
	svc, _ := holdersWorld(t, func(hd *memhelpdesk.Helpdesk) erasure.Directory { return keyedDirectory{hd} })
	got, err := svc.Holders(ctx, "acme", erasure.KindAttachment, time.Time{}, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, []gdprkit.SubjectID{"person:ana", "person:bob", "person:cy"}, got)
}
