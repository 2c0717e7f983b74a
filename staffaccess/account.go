package staffaccess

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gdprkit/gdprkit"
)

// EventAccountDeleted is audited when an account's grants and trail are
// deleted with the account.
const EventAccountDeleted gdprkit.EventType = "staffaccess.account_deleted"

// DeleteAccount deletes the account's grants and its whole trail when the
// account itself is deleted, and returns how many grants went; any grant
// still live ends with it. It is idempotent. by is who deletes (the
// retention sweeper, through erasure.Service.EraseAccount and kitdata's
// StaffAccessTarget).
//
// The choice made here: the trail is the account's evidence of who at the
// vendor saw its data and who approved it, naming the vendor's staff and
// the account's owner and admins by actor ID. It answers the account's
// question, so it ends with the account; the vendor keeps its own staff
// records outside gdprkit, and an account that needs the trail longer
// exports it (Trail) before the account ends.
func (s *Service) DeleteAccount(ctx context.Context, account gdprkit.AccountID, by gdprkit.ActorID) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	if err := by.Validate(); err != nil {
		return 0, err
	}
	n, err := s.store.DeleteAccount(ctx, account)
	if err != nil {
		return 0, fmt.Errorf("staffaccess: delete the account's grants and trail: %w", err)
	}
	s.emit(ctx, account, EventAccountDeleted, by, map[string]string{"grants": strconv.Itoa(n)})
	return n, nil
}
