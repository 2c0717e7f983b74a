package authn

import "time"

// Settings are the effective security settings of a Service: its Config
// as New completed it, every default applied. They are what the service
// does, for reports such as the record of processing activities (package
// processing) that must not restate authn's defaults. A copy: changing it
// changes nothing.
type Settings struct {
	// TOTP are the parameters of new enrolments, and Skew the time steps
	// of drift accepted either way.
	TOTP TOTPParams
	Skew int
	// Argon2 are the parameters of new password hashes.
	Argon2 Argon2Params
	// RequireTwoFactor: a password login of a user without TOTP can only
	// enrol.
	RequireTwoFactor bool
	// MinPasswordLength and MaxPasswordLength bound passwords, in
	// characters.
	MinPasswordLength int
	MaxPasswordLength int
	// SessionIdle and SessionLifetime end sessions: idle, and in all.
	SessionIdle     time.Duration
	SessionLifetime time.Duration
	// StepUpWindow is how long after a login a session may make security
	// changes.
	StepUpWindow time.Duration
	// TrustedDeviceTTL is how long a device stays trusted (negative: never).
	TrustedDeviceTTL time.Duration
	// MaxTokenLifetime caps API tokens (zero: tokens may never expire).
	MaxTokenLifetime time.Duration
	// SecretsEncrypted is true: TOTP secrets are sealed under the Config's
	// key ring (it is required).
	SecretsEncrypted bool
	// AccountGate and IPGate report whether logins ask the account's
	// lifecycle and its IP lists.
	AccountGate bool
	IPGate      bool
}

// Settings returns the service's effective settings.
func (s *Service) Settings() Settings {
	c := s.cfg
	return Settings{TOTP: c.TOTP, Skew: c.Skew, Argon2: c.Argon2, RequireTwoFactor: c.RequireTwoFactor,
		MinPasswordLength: c.MinPasswordLength, MaxPasswordLength: c.MaxPasswordLength,
		SessionIdle: c.SessionIdle, SessionLifetime: c.SessionLifetime, StepUpWindow: c.StepUpWindow,
		TrustedDeviceTTL: c.TrustedDeviceTTL, MaxTokenLifetime: c.MaxTokenLifetime,
		SecretsEncrypted: s.keys != nil, AccountGate: s.accounts != nil, IPGate: s.ips != nil}
}
