package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/gdprkit/gdprkit"
)

// DeleteAccountData removes what gdprkit's own stores hold for account:
// consent purposes, policies and records; credentials, second factors,
// tokens and sessions; IP rules; the spam model. It is what
// retention.SweeperConfig.StoreEraser runs when a terminated account's
// live data must go:
//
//	StoreEraser: retention.DataEraserFunc(func(ctx context.Context, a gdprkit.AccountID) error {
//		return store.DeleteAccountData(ctx, st, a)
//	}),
//
// It keeps the records that prove what happened and hold no personal data:
// the retention lifecycle (transitions) and erasure receipts and
// tombstones (the erasure service scrubs identifiers from requests in its
// own EraseAccount). It is idempotent; on error it may have removed some
// domains' data and can simply be called again. Services that cache an
// account's data in memory (ipfilter, spam) should be told to forget it;
// a deleted account's gate refuses every access anyway.
func DeleteAccountData(ctx context.Context, s Store, account gdprkit.AccountID) error {
	if err := account.Validate(); err != nil {
		return err
	}
	var errs []error
	if _, err := s.Consent().DeleteAccount(ctx, account); err != nil {
		errs = append(errs, fmt.Errorf("consent: %w", err))
	}
	if _, err := s.Authn().DeleteAccount(ctx, account); err != nil {
		errs = append(errs, fmt.Errorf("authn: %w", err))
	}
	if _, err := s.IPFilter().DeleteAccount(ctx, account); err != nil {
		errs = append(errs, fmt.Errorf("ipfilter: %w", err))
	}
	if err := s.Spam().Reset(ctx, account); err != nil {
		errs = append(errs, fmt.Errorf("spam: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: delete account data: %w", err)
	}
	return nil
}
