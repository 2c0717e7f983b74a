package kitdata

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// Credentials is what the credentials target needs from package authn
// (authn.Service.Credentials has it) or the host's login system: how many
// credentials, sessions and tokens a user has, and removing them — one
// user's or a whole account's. EraseUser and EraseAccount must be
// idempotent.
//
// A Credentials that is also a CredentialRecords gets a target that finds
// and deletes the subject's records one at a time, so receipts count
// exactly; one that is not is erased whole (see CredentialsTarget).
type Credentials interface {
	// CountUser counts the user's credentials, sessions and tokens.
	CountUser(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID) (int, error)
	// EraseUser removes them all and returns how many there were.
	EraseUser(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID) (int, error)
	// EraseAccount removes every credential of the account.
	EraseAccount(ctx context.Context, account gdprkit.AccountID) (int, error)
}

// CredentialRecords is Credentials record by record: what CredentialsTarget
// needs to act on exactly the records the engine hands it, so that the
// plan, the receipt and what changed agree however many records a subject
// has. authn.Service.Credentials has it.
type CredentialRecords interface {
	Credentials
	// CredentialRecords returns up to limit IDs of the user's records —
	// one per stored record: the login, each second factor, recovery
	// code, API token and session — that follow after ("" for the first)
	// in an order that is the same on every call. An ID holds no secret.
	// IDs of the form "kind:rest" (as authn's are) export as their kind.
	CredentialRecords(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID, after string, limit int) ([]string, error)
	// DeleteCredentialRecords deletes exactly the user's records with the
	// given IDs and returns how many it deleted; IDs of records already
	// gone (or of no record) count zero.
	DeleteCredentialRecords(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID, ids []string) (int, error)
}

// CredentialsTarget returns the target of the subject's passwords, TOTP
// secrets, recovery codes, API tokens and sessions (erasure.KindCredentials,
// a root). It can only delete.
//
// When c is a CredentialRecords (authn's adapter is), Find pages through
// the subject's records, one ref per stored record, and Delete deletes
// exactly the refs it is given and reports how many it deleted: the plan
// and the receipt count every record, in as many batches as it takes.
//
// Otherwise c can only count and erase a subject's credentials whole: the
// refs are synthetic ("1" … "n" for n credentials), all returned by the
// first Find whatever the limit, and Delete erases every credential of the
// subject at once and reports at most as many as the refs it was given;
// a subject with more credentials than the erasure's batch size is then
// under-counted. Implement CredentialRecords to count exactly.
//
// In either form Find finds nothing for account-wide queries (Query.All):
// account deletion erases credentials per subject and then whole
// (EraseAccount).
func CredentialsTarget(c Credentials) erasure.Target {
	if r, ok := c.(CredentialRecords); ok {
		return credRecordsTarget{c: r}
	}
	return credTarget{c: c}
}

func credentialsInfo() erasure.TargetInfo {
	return erasure.TargetInfo{Kind: erasure.KindCredentials, Default: erasure.Rule{Action: erasure.Delete}, Actions: []erasure.Action{erasure.Delete},
		Description: "passwords, second factors, API tokens and sessions", Categories: []string{erasure.CategoryCredentials, erasure.CategoryOnlineIdentifiers},
		Caps: erasure.Caps{EraseAccount: true}}
}

// credRecordsTarget is CredentialsTarget over a CredentialRecords.
type credRecordsTarget struct {
	erasure.Base
	c CredentialRecords
}

func (credRecordsTarget) Info() erasure.TargetInfo { return credentialsInfo() }

func (t credRecordsTarget) Find(ctx context.Context, account gdprkit.AccountID, q erasure.Query) ([]erasure.Ref, error) {
	if q.Subject == "" || q.All || q.Limit < 1 {
		return nil, nil
	}
	ids, err := t.c.CredentialRecords(ctx, account, q.Subject, q.After, q.Limit)
	if err != nil {
		return nil, err
	}
	out := make([]erasure.Ref, len(ids))
	for i, id := range ids {
		out[i] = erasure.Ref{ID: id}
	}
	return out, nil
}

// Delete deletes exactly the refs' records. Without a subject (a record
// named alone, by Service.DeleteRecord) it changes nothing: a credential
// is found and deleted through its user.
func (t credRecordsTarget) Delete(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, refs []erasure.Ref) (erasure.Change, error) {
	if subject == "" || len(refs) == 0 {
		return erasure.Change{}, nil
	}
	n, err := t.c.DeleteCredentialRecords(ctx, account, subject, refIDs(refs))
	return erasure.Change{Records: int64(n)}, err
}

func (credRecordsTarget) Anonymize(context.Context, gdprkit.AccountID, []erasure.Ref, erasure.Anon) (erasure.Change, error) {
	return erasure.Change{}, erasure.ErrUnsupported
}

// Export says which kind of credential each ref is, never its secret.
func (credRecordsTarget) Export(_ context.Context, _ gdprkit.AccountID, _ gdprkit.SubjectID, refs []erasure.Ref) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(refs))
	for i, r := range refs {
		kind, _, ok := strings.Cut(r.ID, ":")
		if !ok {
			kind = "credential"
		}
		b, err := json.Marshal(struct {
			Credential string `json:"credential"`
			Secret     string `json:"secret"`
		}{kind, "not exported"})
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (t credRecordsTarget) EraseAccount(ctx context.Context, account gdprkit.AccountID) (erasure.Change, error) {
	n, err := t.c.EraseAccount(ctx, account)
	return erasure.Change{Records: int64(n)}, err
}

// credTarget is CredentialsTarget over a Credentials that can only count
// and erase a user's credentials whole.
type credTarget struct {
	erasure.Base
	c Credentials
}

func (credTarget) Info() erasure.TargetInfo { return credentialsInfo() }

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
