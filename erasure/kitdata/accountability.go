package kitdata

import (
	"context"
	"encoding/json"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// The kinds of the accountability registers' account-wide targets.
const (
	// KindBreachRegister is an account's breach register (package breach).
	KindBreachRegister erasure.Kind = "breach_register"
	// KindStaffAccess is an account's vendor support grants and access
	// trail (package staffaccess).
	KindStaffAccess erasure.Kind = "staff_access"
)

// AccountDeleter is what the account-wide targets need: *breach.Service
// and *staffaccess.Service have it.
type AccountDeleter interface {
	// DeleteAccount deletes everything the service keeps for the account
	// and returns how many of its records (breaches, grants) went.
	DeleteAccount(ctx context.Context, account gdprkit.AccountID, by gdprkit.ActorID) (int, error)
}

// BreachRegisterTarget returns the target that deletes an account's breach
// register (*breach.Service) when the account is deleted: it has only
// erasure.Caps.EraseAccount. A person's erasure finds nothing in it (it
// names subjects by pseudonym only and is the account's record, see
// package breach), so Find, Delete and Export do nothing.
func BreachRegisterTarget(d AccountDeleter) erasure.Target {
	return accountTarget{d: d, info: erasure.TargetInfo{Kind: KindBreachRegister, Default: erasure.Rule{Action: erasure.Delete},
		Actions: []erasure.Action{erasure.Delete}, NoExport: true,
		Description: "the account's breach register: deleted with the account",
		Categories:  []string{erasure.CategoryIdentity}, Caps: erasure.Caps{EraseAccount: true}}}
}

// StaffAccessTarget returns the target that deletes an account's vendor
// support grants and access trail (*staffaccess.Service) when the account
// is deleted: it has only erasure.Caps.EraseAccount, like
// BreachRegisterTarget.
func StaffAccessTarget(d AccountDeleter) erasure.Target {
	return accountTarget{d: d, info: erasure.TargetInfo{Kind: KindStaffAccess, Default: erasure.Rule{Action: erasure.Delete},
		Actions: []erasure.Action{erasure.Delete}, NoExport: true,
		Description: "vendor support access grants and their access trail: deleted with the account",
		Categories:  []string{erasure.CategoryIdentity, erasure.CategoryUsage}, Caps: erasure.Caps{EraseAccount: true}}}
}

type accountTarget struct {
	erasure.Base
	d    AccountDeleter
	info erasure.TargetInfo
}

func (t accountTarget) Info() erasure.TargetInfo { return t.info }

// Find finds nothing: no record is a person's.
func (accountTarget) Find(context.Context, gdprkit.AccountID, erasure.Query) ([]erasure.Ref, error) {
	return nil, nil
}

func (accountTarget) Delete(context.Context, gdprkit.AccountID, gdprkit.SubjectID, []erasure.Ref) (erasure.Change, error) {
	return erasure.Change{}, nil
}

func (accountTarget) Anonymize(context.Context, gdprkit.AccountID, []erasure.Ref, erasure.Anon) (erasure.Change, error) {
	return erasure.Change{}, erasure.ErrUnsupported
}

func (accountTarget) Export(context.Context, gdprkit.AccountID, gdprkit.SubjectID, []erasure.Ref) ([]json.RawMessage, error) {
	return nil, nil
}

// EraseAccount implements erasure.Target (Caps.EraseAccount).
func (t accountTarget) EraseAccount(ctx context.Context, account gdprkit.AccountID) (erasure.Change, error) {
	n, err := t.d.DeleteAccount(ctx, account, "system:erasure")
	return erasure.Change{Records: int64(n)}, err
}
