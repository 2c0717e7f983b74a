package erasuretest

import (
	"context"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// The store methods of the other data-subject rights, counted and failed
// like the rest.

func (w *store) CompleteRequest(ctx context.Context, a gdprkit.AccountID, id string, fin erasure.Finish) (r erasure.Receipt, err error) {
	err = call(w.f, func() (e error) { r, e = w.s.CompleteRequest(ctx, a, id, fin); return })
	return
}

func (w *store) PutRestrictions(ctx context.Context, a gdprkit.AccountID, marks []erasure.Restriction) error {
	return call(w.f, func() error { return w.s.PutRestrictions(ctx, a, marks) })
}

func (w *store) RestrictedRecords(ctx context.Context, a gdprkit.AccountID, ps []gdprkit.Pseudonym) (r []gdprkit.Pseudonym, err error) {
	err = call(w.f, func() (e error) { r, e = w.s.RestrictedRecords(ctx, a, ps); return })
	return
}

func (w *store) SubjectRestrictions(ctx context.Context, a gdprkit.AccountID, ps gdprkit.Pseudonym) (r []erasure.Restriction, err error) {
	err = call(w.f, func() (e error) { r, e = w.s.SubjectRestrictions(ctx, a, ps); return })
	return
}

func (w *store) LiftRestrictions(ctx context.Context, a gdprkit.AccountID, id string, l erasure.Lift) (n int, err error) {
	err = call(w.f, func() (e error) { n, e = w.s.LiftRestrictions(ctx, a, id, l); return })
	return
}
