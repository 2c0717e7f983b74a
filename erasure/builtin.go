package erasure

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
)

// ConsentRecords is what the consent target needs; *consent.Service has
// it.
type ConsentRecords interface {
	// Pseudonymize strips the subject's identifiers from their records, keeping the proof.
	Pseudonymize(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, by gdprkit.ActorID) (int, error)
	// History returns the subject's records, oldest first.
	History(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID) ([]consent.Record, error)
}

// ConsentTarget returns the target of the subject's consent records
// (KindConsent, a root). It can only anonymise: the records are
// pseudonymised, keeping the proof that consent was given (Art. 7(1)).
// Find lists the records not yet pseudonymised; Anonymize pseudonymises
// all of the subject's records at once.
func ConsentTarget(c ConsentRecords) Target { return consentTarget{c} }

type consentTarget struct{ c ConsentRecords }

func (consentTarget) Info() TargetInfo {
	return TargetInfo{Kind: KindConsent, Default: Rule{Action: Anonymize, Ground: "Art. 7(1): proof of consent is kept, pseudonymised"},
		Actions: []Action{Anonymize}, Description: "consent grants and withdrawals (pseudonymised, proof kept)"}
}

func (t consentTarget) live(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID) ([]consent.Record, error) {
	rs, err := t.c.History(ctx, account, subject)
	if err != nil {
		return nil, err
	}
	out := rs[:0]
	for _, r := range rs {
		if !r.Pseudonymized {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (t consentTarget) Find(ctx context.Context, account gdprkit.AccountID, q Query) ([]Ref, error) {
	rs, err := t.live(ctx, account, q.Subject)
	if err != nil {
		return nil, err
	}
	var out []Ref
	for _, r := range rs {
		if r.ID > q.After && len(out) < q.Limit {
			out = append(out, Ref{ID: r.ID})
		}
	}
	return out, nil
}

func (consentTarget) Delete(context.Context, gdprkit.AccountID, gdprkit.SubjectID, []Ref) error {
	return ErrUnsupported
}

func (t consentTarget) Anonymize(ctx context.Context, account gdprkit.AccountID, _ []Ref, a Anon) error {
	_, err := t.c.Pseudonymize(ctx, account, a.Subject, "system:erasure")
	return err
}

func (t consentTarget) Export(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, refs []Ref) ([]json.RawMessage, error) {
	rs, err := t.c.History(ctx, account, subject)
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(refs))
	for _, r := range refs {
		want[r.ID] = true
	}
	var out []json.RawMessage
	for _, r := range rs {
		if !want[r.ID] {
			continue
		}
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// Credentials is what the credentials target needs from package authn
// (or the host's login system): how many credentials, sessions and tokens
// a user has, and removing them all. EraseUser must be idempotent.
type Credentials interface {
	// CountUser counts the user's credentials, sessions and tokens.
	CountUser(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID) (int, error)
	// EraseUser removes them all; it is idempotent.
	EraseUser(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID) (int, error)
}

// CredentialsTarget returns the target of the subject's passwords, TOTP
// secrets, recovery codes, API tokens and sessions (KindCredentials, a
// root). It can only delete. Its refs are synthetic ("1" … "n" for n
// credentials), all returned by the first Find whatever the limit; Delete
// erases every credential of the subject at once.
func CredentialsTarget(c Credentials) Target { return credTarget{c} }

type credTarget struct{ c Credentials }

func (credTarget) Info() TargetInfo {
	return TargetInfo{Kind: KindCredentials, Default: Rule{Action: Delete}, Actions: []Action{Delete},
		Description: "passwords, second factors, API tokens and sessions"}
}

func (t credTarget) Find(ctx context.Context, account gdprkit.AccountID, q Query) ([]Ref, error) {
	if q.After != "" {
		return nil, nil
	}
	n, err := t.c.CountUser(ctx, account, q.Subject)
	if err != nil {
		return nil, err
	}
	out := make([]Ref, n)
	for i := range out {
		out[i] = Ref{ID: strconv.Itoa(i + 1)}
	}
	return out, nil
}

func (t credTarget) Delete(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, _ []Ref) error {
	if subject == "" {
		return nil
	}
	_, err := t.c.EraseUser(ctx, account, subject)
	return err
}

func (credTarget) Anonymize(context.Context, gdprkit.AccountID, []Ref, Anon) error {
	return ErrUnsupported
}

func (credTarget) Export(_ context.Context, _ gdprkit.AccountID, _ gdprkit.SubjectID, refs []Ref) ([]json.RawMessage, error) {
	// Secrets are never exported; say they exist.
	out := make([]json.RawMessage, len(refs))
	for i := range refs {
		out[i] = json.RawMessage(`{"credential":"exists (secret values are not exported)"}`)
	}
	return out, nil
}
