package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
)

// seedAuthnRecords gives user n sessions, n API tokens (one revoked), n
// recovery codes, an active and a pending TOTP enrolment and three failure
// counters, and returns how many records that is by kind.
func seedAuthnRecords(t *testing.T, st authn.Store, a gdprkit.AccountID, user string, n int) authn.Counts {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, st.CreateUser(ctx, a, authnUser(user, user+".login")))
	require.NoError(t, st.PutPendingTOTP(ctx, a, totpRecord(user, user+"-e1", "k1")))
	require.NoError(t, st.ActivateTOTP(ctx, a, user, user+"-e1", 1))
	require.NoError(t, st.PutPendingTOTP(ctx, a, totpRecord(user, user+"-e2", "k1")))
	var codes [][]byte
	for i := range n {
		codes = append(codes, hash32(fmt.Sprintf("%s code %d", user, i)))
		require.NoError(t, st.CreateSession(ctx, a, authn.Session{ID: fmt.Sprintf("%s-s%02d", user, i), UserID: user, Hash: hash32(fmt.Sprintf("%s s%d", user, i)),
			CreatedAt: T0, LastSeenAt: T0, ExpiresAt: T0.Add(time.Hour)}))
		require.NoError(t, st.CreateToken(ctx, a, authn.APIToken{ID: fmt.Sprintf("%s-t%02d", user, i), UserID: user, Hash: hash32(fmt.Sprintf("%s t%d", user, i)),
			CreatedAt: T0.Add(time.Duration(i) * time.Second)}))
	}
	require.NoError(t, st.RevokeToken(ctx, a, user, user+"-t00", T0))
	require.NoError(t, st.ReplaceRecoveryCodes(ctx, a, user, codes, T0))
	for _, k := range []authn.ThrottleKey{{User: user, Factor: authn.FactorPassword}, {User: user, Factor: authn.FactorPassword, Client: "0123456789abcdef0123456789abcdef"},
		{User: user, Factor: authn.FactorTOTP}} {
		ok, err := st.SwapThrottle(ctx, a, k, 0, authn.Throttle{Failures: 1, Last: T0, PendingAt: T0, Version: 1})
		require.NoError(t, err)
		require.True(t, ok)
	}
	return authn.Counts{Users: 1, TOTP: 2, RecoveryCodes: n, Tokens: n, Sessions: n, Throttles: 3}
}

// countRefs counts refs by kind.
func countRefs(refs []authn.RecordRef) authn.Counts {
	var c authn.Counts
	for _, r := range refs {
		switch r.Kind {
		case authn.RecordUser:
			c.Users++
		case authn.RecordTOTP:
			c.TOTP++
		case authn.RecordRecovery:
			c.RecoveryCodes++
		case authn.RecordToken:
			c.Tokens++
		case authn.RecordSession:
			c.Sessions++
		case authn.RecordThrottle:
			c.Throttles++
		}
	}
	return c
}

// pageRecords reads every record of user, limit refs a page.
func pageRecords(t *testing.T, st authn.Store, a gdprkit.AccountID, user string, limit int) []authn.RecordRef {
	t.Helper()
	var all []authn.RecordRef
	var after authn.RecordRef
	for {
		page, err := st.UserRecords(context.Background(), a, user, after, limit)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), limit)
		all = append(all, page...)
		if len(page) < limit {
			return all
		}
		after = page[len(page)-1]
	}
}

func runAuthnRecords(t *testing.T, f func(*testing.T) authn.Store) {
	ctx := context.Background()

	t.Run("a user's records page one at a time, kind after kind", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		want := seedAuthnRecords(t, st, a, "u1", 12)
		seedAuthnRecords(t, st, a, "u2", 3)
		whole := pageRecords(t, st, a, "u1", 1000)
		assert.Equal(t, want, countRefs(whole), "one ref per stored record")
		counted, err := st.CountUser(ctx, a, "u1")
		require.NoError(t, err)
		assert.Equal(t, counted, countRefs(whole), "the same records CountUser counts")
		seen := map[authn.RecordRef]bool{}
		for i, r := range whole {
			require.NoError(t, r.Validate(), "%v", r)
			assert.False(t, seen[r], "listed twice: %v", r)
			seen[r] = true
			if i > 0 {
				assert.LessOrEqual(t, whole[i-1].Kind.Rank(), r.Kind.Rank(), "kinds come in the order of RecordKinds")
			}
		}
		assert.Equal(t, authn.RecordRef{Kind: authn.RecordUser, ID: "u1"}, whole[0], "the user record comes first")
		for _, limit := range []int{1, 2, 3, 5, 7} {
			assert.Equal(t, whole, pageRecords(t, st, a, "u1", limit), "pages of %d are the one listing, in its order", limit)
		}
		none, err := st.UserRecords(ctx, a, "nobody", authn.RecordRef{}, 10)
		require.NoError(t, err)
		assert.Empty(t, none)
		other, err := st.UserRecords(ctx, NewAccount(t), "u1", authn.RecordRef{}, 10)
		require.NoError(t, err)
		assert.Empty(t, other, "another account's user u1 has nothing")
		_, err = st.UserRecords(ctx, a, "u1", authn.RecordRef{Kind: "password", ID: "x"}, 10)
		assert.ErrorIs(t, err, gdprkit.ErrInvalid, "an unknown kind")
		_, err = st.UserRecords(ctx, a, "u1", authn.RecordRef{}, 0)
		assert.ErrorIs(t, err, gdprkit.ErrInvalid, "a limit below 1")
	})

	t.Run("paging continues after a record deleted meanwhile", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		want := seedAuthnRecords(t, st, a, "u1", 10)
		var after authn.RecordRef
		var found []authn.RecordRef
		for {
			page, err := st.UserRecords(ctx, a, "u1", after, 3)
			require.NoError(t, err)
			found = append(found, page...)
			if len(page) < 3 {
				break
			}
			after = page[len(page)-1]
			n, err := st.DeleteUserRecords(ctx, a, "u1", page)
			require.NoError(t, err)
			assert.Equal(t, 3, n.Total(), "a page is deleted, and only it")
		}
		assert.Equal(t, want, countRefs(found), "every record was found once")
	})

	t.Run("exactly the named records are deleted, and counted", func(t *testing.T) {
		t.Parallel()
		st, a := f(t), NewAccount(t)
		seedAuthnRecords(t, st, a, "u1", 9)
		bob := seedAuthnRecords(t, st, a, "u2", 4)
		whole := pageRecords(t, st, a, "u1", 1000)
		var odd, even []authn.RecordRef
		for i, r := range whole {
			if i%2 == 1 {
				odd = append(odd, r)
			} else {
				even = append(even, r)
			}
		}
		n, err := st.DeleteUserRecords(ctx, a, "u1", append(odd, odd[0])) // one named twice
		require.NoError(t, err)
		assert.Equal(t, countRefs(odd), n, "each named record, once")
		assert.Equal(t, even, pageRecords(t, st, a, "u1", 1000), "the others are all there")
		n, err = st.DeleteUserRecords(ctx, a, "u1", odd)
		require.NoError(t, err)
		assert.Zero(t, n, "deleting again changes nothing")
		// Refs name records among one user's: those of a counter (factor
		// and client) name the other user's counter of the same key;
		// every other ref names nothing of another user's.
		var keyed []authn.RecordRef
		for _, r := range even {
			if r.Kind != authn.RecordThrottle {
				keyed = append(keyed, r)
			}
		}
		n, err = st.DeleteUserRecords(ctx, a, "u2", keyed)
		require.NoError(t, err)
		assert.Zero(t, n, "one user's refs name nothing of another's")
		n, err = st.DeleteUserRecords(ctx, NewAccount(t), "u1", even)
		require.NoError(t, err)
		assert.Zero(t, n, "nor in another account")
		n, err = st.DeleteUserRecords(ctx, a, "u1", []authn.RecordRef{{Kind: "password", ID: "u1"}, {Kind: authn.RecordRecovery, ID: "zz"},
			{Kind: authn.RecordThrottle, ID: "no-slash"}})
		require.NoError(t, err)
		assert.Zero(t, n, "refs that cannot name a record count zero")
		left, err := st.CountUser(ctx, a, "u2")
		require.NoError(t, err)
		assert.Equal(t, bob, left, "the other user keeps everything")

		require.Equal(t, authn.RecordRef{Kind: authn.RecordUser, ID: "u1"}, even[0])
		n, err = st.DeleteUserRecords(ctx, a, "u1", even[:1])
		require.NoError(t, err)
		assert.Equal(t, authn.Counts{Users: 1}, n)
		_, err = st.User(ctx, a, "u1")
		assert.ErrorIs(t, err, gdprkit.ErrNotFound)
		_, err = st.UserByUsername(ctx, a, "u1.login")
		assert.ErrorIs(t, err, gdprkit.ErrNotFound, "the username is free again")
		assert.Equal(t, even[1:], pageRecords(t, st, a, "u1", 1000), "the user's other records stay")
		n, err = st.DeleteUserRecords(ctx, a, "u1", even)
		require.NoError(t, err)
		assert.Equal(t, countRefs(even[1:]), n)
		left, err = st.CountUser(ctx, a, "u1")
		require.NoError(t, err)
		assert.Zero(t, left.Total(), "nothing of the user is left")
	})
}
