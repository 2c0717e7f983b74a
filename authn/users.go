package authn

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/gdprkit/gdprkit"
)

// foldUsername is the canonical form of a username: NFKC, then Unicode
// case folding.
func foldUsername(u string) string {
	return cases.Fold().String(norm.NFKC.String(u))
}

// canonicalUsername validates and folds a username.
func (s *Service) canonicalUsername(u string) (string, error) {
	if !utf8.ValidString(u) {
		return "", fmt.Errorf("%w: username is not valid UTF-8", gdprkit.ErrInvalid)
	}
	s.foldMu.Lock()
	c := s.fold.String(norm.NFKC.String(u))
	s.foldMu.Unlock()
	switch {
	case c == "":
		return "", fmt.Errorf("%w: empty username", gdprkit.ErrInvalid)
	case len(c) > 256:
		return "", fmt.Errorf("%w: username longer than 256 bytes", gdprkit.ErrInvalid)
	case strings.TrimSpace(c) != c:
		return "", fmt.Errorf("%w: username has leading or trailing space", gdprkit.ErrInvalid)
	}
	for _, r := range c {
		if unicode.IsControl(r) {
			return "", fmt.Errorf("%w: username contains a control character", gdprkit.ErrInvalid)
		}
	}
	return c, nil
}

func checkUserID(id string) error {
	if err := gdprkit.SubjectID(id).Validate(); err != nil {
		return fmt.Errorf("user ID: %w", err)
	}
	return nil
}

func checkAccountUser(account gdprkit.AccountID, user string) error {
	if err := account.Validate(); err != nil {
		return err
	}
	return checkUserID(user)
}

// CreateUser stores the credentials of a new user: userID is the host's
// key, username the login name (compared case-insensitively after NFKC),
// password checked against the policy. Errors: gdprkit.ErrInvalid (with a
// *PolicyError for a weak password), ErrConflict for a taken ID or username.
func (s *Service) CreateUser(ctx context.Context, account gdprkit.AccountID, userID, username, password string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	name, err := s.canonicalUsername(username)
	if err != nil {
		return err
	}
	if err := s.policy.Check(password, name); err != nil {
		return err
	}
	h, err := s.hasher.hash(ctx, password)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	if err := s.st.CreateUser(ctx, account, User{ID: userID, Username: name, PasswordHash: h, CreatedAt: now, PasswordChangedAt: now}); err != nil {
		return fmt.Errorf("authn: create user: %w", err)
	}
	s.event(ctx, account, EventUserCreated, userID, nil)
	return nil
}

// HashPassword returns the argon2id PHC string of password (NFKC-normalised)
// at the configured parameters, waiting for a KDF slot. It does not apply
// the password policy. Hosts use it to provision users in bulk through
// ImportUser.
func (s *Service) HashPassword(ctx context.Context, password string) (string, error) {
	return s.hasher.hash(ctx, password)
}

// ImportUser stores a user with an existing password hash (argon2id PHC or
// bcrypt $2a$/$2b$/$2y$), as when migrating from another system. The hash
// is upgraded to the current argon2id policy at the user's next successful
// login. A hash that cannot be parsed or exceeds Limits is refused with
// ErrInvalid.
func (s *Service) ImportUser(ctx context.Context, account gdprkit.AccountID, userID, username, hash string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	name, err := s.canonicalUsername(username)
	if err != nil {
		return err
	}
	if err := s.hasher.checkHash(hash); err != nil {
		return err
	}
	if isBcrypt(hash) {
		cost, _ := s.hasher.parseBcrypt(hash)
		s.hasher.sawBcrypt(cost)
	}
	now := s.clock.Now()
	if err := s.st.CreateUser(ctx, account, User{ID: userID, Username: name, PasswordHash: hash, CreatedAt: now, PasswordChangedAt: now}); err != nil {
		return fmt.Errorf("authn: import user: %w", err)
	}
	s.event(ctx, account, EventUserCreated, userID, map[string]string{"imported": "true"})
	return nil
}

// SetPassword replaces a user's password (an administrator's reset or the
// end of a reset flow). It checks the policy, clears the password lock, and
// revokes all the user's sessions and API tokens.
func (s *Service) SetPassword(ctx context.Context, account gdprkit.AccountID, userID, password string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	u, err := s.st.User(ctx, account, userID)
	if err != nil {
		return fmt.Errorf("authn: set password: %w", err)
	}
	return s.setPassword(ctx, account, u, password)
}

func (s *Service) setPassword(ctx context.Context, account gdprkit.AccountID, u User, password string) error {
	if err := s.policy.Check(password, u.Username); err != nil {
		return err
	}
	h, err := s.hasher.hash(ctx, password)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	if err := s.st.SetPassword(ctx, account, u.ID, h, now); err != nil {
		return fmt.Errorf("authn: set password: %w", err)
	}
	if err := s.st.ResetThrottle(ctx, account, u.ID, FactorPassword); err != nil {
		s.log.Warn("authn: cannot clear password failures after a new password", "err", err)
	}
	s.event(ctx, account, EventPasswordChanged, u.ID, nil)
	_, err = s.revokeUser(ctx, account, u.ID, "password_changed")
	return err
}

// ChangePassword replaces the password after checking the current one
// (throttled like a login). All sessions and tokens of the user are revoked;
// the host logs the user in again. A wrong current password wraps
// gdprkit.ErrUnauthenticated.
func (s *Service) ChangePassword(ctx context.Context, account gdprkit.AccountID, userID, current, password string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	u, err := s.st.User(ctx, account, userID)
	if err != nil {
		return fmt.Errorf("authn: change password: %w", err)
	}
	if err := s.policy.Check(password, u.Username); err != nil {
		return err
	}
	if _, err := s.passwordAttempt(ctx, account, &u, "", current, "", noSource, true); err != nil {
		return err
	}
	return s.setPassword(ctx, account, u, password)
}

// passwordAttempt runs one throttled password check. u is the user, or nil
// for a username that names no user (name is then the canonical name, whose
// keyed hash the attempt is counted under, so that delays and locks read
// the same for real and unknown users). client is the trusted device's
// throttle client or "". When verify is false the password is not checked
// (the API and a user with TOTP: a password alone could only be confirmed)
// and the attempt fails. Every path does the same KDF work (see
// hasher.check). A correct password of an enabled user succeeds and upgrades
// a weak hash; the result carries the hash now stored, so that a login
// challenge sealed next is bound to what openChallenge will read. The
// attempt is refused before the KDF if its counter would refuse it now,
// and decided after it (see Service.settle): concurrent correct passwords
// never wait for one another.
//
// Errors: errBadCredentials for any wrong, unknown, disabled, unusable or
// unverified case; a *ThrottledError; or, passed through without counting
// anything, a store error or an ended context (gdprkit.ErrUnavailable).
func (s *Service) passwordAttempt(ctx context.Context, account gdprkit.AccountID, u *User, name, password, client string, src source, verify bool) (User, error) {
	key := ThrottleKey{Factor: FactorPassword}
	if u != nil {
		key.User, key.Client = u.ID, client
	} else {
		key.Client = s.nameClient(account, name)
	}
	if err := s.admit(ctx, account, key, src); err != nil {
		return User{}, s.throttled(ctx, account, key.User, err)
	}
	encoded := ""
	if u != nil && verify {
		encoded = u.PasswordHash
	}
	ok, rehash, err := s.hasher.check(ctx, encoded, password)
	if errors.Is(err, gdprkit.ErrUnavailable) {
		return User{}, err // nothing was reserved or counted
	}
	if errors.Is(err, ErrHashFormat) {
		s.log.Error("authn: stored password hash unusable; the login fails as a wrong password would", "err", err)
	}
	good := ok && !u.Disabled
	if err := s.settle(ctx, account, key, src, good); err != nil {
		return User{}, s.throttled(ctx, account, key.User, err)
	}
	if !good {
		reason := "bad_password"
		switch {
		case u == nil:
			reason = "unknown_user"
		case !verify:
			reason = "password_needs_second_factor"
		case err != nil:
			reason = "verify_error"
		case ok:
			reason = "disabled"
		}
		s.event(ctx, account, EventLoginFailed, key.User, map[string]string{"reason": reason, "factor": string(FactorPassword)})
		return User{}, errBadCredentials
	}
	out := *u
	if rehash {
		if h, ok := s.rehash(ctx, account, out, password); ok {
			out.PasswordHash = h
		}
	}
	return out, nil
}

// rehash upgrades a weak hash and returns the new hash when the
// compare-and-set stored it; failure never fails the login.
func (s *Service) rehash(ctx context.Context, account gdprkit.AccountID, u User, password string) (string, bool) {
	h, err := s.hasher.hash(ctx, password)
	if err == nil {
		var ok bool
		ok, err = s.st.RehashPassword(ctx, account, u.ID, u.PasswordHash, h)
		if err == nil && ok {
			s.event(ctx, account, EventPasswordRehashed, u.ID, nil)
			return h, true
		}
	}
	if err != nil {
		s.log.Warn("authn: password rehash failed; login continues", "err", err)
	}
	return "", false
}

// DisableUser stops the user from authenticating and revokes all their
// sessions and tokens. EnableUser undoes the first part only.
func (s *Service) DisableUser(ctx context.Context, account gdprkit.AccountID, userID string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	if err := s.st.SetUserDisabled(ctx, account, userID, true); err != nil {
		return fmt.Errorf("authn: disable user: %w", err)
	}
	s.event(ctx, account, EventUserDisabled, userID, nil)
	_, err := s.revokeUser(ctx, account, userID, "disabled")
	return err
}

// EnableUser lets a disabled user authenticate again.
func (s *Service) EnableUser(ctx context.Context, account gdprkit.AccountID, userID string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	if err := s.st.SetUserDisabled(ctx, account, userID, false); err != nil {
		return fmt.Errorf("authn: enable user: %w", err)
	}
	s.event(ctx, account, EventUserEnabled, userID, nil)
	return nil
}

// Unlock clears every throttle counter of the user (an administrator's
// action after a lock).
func (s *Service) Unlock(ctx context.Context, account gdprkit.AccountID, userID string) error {
	if err := checkAccountUser(account, userID); err != nil {
		return err
	}
	if err := s.st.ResetThrottle(ctx, account, userID, ""); err != nil {
		return fmt.Errorf("authn: unlock: %w", err)
	}
	s.event(ctx, account, EventUnlocked, userID, nil)
	return nil
}

// RevokeUser ends all sessions and revokes all API tokens of the user.
func (s *Service) RevokeUser(ctx context.Context, account gdprkit.AccountID, userID string) (Counts, error) {
	if err := checkAccountUser(account, userID); err != nil {
		return Counts{}, err
	}
	return s.revokeUser(ctx, account, userID, "requested")
}

func (s *Service) revokeUser(ctx context.Context, account gdprkit.AccountID, userID, why string) (Counts, error) {
	c, err := s.st.RevokeUser(ctx, account, userID, s.clock.Now())
	if err != nil {
		return c, fmt.Errorf("authn: revoke sessions and tokens: %w", err)
	}
	s.event(ctx, account, EventSessionsRevoked, userID, map[string]string{
		"reason": why, "sessions": strconv.Itoa(c.Sessions), "tokens": strconv.Itoa(c.Tokens)})
	return c, nil
}

// EraseUser deletes every credential, TOTP record, recovery code, API token,
// session and throttle counter of the user and returns the counts. Erasing
// an unknown user is not an error (the counts are zero), so erasure can be
// retried.
func (s *Service) EraseUser(ctx context.Context, account gdprkit.AccountID, userID string) (Counts, error) {
	if err := checkAccountUser(account, userID); err != nil {
		return Counts{}, err
	}
	c, err := s.st.DeleteUser(ctx, account, userID)
	if err != nil {
		return c, fmt.Errorf("authn: erase user: %w", err)
	}
	s.event(ctx, account, EventUserErased, userID, countAttrs(c))
	return c, nil
}

// CountUser counts the user's stored credentials, TOTP records, recovery
// codes, API tokens, sessions and throttle counters, as EraseUser would
// delete them (for an erasure plan or a subject access report).
func (s *Service) CountUser(ctx context.Context, account gdprkit.AccountID, userID string) (Counts, error) {
	if err := checkAccountUser(account, userID); err != nil {
		return Counts{}, err
	}
	return s.st.CountUser(ctx, account, userID)
}

// Credentials returns the Service seen as the erasure package's
// credentials target interface (erasure/kitdata.CredentialsTarget): the
// subject's records one at a time (CredentialRecords and
// DeleteCredentialRecords), and CountUser and EraseUser as one total.
func (s *Service) Credentials() Credentials { return Credentials{s} }

// Credentials adapts a Service to package erasure
// (erasure/kitdata.CredentialsTarget). Its record IDs are RecordRef
// strings ("user:u-1", "session:<id>", "recovery:<hash>", …).
type Credentials struct{ s *Service }

// CredentialRecords returns up to limit IDs of the user's records after
// the one whose ID is after ("" for the first), in UserRecords's order,
// each the String of its RecordRef. An after that is not a RecordRef — the
// synthetic "1", "2", … an earlier CredentialsTarget handed out, in an
// erasure checkpoint written before an upgrade — starts from the first
// record, which only finds again what is still there.
func (c Credentials) CredentialRecords(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID, after string, limit int) ([]string, error) {
	var from RecordRef
	if after != "" {
		if r, err := ParseRecordRef(after); err == nil {
			from = r
		}
	}
	refs, err := c.s.UserRecords(ctx, account, string(user), from, min(limit, MaxRecordPage))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.String()
	}
	return out, nil
}

// DeleteCredentialRecords deletes exactly the user's records with the
// given IDs (RecordRef strings) and returns how many it deleted. IDs that
// are not RecordRefs name no record (the synthetic refs of an earlier
// CredentialsTarget, in a checkpoint) and count zero, as do records
// already deleted.
func (c Credentials) DeleteCredentialRecords(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID, ids []string) (int, error) {
	n := 0
	for i := 0; i < len(ids); i += MaxRecordPage {
		var refs []RecordRef
		for _, id := range ids[i:min(i+MaxRecordPage, len(ids))] {
			if r, err := ParseRecordRef(id); err == nil {
				refs = append(refs, r)
			}
		}
		if len(refs) == 0 {
			continue
		}
		k, err := c.s.DeleteUserRecords(ctx, account, string(user), refs)
		n += k.Total()
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// CountUser returns the number of authn records of the user.
func (c Credentials) CountUser(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID) (int, error) {
	n, err := c.s.CountUser(ctx, account, string(user))
	return n.Total(), err
}

// EraseUser deletes every authn record of the user and returns how many
// there were; erasing again finds 0.
func (c Credentials) EraseUser(ctx context.Context, account gdprkit.AccountID, user gdprkit.SubjectID) (int, error) {
	n, err := c.s.EraseUser(ctx, account, string(user))
	return n.Total(), err
}

// EraseAccount deletes every authn record of the account and returns how
// many there were, for account deletion through the erasure graph.
func (c Credentials) EraseAccount(ctx context.Context, account gdprkit.AccountID) (int, error) {
	n, err := c.s.DeleteAccount(ctx, account)
	return n.Total(), err
}

// RevokeAccount ends every session and revokes every API token of the
// account, as when it is suspended. Credentials and TOTP stay, so the
// account's users can log in again once the AccountGate allows it.
func (s *Service) RevokeAccount(ctx context.Context, account gdprkit.AccountID) (Counts, error) {
	if err := account.Validate(); err != nil {
		return Counts{}, err
	}
	c, err := s.st.RevokeAccount(ctx, account, s.clock.Now())
	if err != nil {
		return c, fmt.Errorf("authn: revoke account: %w", err)
	}
	s.event(ctx, account, EventAccountRevoked, "", countAttrs(c))
	return c, nil
}

// DeleteAccount removes all authn data of the account.
func (s *Service) DeleteAccount(ctx context.Context, account gdprkit.AccountID) (Counts, error) {
	if err := account.Validate(); err != nil {
		return Counts{}, err
	}
	c, err := s.st.DeleteAccount(ctx, account)
	if err != nil {
		return c, fmt.Errorf("authn: delete account: %w", err)
	}
	s.usageMu.Lock()
	delete(s.usage, account)
	s.usageMu.Unlock()
	s.event(ctx, account, EventAccountDeleted, "", countAttrs(c))
	return c, nil
}

func countAttrs(c Counts) map[string]string {
	return map[string]string{
		"users": strconv.Itoa(c.Users), "totp": strconv.Itoa(c.TOTP),
		"recovery_codes": strconv.Itoa(c.RecoveryCodes), "tokens": strconv.Itoa(c.Tokens),
		"sessions": strconv.Itoa(c.Sessions), "throttles": strconv.Itoa(c.Throttles),
	}
}
