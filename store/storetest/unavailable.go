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
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/retention"
	"github.com/gdprkit/gdprkit/spam"
	"github.com/gdprkit/gdprkit/store"
)

// runUnavailable checks the promise every store makes to its callers (#25):
// when the request's context has ended, a call changes nothing and fails
// with an error wrapping gdprkit.ErrUnavailable — never "not found",
// "invalid" or a conflict that the caller would act on.
func runUnavailable(t *testing.T, f Factory) {
	t.Run("every method fails with ErrUnavailable once the context ended", func(t *testing.T) {
		t.Parallel()
		st := f(t)
		acct := NewAccount(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		accessors := reflect.TypeFor[store.Store]()
		sv := reflect.ValueOf(st)
		for i := 0; i < accessors.NumMethod(); i++ {
			acc := accessors.Method(i)
			domain := sv.MethodByName(acc.Name).Call(nil)[0]
			dt := acc.Type.Out(0) // the domain's store interface
			for j := 0; j < dt.NumMethod(); j++ {
				m := dt.Method(j)
				name := acc.Name + "." + m.Name
				in := make([]reflect.Value, m.Type.NumIn())
				for k := range in {
					in[k] = sample(m.Type.In(k), ctx, acct, 0)
				}
				if fix := validInput[name]; fix != nil {
					fix(in)
				}
				out := domain.Elem().MethodByName(m.Name).Call(in)
				err, _ := out[len(out)-1].Interface().(error)
				if assert.Error(t, err, name) {
					assert.ErrorIs(t, err, gdprkit.ErrUnavailable, "%s: %v", name, err)
					assert.True(t, errors.Is(err, context.Canceled), "%s: the cause stays visible: %v", name, err)
				}
			}
		}
	})

	t.Run("a write with an ended context changes nothing", func(t *testing.T) {
		t.Parallel()
		st := f(t)
		a := NewAccount(t)
		live := context.Background()
		ended, cancel := context.WithCancel(live)
		cancel()
		unavailable := func(err error) { t.Helper(); require.ErrorIs(t, err, gdprkit.ErrUnavailable) }

		unavailable(st.Consent().CreatePurpose(ended, a, consent.Purpose{Key: "chat", Name: "Chat", CreatedAt: T0}))
		ps, err := st.Consent().Purposes(live, a)
		require.NoError(t, err)
		assert.Empty(t, ps, "consent")

		unavailable(st.Authn().CreateUser(ended, a, authn.User{ID: "u1", Username: "ana", PasswordHash: "x", CreatedAt: T0, PasswordChangedAt: T0}))
		_, err = st.Authn().User(live, a, "u1")
		assert.ErrorIs(t, err, gdprkit.ErrNotFound, "authn")

		_, err = st.IPFilter().ReplaceRules(ended, a, ipfilter.SurfaceRules{Surface: gdprkit.SurfaceAPI}, 0)
		unavailable(err)
		v, err := st.IPFilter().Version(live, a)
		require.NoError(t, err)
		assert.Zero(t, v, "ipfilter")

		unavailable(st.Spam().Learn(ended, a, spam.Batch{Ham: 1, Tokens: []spam.TokenCount{{Hash: 7, Ham: 1}}}))
		snap, err := st.Spam().LoadModel(live, a)
		require.NoError(t, err)
		assert.Zero(t, snap.Ham, "spam")
		assert.Empty(t, snap.Tokens, "spam")

		unavailable(st.Retention().CreateRule(ended, a, retention.Rule{ID: "r1", Account: a, Name: "trash", Created: T0}))
		rules, err := st.Retention().Rules(live, a)
		require.NoError(t, err)
		assert.Empty(t, rules, "retention")

		unavailable(st.Erasure().PutHold(ended, a, erasure.Hold{ID: "h1", Kind: "ticket", RecordID: "t1", Ground: "Art. 17(3)(e)", CreatedBy: "admin", CreatedAt: T0}))
		holds, err := st.Erasure().Holds(live, a)
		require.NoError(t, err)
		assert.Empty(t, holds, "erasure")
	})
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
