package breach

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gdprkit/gdprkit"
)

// EventRegisterDeleted is audited when an account's register is deleted
// with the account.
const EventRegisterDeleted gdprkit.EventType = "breach.register_deleted"

// DeleteAccount deletes the account's whole register — breaches, affected
// subjects' pseudonyms, the outbox (pending notices included) and the
// history — when the account itself is deleted, and returns how many
// breaches went. It is idempotent. by is who deletes (the retention
// sweeper, through erasure.Service.EraseAccount and kitdata's
// BreachRegisterTarget).
//
// The choice made here: the register is the account's — the controller's
// documentation of its breaches (Art. 33(5)) kept by the processor for
// it, naming the account's people by actor ID and its data subjects by
// pseudonyms only the account's data could resolve. Once the account's
// data is gone the register can identify nobody, and keeping the actor
// IDs would keep personal data without a purpose; a controller that must
// keep the record longer exports it before the account ends (Register,
// Form). What the vendor must keep as a processor (Art. 33(2): when it
// told the controller) belongs in the vendor's own records, not in the
// customer's register.
func (s *Service) DeleteAccount(ctx context.Context, account gdprkit.AccountID, by gdprkit.ActorID) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	if err := by.Validate(); err != nil {
		return 0, err
	}
	n, err := s.store.DeleteAccount(ctx, account)
	if err != nil {
		return 0, fmt.Errorf("breach: delete the account's register: %w", err)
	}
	s.emit(ctx, account, EventRegisterDeleted, by, map[string]string{"breaches": strconv.Itoa(n)})
	return n, nil
}
