package authn

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/gdprkit/gdprkit"
)

// event records an audit event; a sink failure is logged, not returned.
func (s *Service) event(ctx context.Context, account gdprkit.AccountID, typ gdprkit.EventType, user string, attrs map[string]string) {
	e := gdprkit.Event{ID: gdprkit.NewID(), Account: account, Type: typ, Time: s.clock.Now(), Attrs: attrs}
	if user != "" && s.pseudo != nil {
		e.Subject = s.pseudo.Subject(account, gdprkit.SubjectID(user))
	}
	if err := s.audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.log.Warn("authn: audit sink failed", "event", string(typ), "err", err)
	}
}

// Audit event types.
const (
	EventLoginSucceeded    gdprkit.EventType = "authn.login_succeeded"
	EventLoginFailed       gdprkit.EventType = "authn.login_failed"
	EventSecondFactor      gdprkit.EventType = "authn.second_factor_required"
	EventLocked            gdprkit.EventType = "authn.locked"
	EventAccountDenied     gdprkit.EventType = "authn.account_denied"
	EventIPDenied          gdprkit.EventType = "authn.ip_denied"
	EventUserCreated       gdprkit.EventType = "authn.user_created"
	EventPasswordChanged   gdprkit.EventType = "authn.password_changed"
	EventPasswordRehashed  gdprkit.EventType = "authn.password_rehashed"
	EventUserDisabled      gdprkit.EventType = "authn.user_disabled"
	EventUserEnabled       gdprkit.EventType = "authn.user_enabled"
	EventUserErased        gdprkit.EventType = "authn.user_erased"
	EventRecordsErased     gdprkit.EventType = "authn.records_erased"
	EventUnlocked          gdprkit.EventType = "authn.unlocked"
	EventTOTPEnrolStarted  gdprkit.EventType = "authn.totp_enrolment_started"
	EventTOTPEnrolled      gdprkit.EventType = "authn.totp_enrolled"
	EventTOTPRemoved       gdprkit.EventType = "authn.totp_removed"
	EventTOTPFailed        gdprkit.EventType = "authn.totp_failed"
	EventTOTPVerified      gdprkit.EventType = "authn.totp_verified"
	EventRecoveryGenerated gdprkit.EventType = "authn.recovery_codes_generated"
	EventRecoveryUsed      gdprkit.EventType = "authn.recovery_code_used"
	EventRecoveryFailed    gdprkit.EventType = "authn.recovery_code_failed"
	EventTokenCreated      gdprkit.EventType = "authn.token_created"
	EventTokenRevoked      gdprkit.EventType = "authn.token_revoked"
	EventTokenUsed         gdprkit.EventType = "authn.token_authenticated"
	EventTokenFailed       gdprkit.EventType = "authn.token_failed"
	EventSessionsRevoked   gdprkit.EventType = "authn.sessions_revoked"
	EventAccountRevoked    gdprkit.EventType = "authn.account_revoked"
	EventAccountDeleted    gdprkit.EventType = "authn.account_deleted"
	EventLogout            gdprkit.EventType = "authn.logout"
	EventSessionRejected   gdprkit.EventType = "authn.session_rejected"
	EventStepUp            gdprkit.EventType = "authn.step_up"
)

// gates asks the account gate and the IP gate.
func (s *Service) gates(ctx context.Context, account gdprkit.AccountID, surface gdprkit.Surface, ip netip.Addr) error {
	if s.accounts != nil {
		if err := s.accounts.AllowLogin(ctx, account); err != nil {
			s.event(ctx, account, EventAccountDenied, "", map[string]string{"surface": string(surface), "reason": reason(err)})
			return fmt.Errorf("authn: account may not log in: %w", err)
		}
	}
	if s.ips != nil {
		if err := s.ips.AllowIP(ctx, account, surface, ip); err != nil {
			s.event(ctx, account, EventIPDenied, "", map[string]string{"surface": string(surface)})
			return fmt.Errorf("authn: address may not reach %s: %w", surface, err)
		}
	}
	return nil
}

func reason(err error) string {
	switch {
	case errors.Is(err, gdprkit.ErrAccountSuspended):
		return "suspended"
	case errors.Is(err, gdprkit.ErrAccountTerminated):
		return "terminated"
	case errors.Is(err, gdprkit.ErrForbidden):
		return "forbidden"
	}
	return "error"
}
