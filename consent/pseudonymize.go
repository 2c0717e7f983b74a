package consent

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gdprkit/gdprkit"
)

// MaxBatch is the most record IDs PseudonymizeRecords and RecordsByID take
// in one call, and the largest page LiveRecordIDs returns.
const MaxBatch = 1000

// Pseudonymize removes subject's identifier, the recorder, IP addresses,
// user agents and wordings from all their records, keeping the records,
// their commitments and the chain — the proof that consent existed. It is
// PseudonymizeRecords over LiveRecordIDs, page by page, so it holds at
// most MaxBatch IDs at a time. It is idempotent and returns how many
// records changed.
func (s *Service) Pseudonymize(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, by gdprkit.ActorID) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	if err := subject.Validate(); err != nil {
		return 0, err
	}
	ps := s.ps.Subject(account, subject)
	total, after := 0, ""
	for {
		ids, err := s.store.LiveRecordIDs(ctx, account, ps, after, MaxBatch)
		if err != nil {
			return total, fmt.Errorf("consent: pseudonymize: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		n, err := s.store.PseudonymizeRecords(ctx, account, ps, ids)
		if err != nil {
			return total, fmt.Errorf("consent: pseudonymize: %w", err)
		}
		total += n
		after = ids[len(ids)-1]
	}
	s.emit(ctx, account, "consent.pseudonymized", by, ps, map[string]string{"records": strconv.Itoa(total)})
	return total, nil
}

// LiveRecordIDs returns up to limit (1 to MaxBatch) IDs of subject's
// records that are not yet pseudonymised, in ascending order of ID, each
// greater than afterID ("" for the first page). Pass the last ID of a page
// as the next afterID to walk all of them, however many, while
// PseudonymizeRecords changes the ones already listed. Bad input returns an
// error wrapping gdprkit.ErrInvalid.
func (s *Service) LiveRecordIDs(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, afterID string, limit int) ([]string, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	if err := subject.Validate(); err != nil {
		return nil, err
	}
	if limit < 1 || limit > MaxBatch {
		return nil, fmt.Errorf("%w: page limit must be 1 to %d, not %d", gdprkit.ErrInvalid, MaxBatch, limit)
	}
	if afterID != "" {
		if err := validRecordID(afterID); err != nil {
			return nil, err
		}
	}
	ids, err := s.store.LiveRecordIDs(ctx, account, s.ps.Subject(account, subject), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("consent: live record IDs: %w", err)
	}
	return ids, nil
}

// PseudonymizeRecords removes the identifying values — subject, recorder,
// IP address, user agent, wording — from exactly the listed records of
// subject (at most MaxBatch) in one store step, keeping the records, their
// commitments and the chain, so Verify and every proof exported before
// still verify. It returns how many records it changed: IDs that are not
// the subject's, or already pseudonymised, count 0, so it is idempotent.
// An empty list changes nothing. Records sealed under chain version 1 keep
// their RecordedBy and Wording until Reseal. Bad input returns an error
// wrapping gdprkit.ErrInvalid and changes nothing.
func (s *Service) PseudonymizeRecords(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, ids []string, by gdprkit.ActorID) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	if err := subject.Validate(); err != nil {
		return 0, err
	}
	if err := validRecordIDs(ids); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	ps := s.ps.Subject(account, subject)
	n, err := s.store.PseudonymizeRecords(ctx, account, ps, ids)
	if err != nil {
		return 0, fmt.Errorf("consent: pseudonymize records: %w", err)
	}
	if n > 0 {
		s.emit(ctx, account, "consent.pseudonymized", by, ps, map[string]string{"records": strconv.Itoa(n)})
	}
	return n, nil
}

// RecordsByID returns the listed records of subject (at most MaxBatch), in
// chain order, pseudonymised or not; IDs that are not the subject's are
// left out. It is the export (GDPR Art. 15 and 20) of those records.
func (s *Service) RecordsByID(ctx context.Context, account gdprkit.AccountID, subject gdprkit.SubjectID, ids []string) ([]Record, error) {
	if err := account.Validate(); err != nil {
		return nil, err
	}
	if err := subject.Validate(); err != nil {
		return nil, err
	}
	if err := validRecordIDs(ids); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rs, err := s.store.RecordsByID(ctx, account, s.ps.Subject(account, subject), ids)
	if err != nil {
		return nil, fmt.Errorf("consent: records by ID: %w", err)
	}
	return rs, nil
}

func validRecordID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("%w: record ID must be 1 to 64 bytes", gdprkit.ErrInvalid)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%w: record ID %q holds a character outside printable ASCII", gdprkit.ErrInvalid, truncate(id, 80))
		}
	}
	return nil
}

func validRecordIDs(ids []string) error {
	if len(ids) > MaxBatch {
		return fmt.Errorf("%w: at most %d record IDs at once, not %d", gdprkit.ErrInvalid, MaxBatch, len(ids))
	}
	for _, id := range ids {
		if err := validRecordID(id); err != nil {
			return err
		}
	}
	return nil
}

// DeleteAccount removes all of the account's consent data, proof
// included: it is for an account that is being deleted as a whole (see
// package retention), not for one subject (use Pseudonymize). It is
// idempotent and returns how many records it removed.
func (s *Service) DeleteAccount(ctx context.Context, account gdprkit.AccountID, by gdprkit.ActorID) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	n, err := s.store.DeleteAccount(ctx, account)
	if err != nil {
		return 0, fmt.Errorf("consent: delete account: %w", err)
	}
	s.emit(ctx, account, "consent.account_deleted", by, "", map[string]string{"records": strconv.Itoa(n)})
	return n, nil
}
