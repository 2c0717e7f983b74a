package kitdata

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// Credentials is what the credentials target needs from package authn
// (authn.Service.Credentials has it) or the host's login system: how many
// credentials, sessions and tokens a user has, and removing them — one
// user's or a whole account's. EraseUser and EraseAccount must be
// idempotent.
type Credentials interface {
	// CountUser counts the user's credentials, sessions and tokens.
	CountUser(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID) (int, error)
	// EraseUser removes them all and returns how many there were.
	EraseUser(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID) (int, error)
	// EraseAccount removes every credential of the account.
	EraseAccount(ctx context.Context, account gdprkit.AccountID) (int, error)
}

// CredentialsTarget returns the target of the subject's passwords, TOTP
// secrets, recovery codes, API tokens and sessions (erasure.KindCredentials,
// a root). It can only delete. Its refs are synthetic ("1" … "n" for n
// credentials), all returned by the first Find whatever the limit; Delete
// erases every credential of the subject at once and reports how many
// there were, at most the refs it was given.
func CredentialsTarget(c Credentials) erasure.Target { return credTarget{c: c} }

type credTarget struct {
	erasure.Base
	c Credentials
}

func (credTarget) Info() erasure.TargetInfo {
	return erasure.TargetInfo{Kind: erasure.KindCredentials, Default: erasure.Rule{Action: erasure.Delete}, Actions: []erasure.Action{erasure.Delete},
		Description: "passwords, second factors, API tokens and sessions", Categories: []string{erasure.CategoryCredentials, erasure.CategoryOnlineIdentifiers},
		Caps: erasure.Caps{EraseAccount: true}}
}

func (t credTarget) Find(ctx context.Context, account gdprkit.AccountID, q erasure.Query) ([]erasure.Ref, error) {
	if q.After != "" || q.Subject == "" {
		return nil, nil
	}
	n, err := t.c.CountUser(ctx, account, q.Subject)
	if err != nil {
		return nil, err
	}
	out := make([]erasure.Ref, min(n, q.Limit))
	for i := range out {
		out[i] = erasure.Ref{ID: strconv.Itoa(i + 1)}
	}
	return out, nil
}

func (t credTarget) Delete(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, refs []erasure.Ref) (erasure.Change, error) {
	if subject == "" || len(refs) == 0 {
		return erasure.Change{}, nil
	}
	n, err := t.c.EraseUser(ctx, account, subject)
	return erasure.Change{Records: int64(min(n, len(refs)))}, err
}

func (credTarget) Anonymize(context.Context, gdprkit.AccountID, []erasure.Ref, erasure.Anon) (erasure.Change, error) {
	return erasure.Change{}, erasure.ErrUnsupported
}

func (credTarget) Export(_ context.Context, _ gdprkit.AccountID, _ gdprkit.SubjectID, refs []erasure.Ref) ([]json.RawMessage, error) {
	// Secrets are never exported; say they exist.
	out := make([]json.RawMessage, len(refs))
	for i := range refs {
		out[i] = json.RawMessage(`{"credential":"exists (secret values are not exported)"}`)
	}
	return out, nil
}

func (t credTarget) EraseAccount(ctx context.Context, account gdprkit.AccountID) (erasure.Change, error) {
	n, err := t.c.EraseAccount(ctx, account)
	return erasure.Change{Records: int64(n)}, err
}
