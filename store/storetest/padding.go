package storetest

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/spam"
)

// Padded IDs (issue #15, finding 1). A store compares IDs byte for byte:
// "acme " is not a spelling of "acme", and "u1 " is not "u1". MySQL's
// utf8mb4_bin, a PAD SPACE collation, compared them equal, so "<victim> "
// read and changed the victim's data in every store. Each domain's suite
// calls its padded* function below with one line; the cases share these
// helpers.

// padded returns spellings of id that differ from it only by white space
// at an end: what a PAD SPACE collation or a trimming layer would take for
// id.
func padded(id string) []string {
	return []string{id + " ", id + "   ", " " + id, id + "\u00a0", id + "\t"}
}

// paddedAccounts is padded for account IDs.
func paddedAccounts(a gdprkit.AccountID) []gdprkit.AccountID {
	var out []gdprkit.AccountID
	for _, p := range padded(string(a)) {
		out = append(out, gdprkit.AccountID(p))
	}
	return out
}

// paddedOp is one store call made with a padded spelling pa of the
// victim's account. It reports whether the call returned any of the
// victim's data.
type paddedOp func(ctx context.Context, pa gdprkit.AccountID) (leaked bool, err error)

// isolatePaddedAccount runs every op with every padded spelling of a. Each
// must either be refused (gdprkit.ErrInvalid: SQL stores validate every
// account ID) or act on an account of its own, which holds nothing of a's
// (ErrNotFound, ErrConflict, or success without a's data). The caller then
// checks that a's data is unchanged.
func isolatePaddedAccount(t *testing.T, a gdprkit.AccountID, ops map[string]paddedOp) {
	t.Helper()
	ctx := context.Background()
	for _, pa := range paddedAccounts(a) {
		for name, op := range ops {
			leaked, err := op(ctx, pa)
			if err != nil && !errors.Is(err, gdprkit.ErrInvalid) && !errors.Is(err, gdprkit.ErrNotFound) && !errors.Is(err, gdprkit.ErrConflict) {
				t.Errorf("%s with account %q: %v", name, pa, err)
			}
			assert.False(t, leaked, "%s with account %q returned the data of account %q", name, pa, a)
		}
	}
}

// write adapts a call that returns only an error to a paddedOp.
func write(err error) (bool, error) { return false, err }

// distinctOrRefused passes when err is nil (the store kept the padded ID as
// an ID of its own) or wraps gdprkit.ErrInvalid (it refused it); a conflict
// would mean the store took it for the unpadded ID.
func distinctOrRefused(t *testing.T, err error, what string) bool {
	t.Helper()
	if err != nil && !errors.Is(err, gdprkit.ErrInvalid) {
		t.Errorf("%s: %v; want success (a distinct ID) or ErrInvalid", what, err)
		return false
	}
	return err == nil
}

// notFoundOrRefused passes when err wraps gdprkit.ErrNotFound or
// gdprkit.ErrInvalid: a padded ID finds nothing.
func notFoundOrRefused(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, gdprkit.ErrNotFound) && !errors.Is(err, gdprkit.ErrInvalid) {
		t.Errorf("%s: %v; want ErrNotFound or ErrInvalid", what, err)
	}
}

func paddedAuthn(t *testing.T, st authn.Store) {
	ctx := context.Background()
	a := NewAccount(t)
	victim := authnUser("u1", "alice")
	require.NoError(t, st.CreateUser(ctx, a, victim))
	sess := authn.Session{ID: "s1", UserID: "u1", Hash: hash32("s1"), CreatedAt: T0, LastSeenAt: T0, ExpiresAt: T0.Add(time.Hour)}
	require.NoError(t, st.CreateSession(ctx, a, sess))
	require.NoError(t, st.CreateToken(ctx, a, authn.APIToken{ID: "t1", UserID: "u1", Hash: hash32("t1"), CreatedAt: T0}))
	intact := func() {
		t.Helper()
		u, err := st.User(ctx, a, "u1")
		require.NoError(t, err, "the victim still exists")
		assert.Equal(t, victim.PasswordHash, u.PasswordHash, "the victim's password is unchanged")
		assert.False(t, u.Disabled)
		ss, err := st.Sessions(ctx, a, "u1")
		require.NoError(t, err)
		assert.Len(t, ss, 1, "the victim's session survives")
		tok, err := st.TokenByHash(ctx, a, hash32("t1"))
		require.NoError(t, err)
		assert.True(t, tok.RevokedAt.IsZero(), "the victim's token is not revoked")
	}

	isolatePaddedAccount(t, a, map[string]paddedOp{
		"User": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			_, err := st.User(ctx, pa, "u1")
			return err == nil, err
		},
		"UserByUsername": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			_, err := st.UserByUsername(ctx, pa, "alice")
			return err == nil, err
		},
		"SessionByHash": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			_, err := st.SessionByHash(ctx, pa, hash32("s1"))
			return err == nil, err
		},
		"TokenByHash": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			_, err := st.TokenByHash(ctx, pa, hash32("t1"))
			return err == nil, err
		},
		"Sessions": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			ss, err := st.Sessions(ctx, pa, "u1")
			return len(ss) > 0, err
		},
		"CountUser": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			c, err := st.CountUser(ctx, pa, "u1")
			return c.Total() > 0, err
		},
		"SetPassword": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			return write(st.SetPassword(ctx, pa, "u1", "$argon2id$mallory", T0))
		},
		"SetUserDisabled": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			return write(st.SetUserDisabled(ctx, pa, "u1", true))
		},
		"DeleteSession": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			return write(st.DeleteSession(ctx, pa, "u1", "s1"))
		},
		"RevokeUser": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			c, err := st.RevokeUser(ctx, pa, "u1", T0)
			return c.Total() > 0, err
		},
		"RevokeAccount": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			c, err := st.RevokeAccount(ctx, pa, T0)
			return c.Total() > 0, err
		},
		"DeleteUser": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			c, err := st.DeleteUser(ctx, pa, "u1")
			return c.Total() > 0, err
		},
		"DeleteAccount": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			c, err := st.DeleteAccount(ctx, pa)
			return c.Total() > 0, err
		},
		"UserRecords": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			rs, err := st.UserRecords(ctx, pa, "u1", authn.RecordRef{}, 10)
			return len(rs) > 0, err
		},
		"DeleteUserRecords": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			c, err := st.DeleteUserRecords(ctx, pa, "u1", []authn.RecordRef{{Kind: authn.RecordUser, ID: "u1"},
				{Kind: authn.RecordSession, ID: "s1"}, {Kind: authn.RecordToken, ID: "t1"}})
			return c.Total() > 0, err
		},
	})
	intact()

	for _, id := range padded("u1") {
		_, err := st.User(ctx, a, id)
		notFoundOrRefused(t, err, "User "+id)
		n, err := st.CountUser(ctx, a, id)
		if err == nil {
			assert.Zero(t, n.Total(), "CountUser %q counts nothing of u1", id)
		}
		c, err := st.RevokeUser(ctx, a, id, T0)
		if err == nil {
			assert.Zero(t, c.Total(), "RevokeUser %q revokes nothing of u1", id)
		}
		notFoundOrRefused(t, st.DeleteSession(ctx, a, id, "s1"), "DeleteSession of u1's session as "+id)
		notFoundOrRefused(t, st.SetUserDisabled(ctx, a, id, true), "SetUserDisabled "+id)
		rs, err := st.UserRecords(ctx, a, id, authn.RecordRef{}, 10)
		if err == nil {
			assert.Empty(t, rs, "UserRecords %q lists nothing of u1", id)
		}
		c, err = st.DeleteUserRecords(ctx, a, id, []authn.RecordRef{{Kind: authn.RecordUser, ID: "u1"}, {Kind: authn.RecordUser, ID: id},
			{Kind: authn.RecordSession, ID: "s1"}, {Kind: authn.RecordToken, ID: "t1"}})
		if err == nil {
			assert.Zero(t, c.Total(), "DeleteUserRecords %q deletes nothing of u1", id)
		}
	}
	for _, id := range padded("s1") {
		c, err := st.DeleteUserRecords(ctx, a, "u1", []authn.RecordRef{{Kind: authn.RecordSession, ID: id}})
		if err == nil {
			assert.Zero(t, c.Sessions, "DeleteUserRecords of session %q deletes nothing", id)
		}
	}
	for _, name := range padded("alice") {
		_, err := st.UserByUsername(ctx, a, name)
		notFoundOrRefused(t, err, "UserByUsername "+name)
	}
	// A padded ID is an ID of its own: creating, changing and deleting it
	// leaves u1 alone.
	if distinctOrRefused(t, st.CreateUser(ctx, a, authnUser("u1 ", "alice ")), `CreateUser("u1 ", "alice ")`) {
		require.NoError(t, st.SetPassword(ctx, a, "u1 ", "$argon2id$mallory", T0))
		c, err := st.DeleteUser(ctx, a, "u1 ")
		require.NoError(t, err)
		assert.Equal(t, 1, c.Users, "DeleteUser(\"u1 \") deletes only the padded user")
		assert.Zero(t, c.Sessions+c.Tokens, "and none of u1's sessions or tokens")
	}
	intact()
}

func paddedConsent(t *testing.T, st consent.Store) {
	ctx := context.Background()
	a := NewAccount(t)
	require.NoError(t, st.CreatePurpose(ctx, a, consent.Purpose{Key: "chat", Name: "Chat", Label: "I agree", CreatedAt: T0}))
	intact := func() {
		t.Helper()
		p, err := st.Purpose(ctx, a, "chat")
		require.NoError(t, err)
		assert.Equal(t, "Chat", p.Name, "the victim's purpose is unchanged")
		ps, err := st.Purposes(ctx, a)
		require.NoError(t, err)
		n := 0
		for _, p := range ps {
			if p.Key == "chat" {
				n++
			}
		}
		assert.Equal(t, 1, n)
	}
	isolatePaddedAccount(t, a, map[string]paddedOp{
		"Purpose": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			_, err := st.Purpose(ctx, pa, "chat")
			return err == nil, err
		},
		"Purposes": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			ps, err := st.Purposes(ctx, pa)
			return len(ps) > 0, err
		},
		"PublishPolicy": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			_, err := st.PublishPolicy(ctx, pa, consent.Policy{Purpose: "chat", Text: "mallory", PublishedAt: T0, PublishedBy: "m"})
			return false, err
		},
		"Head": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			h, err := st.Head(ctx, pa)
			return h.Seq > 0, err
		},
		"DeleteAccount": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			_, err := st.DeleteAccount(ctx, pa)
			return false, err
		},
	})
	intact()
	for _, k := range padded("chat") {
		_, err := st.Purpose(ctx, a, k)
		notFoundOrRefused(t, err, "Purpose "+k)
	}
	distinctOrRefused(t, st.CreatePurpose(ctx, a, consent.Purpose{Key: "chat ", Name: "Mallory", Label: "x", CreatedAt: T0}), `CreatePurpose("chat ")`)
	intact()
}

func paddedErasure(t *testing.T, st erasure.Store) {
	ctx := context.Background()
	a := NewAccount(t)
	r, j := erRequest(a, "ana", erFuture, true, false)
	require.NoError(t, st.CreateRequest(ctx, a, r, j))
	h := erasure.Hold{ID: "h1", SubjectPS: "ps_ana", Ground: "Art. 17(3)(e)", Reason: "dispute", CreatedBy: "admin", CreatedAt: T0}
	require.NoError(t, st.PutHold(ctx, a, h))
	intact := func() {
		t.Helper()
		got, err := st.Request(ctx, a, r.ID)
		require.NoError(t, err)
		assert.Equal(t, erasure.StatusOpen, got.Status, "the victim's request is still open")
		assert.Equal(t, r.Subject, got.Subject)
		hs, err := st.Holds(ctx, a)
		require.NoError(t, err)
		require.Len(t, hs, 1)
		assert.True(t, hs[0].ReleasedAt.IsZero(), "the victim's legal hold is not released")
	}
	isolatePaddedAccount(t, a, map[string]paddedOp{
		"Request": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			_, err := st.Request(ctx, pa, r.ID)
			return err == nil, err
		},
		"Holds": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			hs, err := st.Holds(ctx, pa)
			return len(hs) > 0, err
		},
		"ReleaseHold": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			return write(st.ReleaseHold(ctx, pa, "h1", T0))
		},
		"CloseRequest": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			return write(st.CloseRequest(ctx, pa, r.ID, erasure.StatusCancelled, T0))
		},
		"ScrubAccount": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			n, err := st.ScrubAccount(ctx, pa, T0)
			return n > 0, err
		},
	})
	intact()
	for _, id := range padded(r.ID) {
		_, err := st.Request(ctx, a, id)
		notFoundOrRefused(t, err, "Request "+id)
	}
	for _, id := range padded("h1") {
		notFoundOrRefused(t, st.ReleaseHold(ctx, a, id, T0), "ReleaseHold "+id)
	}
	intact()
}

func paddedRetention(t *testing.T, st retention.Store) {
	ctx := context.Background()
	a := NewAccount(t)
	rec := retention.Record{Account: a, State: retention.StateActive, Since: T0, Version: 1, Created: T0, Updated: T0}
	tr := retention.TransitionRecord{ID: gdprkit.NewID(), Account: a, Seq: 1, To: retention.StateActive,
		Cause: retention.Cause{Kind: retention.CauseEvent, Name: "start_paid"}, Actor: "o", At: T0, Recorded: T0, Policy: "p"}
	require.NoError(t, st.CreateRecord(ctx, a, rec, tr))
	rule := retention.TrashedTickets(30)
	rule.ID, rule.Account, rule.Created = "r1", a, T0
	require.NoError(t, st.CreateRule(ctx, a, rule))
	intact := func() {
		t.Helper()
		got, err := st.Record(ctx, a)
		require.NoError(t, err)
		assert.Equal(t, retention.StateActive, got.State, "the victim is not suspended")
		assert.Equal(t, int64(1), got.Version)
		_, err = st.Rule(ctx, a, "r1")
		require.NoError(t, err, "the victim's rule survives")
	}
	suspended := rec
	suspended.State, suspended.Version = retention.StateSuspended, 2
	isolatePaddedAccount(t, a, map[string]paddedOp{
		"Record": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			_, err := st.Record(ctx, pa)
			return err == nil, err
		},
		"Rules": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			rs, err := st.Rules(ctx, pa)
			return len(rs) > 0, err
		},
		"SaveRecord": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			s := suspended
			s.Account = pa
			return write(st.SaveRecord(ctx, pa, 1, s, nil))
		},
		"DeleteRule": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			return write(st.DeleteRule(ctx, pa, "r1"))
		},
	})
	intact()
	for _, id := range padded("r1") {
		_, err := st.Rule(ctx, a, id)
		notFoundOrRefused(t, err, "Rule "+id)
		notFoundOrRefused(t, st.DeleteRule(ctx, a, id), "DeleteRule "+id)
	}
	intact()
}

func paddedSpam(t *testing.T, st spam.Store) {
	ctx := context.Background()
	a := NewAccount(t)
	b := spam.Batch{Ham: 1, Tokens: []spam.TokenCount{{Hash: 7, Ham: 1, Day: 100}}, Lessons: []spam.LessonChange{{Key: 9, Next: spam.Ham, Day: 100}}}
	require.NoError(t, st.Learn(ctx, a, b))
	intact := func() {
		t.Helper()
		snap, err := st.LoadModel(ctx, a)
		require.NoError(t, err)
		assert.Equal(t, int64(1), snap.Ham, "the victim's model is not overwritten")
		assert.Zero(t, snap.Spam)
		assert.Len(t, snap.Tokens, 1)
	}
	poison := spam.Batch{Spam: 1000, Tokens: []spam.TokenCount{{Hash: 7, Spam: 1000, Day: 100}}, Lessons: []spam.LessonChange{{Key: 9, Prev: spam.Ham, Next: spam.Spam, Day: 100}}}
	isolatePaddedAccount(t, a, map[string]paddedOp{
		"LoadModel": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			snap, err := st.LoadModel(ctx, pa)
			return snap.Ham > 0 || len(snap.Tokens) > 0, err
		},
		"Lessons": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			ls, err := st.Lessons(ctx, pa, []uint64{9})
			return len(ls) > 0, err
		},
		"Learn": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			return write(st.Learn(ctx, pa, poison))
		},
		"DeleteTokens": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			n, err := st.DeleteTokens(ctx, pa, []uint64{7})
			return n > 0, err
		},
		"Reset": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			return write(st.Reset(ctx, pa))
		},
	})
	intact()
}

func paddedIPFilter(t *testing.T, st ipfilter.Store) {
	ctx := context.Background()
	a := NewAccount(t)
	office := ipfilter.Entry{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Note: "office", AddedBy: "admin", AddedAt: T0}
	everyone := []ipfilter.Entry{{Prefix: netip.MustParsePrefix("0.0.0.0/0"), AddedBy: "mallory", AddedAt: T0}}
	v, err := st.ReplaceRules(ctx, a, ipfilter.SurfaceRules{Surface: gdprkit.SurfaceAgentPanel, Allow: []ipfilter.Entry{office}}, 0)
	require.NoError(t, err)
	intact := func() {
		t.Helper()
		rs, err := st.Rules(ctx, a)
		require.NoError(t, err)
		allow := rs.Surface(gdprkit.SurfaceAgentPanel).Allow
		require.Len(t, allow, 1, "the victim's allow list is not replaced")
		assert.Equal(t, office.Prefix, allow[0].Prefix)
	}
	isolatePaddedAccount(t, a, map[string]paddedOp{
		"Rules": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			rs, err := st.Rules(ctx, pa)
			return len(rs.Surfaces) > 0, err
		},
		"Version": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			n, err := st.Version(ctx, pa)
			return n > 0, err
		},
		"ReplaceRules": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			_, err := st.ReplaceRules(ctx, pa, ipfilter.SurfaceRules{Surface: gdprkit.SurfaceAgentPanel, Allow: everyone}, v)
			return false, err
		},
		"DeleteAccount": func(ctx context.Context, pa gdprkit.AccountID) (bool, error) {
			_, err := st.DeleteAccount(ctx, pa)
			return false, err
		},
	})
	intact()
	// A padded surface is another surface (or refused), never this one.
	for _, s := range padded(string(gdprkit.SurfaceAgentPanel)) {
		cur, err := st.Version(ctx, a)
		require.NoError(t, err)
		_, err = st.ReplaceRules(ctx, a, ipfilter.SurfaceRules{Surface: gdprkit.Surface(s), Allow: everyone}, cur)
		distinctOrRefused(t, err, "ReplaceRules on surface "+s)
	}
	intact()
}
