package staffaccess_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/fakeclock"
	"github.com/gdprkit/gdprkit/staffaccess"
	"github.com/gdprkit/gdprkit/store/memstore"
)

var (
	ctx   = context.Background()
	t0    = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	owner = staffaccess.Actor{ID: "owner-1", Role: gdprkit.RoleOwner}
	admin = staffaccess.Actor{ID: "admin-1", Role: gdprkit.RoleAdmin}
	agent = staffaccess.Actor{ID: "agent-1", Role: gdprkit.RoleAgent}
)

func newService(t *testing.T) (*staffaccess.Service, *fakeclock.Clock, staffaccess.Store, *gdprkit.MemoryAudit) {
	t.Helper()
	clock := fakeclock.New(t0)
	st := memstore.New().StaffAccess()
	audit := &gdprkit.MemoryAudit{}
	svc, err := staffaccess.New(staffaccess.Config{Store: st, Clock: clock, Audit: audit})
	require.NoError(t, err)
	return svc, clock, st, audit
}

func request(t *testing.T, svc *staffaccess.Service, account gdprkit.AccountID) staffaccess.Grant {
	t.Helper()
	g, err := svc.Request(ctx, account, staffaccess.Request{Staff: "vendor:eva", Purpose: "Ticket #4411: imports fail", Until: t0.Add(48 * time.Hour), By: "vendor:lead"})
	require.NoError(t, err)
	return g
}

func TestRequestValidatesInput(t *testing.T) {
	svc, _, _, _ := newService(t)
	for name, r := range map[string]staffaccess.Request{
		"no staff":           {Purpose: "x", Until: t0.Add(time.Hour)},
		"no purpose":         {Staff: "vendor:eva", Until: t0.Add(time.Hour)},
		"ends in the past":   {Staff: "vendor:eva", Purpose: "x", Until: t0},
		"longer than 30 day": {Staff: "vendor:eva", Purpose: "x", Until: t0.Add(31 * 24 * time.Hour)},
		"control character":  {Staff: "vendor:eva", Purpose: "a\x07", Until: t0.Add(time.Hour)},
	} {
		_, err := svc.Request(ctx, "acme", r)
		require.ErrorIs(t, err, gdprkit.ErrInvalid, name)
	}
	gs, err := svc.Grants(ctx, "acme")
	require.NoError(t, err)
	assert.Empty(t, gs, "nothing stored")
}

func TestOnlyOwnerOrAdminDecides(t *testing.T) {
	svc, _, _, _ := newService(t)
	g := request(t, svc, "acme")
	_, err := svc.Approve(ctx, "acme", g.ID, agent, "")
	require.ErrorIs(t, err, gdprkit.ErrForbidden, "an agent cannot approve")
	_, err = svc.Approve(ctx, "acme", g.ID, staffaccess.Actor{ID: "vendor:lead", Role: gdprkit.RoleAdmin}, "")
	require.ErrorIs(t, err, gdprkit.ErrForbidden, "the vendor cannot approve its own request")
	_, err = svc.Approve(ctx, "globex", g.ID, admin, "")
	require.ErrorIs(t, err, gdprkit.ErrNotFound, "another account cannot approve it")
	a, err := svc.Approve(ctx, "acme", g.ID, admin, "ok for two days")
	require.NoError(t, err)
	assert.Equal(t, staffaccess.StatusApproved, a.Status)
	assert.Equal(t, gdprkit.ActorID("admin-1"), a.DecidedBy)
	assert.Equal(t, "admin", a.DecidedRole)
	_, err = svc.Refuse(ctx, "acme", g.ID, owner, "changed my mind")
	require.ErrorIs(t, err, gdprkit.ErrConflict, "decided once")

	g2 := request(t, svc, "acme")
	r, err := svc.Refuse(ctx, "acme", g2.ID, owner, "not needed")
	require.NoError(t, err)
	assert.Equal(t, staffaccess.StatusRefused, r.Status)
}

func TestAccessNeedsALiveGrantAndIsRecorded(t *testing.T) {
	svc, clock, _, audit := newService(t)
	_, err := svc.Access(ctx, "acme", "vendor:eva", "GET /tickets/1")
	require.ErrorIs(t, err, staffaccess.ErrNoGrant)
	require.ErrorIs(t, err, gdprkit.ErrForbidden)

	g := request(t, svc, "acme")
	_, err = svc.Access(ctx, "acme", "vendor:eva", "GET /tickets/1")
	require.ErrorIs(t, err, gdprkit.ErrForbidden, "requested is not approved")
	_, err = svc.Approve(ctx, "acme", g.ID, owner, "")
	require.NoError(t, err)

	e, err := svc.Access(ctx, "acme", "vendor:eva", "GET /tickets/1")
	require.NoError(t, err)
	assert.Equal(t, staffaccess.EntryAccess, e.Type)
	assert.Equal(t, g.ID, e.Grant)
	_, err = svc.Access(ctx, "acme", "vendor:max", "GET /tickets/1")
	require.ErrorIs(t, err, gdprkit.ErrForbidden, "the grant is for eva only")
	_, err = svc.Access(ctx, "globex", "vendor:eva", "GET /tickets/1")
	require.ErrorIs(t, err, gdprkit.ErrForbidden, "and for acme only")
	c, err := svc.Check(ctx, "acme", "vendor:eva")
	require.NoError(t, err)
	assert.Equal(t, g.ID, c.ID)

	clock.Set(g.Until) // expires by itself
	_, err = svc.Access(ctx, "acme", "vendor:eva", "GET /tickets/2")
	require.ErrorIs(t, err, gdprkit.ErrForbidden, "expired")
	_, err = svc.Check(ctx, "acme", "vendor:eva")
	require.ErrorIs(t, err, staffaccess.ErrNoGrant)
	assert.Len(t, audit.OfType(staffaccess.EventDenied), 5, "every refused Access, not Check")

	tr, err := svc.Trail(ctx, "acme", staffaccess.TrailQuery{})
	require.NoError(t, err)
	require.True(t, tr.Verification.OK, tr.Verification.Problem)
	require.Len(t, tr.Accesses, 1)
	a := tr.Accesses[0]
	assert.Equal(t, gdprkit.ActorID("vendor:eva"), a.Staff)
	assert.Equal(t, "GET /tickets/1", a.What)
	assert.Equal(t, gdprkit.ActorID("owner-1"), a.ApprovedBy)
	assert.Equal(t, "owner", a.ApprovedRole)
	assert.Equal(t, "Ticket #4411: imports fail", a.Purpose)
	require.Len(t, tr.Grants, 1)
	assert.Equal(t, staffaccess.StatusExpired, tr.Grants[0].Status)
	assert.EqualValues(t, 3, tr.Verification.Entries, "requested, approved, one access")
}

func TestRevokeStopsAccessAtOnce(t *testing.T) {
	svc, _, _, _ := newService(t)
	g := request(t, svc, "acme")
	_, err := svc.Approve(ctx, "acme", g.ID, owner, "")
	require.NoError(t, err)
	_, err = svc.Revoke(ctx, "acme", g.ID, agent)
	require.ErrorIs(t, err, gdprkit.ErrForbidden, "an agent cannot revoke")
	_, err = svc.Access(ctx, "acme", "vendor:eva", "GET /a")
	require.NoError(t, err)
	r, err := svc.Revoke(ctx, "acme", g.ID, staffaccess.Actor{ID: "vendor:eva"})
	require.NoError(t, err, "the vendor may give up its own grant")
	assert.Equal(t, staffaccess.StatusRevoked, r.Status)
	_, err = svc.Access(ctx, "acme", "vendor:eva", "GET /b")
	require.ErrorIs(t, err, gdprkit.ErrForbidden)
	_, err = svc.Revoke(ctx, "acme", g.ID, owner)
	require.ErrorIs(t, err, gdprkit.ErrConflict, "already revoked")
}

func TestTrailFilters(t *testing.T) {
	svc, clock, _, _ := newService(t)
	g := request(t, svc, "acme")
	_, err := svc.Approve(ctx, "acme", g.ID, owner, "")
	require.NoError(t, err)
	for i := range 3 {
		clock.Advance(time.Hour)
		_, err := svc.Access(ctx, "acme", "vendor:eva", "GET /t/"+string(rune('a'+i)))
		require.NoError(t, err)
	}
	tr, err := svc.Trail(ctx, "acme", staffaccess.TrailQuery{Since: t0.Add(2 * time.Hour), Until: t0.Add(3 * time.Hour)})
	require.NoError(t, err)
	require.Len(t, tr.Accesses, 1)
	assert.Equal(t, "GET /t/b", tr.Accesses[0].What)
	tr, err = svc.Trail(ctx, "acme", staffaccess.TrailQuery{Staff: "vendor:max"})
	require.NoError(t, err)
	assert.Empty(t, tr.Accesses)
	assert.NotNil(t, tr.Accesses, "an empty list, not null, in JSON")
}

func TestMiddleware(t *testing.T) {
	svc, _, _, _ := newService(t)
	h := svc.Middleware(staffaccess.HTTP{
		Staff: func(r *http.Request) (gdprkit.ActorID, bool) {
			s := r.Header.Get("X-Staff")
			return gdprkit.ActorID(s), s != ""
		},
		Account: func(r *http.Request) (gdprkit.AccountID, bool) {
			a := r.URL.Query().Get("account")
			return gdprkit.AccountID(a), a != ""
		},
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, ok := staffaccess.AccessFrom(r.Context())
		if !ok {
			http.Error(w, "no entry", 500)
			return
		}
		w.Write([]byte("seen under " + e.Grant))
	}))
	do := func(staff, account string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/support/tickets?account="+account, nil)
		if staff != "" {
			r.Header.Set("X-Staff", staff)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	assert.Equal(t, http.StatusUnauthorized, do("", "acme").Code)
	assert.Equal(t, http.StatusBadRequest, do("vendor:eva", "").Code)
	w := do("vendor:eva", "acme")
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Contains(t, w.Body.String(), "no live support access grant")
	assert.Equal(t, http.StatusBadRequest, do("vendor:eva", "acme%20").Code, "a padded account is bad input")

	g := request(t, svc, "acme")
	_, err := svc.Approve(ctx, "acme", g.ID, admin, "")
	require.NoError(t, err)
	w = do("vendor:eva", "acme")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.True(t, strings.HasSuffix(w.Body.String(), g.ID))
	tr, err := svc.Trail(ctx, "acme", staffaccess.TrailQuery{})
	require.NoError(t, err)
	require.Len(t, tr.Accesses, 1)
	assert.Equal(t, "GET /support/tickets", tr.Accesses[0].What)

	assert.Panics(t, func() { svc.Middleware(staffaccess.HTTP{}) })
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := staffaccess.New(staffaccess.Config{})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	_, err = staffaccess.New(staffaccess.Config{Store: memstore.New().StaffAccess(), MaxDuration: -1})
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
}
