package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/breach"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/staffaccess"
)

// runUnavailable checks, for one domain's store S, the promise every store
// makes to its callers (#25): when the request's context has ended, a call
// changes nothing and fails with an error wrapping gdprkit.ErrUnavailable —
// never "not found", "invalid" or a conflict that the caller would act on.
// domain names the store in messages and in validInput's keys; changes,
// when not nil, makes one write with the ended context and checks with the
// live one that nothing changed.
func runUnavailable[S any](t *testing.T, domain string, f func(*testing.T) S, changes func(t *testing.T, st S, ended, live context.Context, a gdprkit.AccountID)) {
	t.Run("every method fails with ErrUnavailable once the context ended", func(t *testing.T) {
		t.Parallel()
		st := f(t)
		acct := NewAccount(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		dt := reflect.TypeFor[S]() // the domain's store interface
		sv := reflect.ValueOf(st)
		for j := 0; j < dt.NumMethod(); j++ {
			m := dt.Method(j)
			name := domain + "." + m.Name
			in := make([]reflect.Value, m.Type.NumIn())
			for k := range in {
				in[k] = sample(m.Type.In(k), ctx, acct, 0)
			}
			if fix := validInput[name]; fix != nil {
				fix(in)
			}
			out := sv.MethodByName(m.Name).Call(in)
			err, _ := out[len(out)-1].Interface().(error)
			if assert.Error(t, err, name) {
				assert.ErrorIs(t, err, gdprkit.ErrUnavailable, "%s: %v", name, err)
				assert.True(t, errors.Is(err, context.Canceled), "%s: the cause stays visible: %v", name, err)
			}
		}
	})

	if changes == nil {
		return
	}
	t.Run("a write with an ended context changes nothing", func(t *testing.T) {
		t.Parallel()
		live := context.Background()
		ended, cancel := context.WithCancel(live)
		cancel()
		changes(t, f(t), ended, live, NewAccount(t))
	})
}

// unavailable fails the test unless err wraps gdprkit.ErrUnavailable.
func unavailable(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, gdprkit.ErrUnavailable)
}

// The per-domain writes with an ended context for runUnavailable.

func endedConsent(t *testing.T, st consent.Store, ended, live context.Context, a gdprkit.AccountID) {
	unavailable(t, st.CreatePurpose(ended, a, consent.Purpose{Key: "chat", Name: "Chat", CreatedAt: T0}))
	ps, err := st.Purposes(live, a)
	require.NoError(t, err)
	assert.Empty(t, ps)
}

func endedAuthn(t *testing.T, st authn.Store, ended, live context.Context, a gdprkit.AccountID) {
	unavailable(t, st.CreateUser(ended, a, authn.User{ID: "u1", Username: "ana", PasswordHash: "x", CreatedAt: T0, PasswordChangedAt: T0}))
	_, err := st.User(live, a, "u1")
	assert.ErrorIs(t, err, gdprkit.ErrNotFound)
}

func endedIPFilter(t *testing.T, st ipfilter.Store, ended, live context.Context, a gdprkit.AccountID) {
	_, err := st.ReplaceRules(ended, a, ipfilter.SurfaceRules{Surface: gdprkit.SurfaceAPI}, 0)
	unavailable(t, err)
	v, err := st.Version(live, a)
	require.NoError(t, err)
	assert.Zero(t, v)
}

func endedSpam(t *testing.T, st spam.Store, ended, live context.Context, a gdprkit.AccountID) {
	unavailable(t, st.Learn(ended, a, spam.Batch{Ham: 1, Tokens: []spam.TokenCount{{Hash: 7, Ham: 1}}}))
	snap, err := st.LoadModel(live, a)
	require.NoError(t, err)
	assert.Zero(t, snap.Ham)
	assert.Empty(t, snap.Tokens)
}

func endedRetention(t *testing.T, st retention.Store, ended, live context.Context, a gdprkit.AccountID) {
	unavailable(t, st.CreateRule(ended, a, retention.Rule{ID: "r1", Account: a, Name: "trash", Created: T0}))
	rules, err := st.Rules(live, a)
	require.NoError(t, err)
	assert.Empty(t, rules)
}

func endedErasure(t *testing.T, st erasure.Store, ended, live context.Context, a gdprkit.AccountID) {
	unavailable(t, st.PutHold(ended, a, erasure.Hold{ID: "h1", Kind: "ticket", RecordID: "t1", Ground: "Art. 17(3)(e)", CreatedBy: "admin", CreatedAt: T0}))
	holds, err := st.Holds(live, a)
	require.NoError(t, err)
	assert.Empty(t, holds)
}

// validInput adjusts sampled arguments that would otherwise be refused as
// invalid before the store is reached (which would be right, and prove
// nothing about an ended context).
var validInput = map[string]func(in []reflect.Value){
	// the record must be at version expect+1
	"Retention.SaveRecord":        func(in []reflect.Value) { in[3].FieldByName("Version").SetInt(in[2].Int() + 1) },
	"Retention.UpdateRule":        func(in []reflect.Value) { in[3].FieldByName("Version").SetInt(in[2].Int() + 1) },
	"Retention.SaveScheduleState": func(in []reflect.Value) { in[3].FieldByName("Version").SetInt(in[2].Int() + 1) },
	"Retention.BeginBatch":        func(in []reflect.Value) { in[2].FieldByName("State").SetString(string(retention.BatchPending)) },
}

// sample returns a plausible, non-empty value of type t for a store call:
// the ended context, the test's account, "x" for strings, 1 for numbers,
// one element for slices and maps, and structs filled field by field, so
// that no method can return early on empty input before it reaches its
// storage.
func sample(t reflect.Type, ctx context.Context, acct gdprkit.AccountID, depth int) reflect.Value {
	switch {
	case t == reflect.TypeFor[context.Context]():
		return reflect.ValueOf(&ctx).Elem()
	case t == reflect.TypeFor[gdprkit.AccountID]():
		return reflect.ValueOf(acct)
	case t == reflect.TypeFor[time.Time]():
		return reflect.ValueOf(T0)
	case t == reflect.TypeFor[time.Duration]():
		return reflect.ValueOf(time.Minute)
	}
	v := reflect.New(t).Elem()
	if depth > 4 {
		return v
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Slice:
		s := reflect.MakeSlice(t, 1, 1)
		s.Index(0).Set(sample(t.Elem(), ctx, acct, depth+1))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(t)
		m.SetMapIndex(sample(t.Key(), ctx, acct, depth+1), sample(t.Elem(), ctx, acct, depth+1))
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		p.Elem().Set(sample(t.Elem(), ctx, acct, depth+1))
		v.Set(p)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() {
				v.Field(i).Set(sample(t.Field(i).Type, ctx, acct, depth+1))
			}
		}
	case reflect.Func:
		v.Set(reflect.MakeFunc(t, func([]reflect.Value) []reflect.Value {
			out := make([]reflect.Value, t.NumOut())
			for i := range out {
				out[i] = reflect.Zero(t.Out(i))
			}
			return out
		}))
	}
	return v
}
func endedBreach(t *testing.T, st breach.Store, ended, live context.Context, a gdprkit.AccountID) {
	b := breach.Breach{ID: "b1", Account: a, State: breach.StateOpen, Version: 1, RecordedAt: T0, UpdatedAt: T0}
	_, err := st.Mutate(ended, a, b.ID, func(breach.Breach, bool) (breach.Write, error) { return breach.Write{Breach: &b}, nil },
		func(h breach.Head, e *breach.Entry) error {
			e.Seq, e.PrevHash, e.Hash = h.Seq+1, h.Hash, "h"
			return nil
		})
	unavailable(t, err)
	bs, err := st.Breaches(live, a)
	require.NoError(t, err)
	assert.Empty(t, bs)
}

func endedStaffAccess(t *testing.T, st staffaccess.Store, ended, live context.Context, a gdprkit.AccountID) {
	g := staffaccess.Grant{ID: "g1", Account: a, Staff: "vendor:eva", Purpose: "p", Until: T0.Add(time.Hour), RequestedBy: "vendor:lead",
		RequestedAt: T0, Status: staffaccess.StatusRequested, Version: 1}
	_, err := st.Mutate(ended, a, g.ID, func(staffaccess.Grant, bool) (staffaccess.Write, error) { return staffaccess.Write{Grant: &g}, nil },
		func(h staffaccess.Head, e *staffaccess.Entry) error {
			e.Seq, e.PrevHash, e.Hash = h.Seq+1, h.Hash, "h"
			return nil
		})
	unavailable(t, err)
	gs, err := st.Grants(live, a, "")
	require.NoError(t, err)
	assert.Empty(t, gs)
}
