package breach

import (
	"context"
	"fmt"

	"github.com/gdprkit/gdprkit"
)

// SubjectLister pages through the subjects of an account. erasure.Directory
// has this method, so a host passes its directory as it is.
type SubjectLister interface {
	Subjects(ctx context.Context, account gdprkit.AccountID, cursor string, limit int) (ids []gdprkit.SubjectID, next string, err error)
}

// Resolve finds the subject whose keyed pseudonym is ps, by paging through
// the account's subjects and deriving each one's pseudonym: what a
// Notifier does to learn whom a subject notice is for. It costs one HMAC
// per subject; a host with many subjects keeps the pseudonym beside each
// user instead. It returns an error wrapping gdprkit.ErrNotFound when no
// current subject has the pseudonym (for example, the subject was erased
// since the breach), which fails the notice as undeliverable.
func Resolve(ctx context.Context, p *gdprkit.Pseudonymizer, l SubjectLister, account gdprkit.AccountID, ps gdprkit.Pseudonym) (gdprkit.SubjectID, error) {
	if p == nil || l == nil {
		return "", fmt.Errorf("%w: breach: Resolve needs a pseudonymizer and a lister", gdprkit.ErrInvalid)
	}
	cursor := ""
	for {
		ids, next, err := l.Subjects(ctx, account, cursor, 500)
		if err != nil {
			return "", err
		}
		for _, id := range ids {
			if p.Subject(account, id) == ps {
				return id, nil
			}
		}
		if next == "" || len(ids) == 0 {
			return "", fmt.Errorf("breach: no subject of the account has this pseudonym: %w", gdprkit.ErrNotFound)
		}
		cursor = next
	}
}
