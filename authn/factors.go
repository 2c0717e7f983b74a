package authn

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"

	"github.com/gdprkit/gdprkit"
)

// Enrolment is a started TOTP enrolment, to show the user once.
type Enrolment struct {
	// ID names the pending enrolment.
	ID string
	// Key holds the secret and parameters; Key.URI and Key.QRCode give
	// what an authenticator app scans.
	Key OTPKey
	// URI is Key.URI().
	URI string
	// Secret is the base32 secret, for typing in by hand.
	Secret string
}

// totpAAD binds a sealed secret to its account, user and record.
func totpAAD(account gdprkit.AccountID, user, id string) []byte {
	b := make([]byte, 0, 64+len(account)+len(user)+len(id))
	b = append(b, "gdprkit/authn/totp\x00"...)
	b = append(b, account...)
	b = append(b, 0)
	b = append(b, user...)
	b = append(b, 0)
	return append(b, id...)
}

// BeginTOTP starts a TOTP enrolment for the user p acts for: a fresh
// 160-bit secret from crypto/rand, sealed with the key ring and stored as
// pending. p must come from AuthenticateSession and be stepped up (see
// RequireStepUp): replacing an authenticator is a security change. label is
// what the authenticator app shows under the issuer (usually the username
// or e-mail address; it is not stored). An active TOTP stays in force until
// ConfirmTOTP replaces it. Throttle counters are untouched.
func (s *Service) BeginTOTP(ctx context.Context, p Principal, label string) (Enrolment, error) {
	if err := s.RequireStepUp(ctx, p); err != nil {
		return Enrolment{}, err
	}
	account, userID := p.Account, p.UserID
	if err := checkLabelPart("account", label, true); err != nil {
		return Enrolment{}, err
	}
	if _, err := s.st.User(ctx, account, userID); err != nil {
		return Enrolment{}, fmt.Errorf("authn: begin TOTP: %w", err)
	}
	secret := make([]byte, 20)
	if _, err := rand.Read(secret); err != nil {
		return Enrolment{}, fmt.Errorf("authn: TOTP secret: %w", err)
	}
	id := gdprkit.NewID()
	kid, sealed := s.keys.seal(secret, totpAAD(account, userID, id))
	rec := TOTPRecord{ID: id, UserID: userID, Pending: true, KeyID: kid, Sealed: sealed,
		Params: s.cfg.TOTP, LastStep: -1, CreatedAt: s.clock.Now()}
	if err := s.st.PutPendingTOTP(ctx, account, rec); err != nil {
		return Enrolment{}, fmt.Errorf("authn: begin TOTP: %w", err)
	}
	key := OTPKey{Issuer: s.cfg.Issuer, Account: label, Secret: secret, Params: s.cfg.TOTP}
	uri, err := key.URI()
	if err != nil {
		return Enrolment{}, err
	}
	s.event(ctx, account, EventTOTPEnrolStarted, userID, nil)
	return Enrolment{ID: id, Key: key, URI: uri, Secret: EncodeSecret(secret)}, nil
}

// ConfirmTOTP completes p's pending enrolment with a first code from the
// app and returns a new set of recovery codes (replacing any earlier set;
// show them once). p must be stepped up, as for BeginTOTP. The code's time
// step is recorded, so that code cannot then be used to log in. The new
// TOTP replaces any earlier one, and, as the second factor changed, all
// sessions (p's too) and API tokens of the user are revoked. Failures count
// towards the TOTP throttle.
func (s *Service) ConfirmTOTP(ctx context.Context, p Principal, code string) ([]string, error) {
	if err := s.RequireStepUp(ctx, p); err != nil {
		return nil, err
	}
	account, userID := p.Account, p.UserID
	rec, err := s.st.TOTP(ctx, account, userID, true)
	if errors.Is(err, gdprkit.ErrNotFound) {
		return nil, fmt.Errorf("authn: confirm TOTP: no pending enrolment: %w", gdprkit.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("authn: confirm TOTP: %w", err)
	}
	key := ThrottleKey{User: userID, Factor: FactorTOTP}
	if err := s.admit(ctx, account, key, noSource); err != nil {
		return nil, s.throttled(ctx, account, userID, err)
	}
	st, ok, err := s.checkCode(account, rec, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := s.settle(ctx, account, key, noSource, false); err != nil {
			return nil, s.throttled(ctx, account, userID, err)
		}
		s.event(ctx, account, EventTOTPFailed, userID, map[string]string{"reason": "wrong_code", "stage": "enrolment"})
		return nil, fmt.Errorf("%w: wrong TOTP code", gdprkit.ErrUnauthenticated)
	}
	// The code matches: activating uses the enrolment up, so take a slot
	// first (see settle).
	att, err := s.reserve(ctx, account, key, noSource)
	if err != nil {
		return nil, s.throttled(ctx, account, userID, err)
	}
	if err := s.st.ActivateTOTP(ctx, account, userID, rec.ID, st); err != nil {
		att.abandon(ctx)
		return nil, fmt.Errorf("authn: confirm TOTP: %w", err)
	}
	att.succeed(ctx)
	s.event(ctx, account, EventTOTPEnrolled, userID, nil)
	if _, err := s.revokeUser(ctx, account, userID, "second_factor_changed"); err != nil {
		return nil, err
	}
	return s.replaceRecoveryCodes(ctx, account, userID)
}

// checkCode opens the record's secret and checks code at the current time.
// Stored parameters are validated first: a tampered record is an error
// wrapping gdprkit.ErrUnauthenticated and gdprkit.ErrInvalid, as a tampered
// password hash is, not a panic.
func (s *Service) checkCode(account gdprkit.AccountID, rec TOTPRecord, code string) (int64, bool, error) {
	if err := rec.Params.withDefaults().validate(); err != nil {
		s.log.Error("authn: stored TOTP parameters unusable", "err", err)
		return 0, false, fmt.Errorf("%w: authn: stored TOTP parameters unusable: %w", gdprkit.ErrUnauthenticated, err)
	}
	secret, err := s.keys.open(rec.KeyID, rec.Sealed, totpAAD(account, rec.UserID, rec.ID))
	if err != nil {
		s.log.Error("authn: cannot open TOTP secret", "err", err)
		return 0, false, fmt.Errorf("authn: TOTP secret unusable: %w", err)
	}
	st, ok := VerifyTOTP(secret, code, s.clock.Now(), rec.Params, s.cfg.Skew)
	clear(secret)
	return st, ok && st > rec.LastStep, nil
}

// VerifyTOTP checks a TOTP code of the user's active enrolment. A code is
// accepted once: its time step is recorded with a compare-and-set, so of
// concurrent attempts with one valid code exactly one succeeds. It is
// throttled like a login (without a source address). Errors wrap
// gdprkit.ErrUnauthenticated (wrong, replayed or no TOTP) or
// gdprkit.ErrLocked. To re-authenticate a session before a security
// change, use StepUp.
func (s *Service) VerifyTOTP(ctx context.Context, account gdprkit.AccountID, userID, code string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	if err := s.verifyTOTP(ctx, account, userID, code, "", noSource); err != nil {
		return err
	}
	s.event(ctx, account, EventTOTPVerified, userID, nil)
	return nil
}

// verifyTOTP makes one throttled TOTP attempt from client and src.
func (s *Service) verifyTOTP(ctx context.Context, account gdprkit.AccountID, userID, code, client string, src source) error {
	rec, err := s.st.TOTP(ctx, account, userID, false)
	if errors.Is(err, gdprkit.ErrNotFound) {
		return fmt.Errorf("%w: no TOTP enrolled", gdprkit.ErrUnauthenticated)
	}
	if err != nil {
		return fmt.Errorf("authn: TOTP: %w", err)
	}
	key := ThrottleKey{User: userID, Factor: FactorTOTP, Client: client}
	if err := s.admit(ctx, account, key, src); err != nil {
		return s.throttled(ctx, account, userID, err)
	}
	st, ok, err := s.checkCode(account, rec, code)
	if err != nil {
		return err
	}
	wrong := func() error {
		s.event(ctx, account, EventTOTPFailed, userID, map[string]string{"reason": "wrong_or_used_code"})
		return fmt.Errorf("%w: wrong or already used TOTP code", gdprkit.ErrUnauthenticated)
	}
	if !ok {
		if err := s.settle(ctx, account, key, src, false); err != nil {
			return s.throttled(ctx, account, userID, err)
		}
		return wrong()
	}
	// The code matches a step not yet used: using the step up must happen
	// only for an attempt that is let in, so take a slot first (see settle).
	att, err := s.reserve(ctx, account, key, src)
	if err != nil {
		return s.throttled(ctx, account, userID, err)
	}
	if ok, err = s.st.AdvanceTOTPStep(ctx, account, userID, rec.ID, st); err != nil {
		att.abandon(ctx)
		return fmt.Errorf("authn: TOTP: %w", err)
	}
	if !ok {
		if err := att.fail(ctx); err != nil {
			return err
		}
		return wrong()
	}
	att.succeed(ctx)
	return nil
}

// HasTOTP reports whether the user has an active TOTP enrolment.
func (s *Service) HasTOTP(ctx context.Context, account gdprkit.AccountID, userID string) (bool, error) {
	if err := checkAccountUser(account, userID); err != nil {
		return false, err
	}
	return s.hasTOTP(ctx, account, userID)
}

func (s *Service) hasTOTP(ctx context.Context, account gdprkit.AccountID, userID string) (bool, error) {
	_, err := s.st.TOTP(ctx, account, userID, false)
	if errors.Is(err, gdprkit.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// RemoveTOTP deletes the TOTP (active and pending) of the user p acts
// for, who must be stepped up (see RequireStepUp), and, as the second
// factor changed, revokes all their sessions and tokens. Throttle counters
// are untouched.
func (s *Service) RemoveTOTP(ctx context.Context, p Principal) error {
	if err := s.RequireStepUp(ctx, p); err != nil {
		return err
	}
	return s.removeTOTP(ctx, p.Account, p.UserID, "")
}

// ResetTOTP removes another user's TOTP (active and pending), as an
// administrator does for a user who lost their authenticator, and revokes
// all that user's sessions and tokens. by, the administrator, must be
// stepped up (see RequireStepUp); the host decides whether by may manage
// userID (roles are the host's) and must have proved the user's identity
// first (OWASP ASVS 5.0 V6.4.4). The audit event names by as its actor.
func (s *Service) ResetTOTP(ctx context.Context, by Principal, userID string) error {
	if err := s.RequireStepUp(ctx, by); err != nil {
		return err
	}
	if err := checkUserID(userID); err != nil {
		return err
	}
	return s.removeTOTP(ctx, by.Account, userID, by.UserID)
}

func (s *Service) removeTOTP(ctx context.Context, account gdprkit.AccountID, userID, by string) error {
	n, err := s.st.DeleteTOTP(ctx, account, userID)
	if err != nil {
		return fmt.Errorf("authn: remove TOTP: %w", err)
	}
	attrs := map[string]string{"records": strconv.Itoa(n)}
	if by != "" && s.pseudo != nil {
		attrs["by"] = string(s.pseudo.Subject(account, gdprkit.SubjectID(by)))
	}
	s.event(ctx, account, EventTOTPRemoved, userID, attrs)
	_, err = s.revokeUser(ctx, account, userID, "second_factor_changed")
	return err
}

// RewrapTOTP re-seals up to limit TOTP secrets of the account that are not
// sealed with the key ring's primary key, and returns how many it re-sealed.
// Run it (repeatedly, until it returns 0) after making a new key primary;
// then the old key can leave the ring.
func (s *Service) RewrapTOTP(ctx context.Context, account gdprkit.AccountID, limit int) (int, error) {
	if err := account.Validate(); err != nil {
		return 0, err
	}
	if limit <= 0 {
		limit = 100
	}
	recs, err := s.st.TOTPSealedWith(ctx, account, s.keys.Primary(), limit)
	if err != nil {
		return 0, fmt.Errorf("authn: rewrap TOTP: %w", err)
	}
	n := 0
	for _, r := range recs {
		aad := totpAAD(account, r.UserID, r.ID)
		pt, err := s.keys.open(r.KeyID, r.Sealed, aad)
		if err != nil {
			return n, err
		}
		kid, sealed := s.keys.seal(pt, aad)
		clear(pt)
		ok, err := s.st.ResealTOTP(ctx, account, r.UserID, r.ID, r.KeyID, kid, sealed)
		if err != nil {
			return n, fmt.Errorf("authn: rewrap TOTP: %w", err)
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// GenerateRecoveryCodes returns RecoveryCodeCount new single-use recovery
// codes for the user p acts for, replacing (and so invalidating) any
// earlier set. p must be stepped up (see RequireStepUp). Show them once;
// only their hashes are stored.
func (s *Service) GenerateRecoveryCodes(ctx context.Context, p Principal) ([]string, error) {
	if err := s.RequireStepUp(ctx, p); err != nil {
		return nil, err
	}
	return s.replaceRecoveryCodes(ctx, p.Account, p.UserID)
}

func (s *Service) replaceRecoveryCodes(ctx context.Context, account gdprkit.AccountID, userID string) ([]string, error) {
	if _, err := s.st.User(ctx, account, userID); err != nil {
		return nil, fmt.Errorf("authn: recovery codes: %w", err)
	}
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		c, _ := canonicalRecoveryCode(codes[i])
		hashes[i] = recoveryHash(account, userID, c)
	}
	if err := s.st.ReplaceRecoveryCodes(ctx, account, userID, hashes, s.clock.Now()); err != nil {
		return nil, fmt.Errorf("authn: recovery codes: %w", err)
	}
	s.event(ctx, account, EventRecoveryGenerated, userID, map[string]string{"count": strconv.Itoa(len(codes))})
	return codes, nil
}

// RecoveryCodesLeft counts the user's unused recovery codes.
func (s *Service) RecoveryCodesLeft(ctx context.Context, account gdprkit.AccountID, userID string) (int, error) {
	if err := checkAccountUser(account, userID); err != nil {
		return 0, err
	}
	return s.st.RecoveryCodesLeft(ctx, account, userID)
}

func (s *Service) useRecoveryCode(ctx context.Context, account gdprkit.AccountID, userID, code, client string, src source) error {
	// Using a recovery code is its check: take a slot first (see settle).
	att, err := s.reserve(ctx, account, ThrottleKey{User: userID, Factor: FactorRecovery, Client: client}, src)
	if err != nil {
		return s.throttled(ctx, account, userID, err)
	}
	ok := false
	if c, valid := canonicalRecoveryCode(code); valid {
		if ok, err = s.st.UseRecoveryCode(ctx, account, userID, recoveryHash(account, userID, c)); err != nil {
			att.abandon(ctx)
			return fmt.Errorf("authn: recovery code: %w", err)
		}
	}
	if !ok {
		if err := att.fail(ctx); err != nil {
			return err
		}
		s.event(ctx, account, EventRecoveryFailed, userID, nil)
		return fmt.Errorf("%w: wrong or already used recovery code", gdprkit.ErrUnauthenticated)
	}
	att.succeed(ctx)
	left, err := s.st.RecoveryCodesLeft(ctx, account, userID)
	if err != nil {
		left = -1
	}
	s.event(ctx, account, EventRecoveryUsed, userID, map[string]string{"left": strconv.Itoa(left)})
	return nil
}
