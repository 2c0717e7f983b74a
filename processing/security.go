package processing

import (
	"context"
	"fmt"
	"strings"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
)

func (g *Generator) security(ctx context.Context, account gdprkit.AccountID, r *Record) error {
	for i, src := range g.cfg.Security {
		ms, err := src.Measures(ctx, account)
		if err != nil {
			return fmt.Errorf("processing: read security measures (source %d): %w", i, err)
		}
		for _, m := range ms {
			if err := m.validate(); err != nil {
				return fmt.Errorf("processing: security measures (source %d): %w", i, err)
			}
			r.Security = append(r.Security, m)
		}
	}
	if g.cfg.IPRules != nil {
		rs, err := g.cfg.IPRules.Rules(ctx, account)
		if err != nil {
			return fmt.Errorf("processing: read the IP rules: %w", err)
		}
		allowed := false
		for _, s := range rs.Surfaces {
			if len(s.Allow) > 0 {
				allowed = true
				r.Security = append(r.Security, Measure{Name: "IP allow list: " + string(s.Surface),
					Detail: fmt.Sprintf("only %s may reach it; %s denied (IPv4 and IPv6, client address behind trusted proxies only)",
						plural(len(s.Allow), "address range"), plural(len(s.Deny), "range")),
					InForce: true, Source: SourceIPFilter})
			} else if len(s.Deny) > 0 {
				r.Security = append(r.Security, Measure{Name: "IP deny list: " + string(s.Surface),
					Detail: plural(len(s.Deny), "address range") + " may not reach it", InForce: true, Source: SourceIPFilter})
			}
		}
		if !allowed {
			r.Security = append(r.Security, Measure{Name: "IP allow lists",
				Detail:  "available per surface (agent panel, API, customer portal); none is set for this account, so any address may reach them",
				InForce: false, Source: SourceIPFilter})
		}
	}
	r.Security = append(r.Security, Measure{Name: "Erasure proof without personal data",
		Detail:  "erasure receipts and tombstones name a person only by a keyed pseudonym (HMAC-SHA-256); receipts are hash-chained per account",
		InForce: true, Source: SourceErasure})
	if g.cfg.Consent != nil {
		r.Security = append(r.Security, Measure{Name: "Tamper-evident consent records",
			Detail:  "append-only grants and withdrawals in a SHA-256 hash chain per account; identifying values bound by salted commitments and removable without breaking the chain",
			InForce: true, Source: SourceConsent})
	}
	for _, m := range g.cfg.Measures {
		m.InForce, m.Source = true, SourceDeclared
		r.Security = append(r.Security, m)
	}
	return nil
}

// AuthnSettings is what AuthnMeasures reads; *authn.Service has it.
type AuthnSettings interface {
	// Settings returns the service's effective settings, defaults applied.
	Settings() authn.Settings
}

// AuthnMeasures describes the login security of an authn service (pass
// the *authn.Service the host logs in with): second factor (TOTP)
// availability and whether it is required, how TOTP secrets are kept,
// password hashing, session timeouts, and the account and IP gates at
// login, as the service's effective settings (authn.Service.Settings)
// say, so the record never restates authn's defaults. The measures are
// the same for every account: authn's settings are service-wide.
func AuthnMeasures(svc AuthnSettings) MeasureSource {
	cfg := svc.Settings()
	argon, totp := cfg.Argon2, cfg.TOTP
	idle, life := cfg.SessionIdle, cfg.SessionLifetime
	required := Measure{Name: "Second factor required", InForce: cfg.RequireTwoFactor, Source: SourceAuthn,
		Detail: "every password login must be completed with a TOTP code; a user without one can only enrol"}
	if !cfg.RequireTwoFactor {
		required.Detail = "not required: each user chooses whether to enrol a second factor"
	}
	gates := []string{}
	if cfg.AccountGate {
		gates = append(gates, "suspended and terminated accounts cannot log in")
	}
	if cfg.IPGate {
		gates = append(gates, "the account's IP lists are checked at every login and API call")
	}
	ms := []Measure{
		{Name: "Two-factor authentication (TOTP)", InForce: true, Source: SourceAuthn,
			Detail: fmt.Sprintf("RFC 6238 TOTP (%s, %d digits, %d s) with single-use recovery codes, available to every user",
				totp.Algorithm, totp.Digits, totp.Period)},
		required,
		{Name: "TOTP secrets encrypted at rest", InForce: cfg.SecretsEncrypted, Source: SourceAuthn,
			Detail: "XChaCha20-Poly1305 under a key ring whose keys rotate without downtime"},
		{Name: "Password hashing", InForce: true, Source: SourceAuthn,
			Detail: fmt.Sprintf("argon2id (m=%d KiB, t=%d, p=%d); legacy bcrypt hashes are verified and upgraded; common passwords and the host's context words refused",
				argon.Memory, argon.Time, argon.Threads)},
		{Name: "Session timeouts", InForce: true, Source: SourceAuthn,
			Detail: "sessions end after " + duration(idle) + " idle and " + duration(life) + " in all"},
	}
	if len(gates) > 0 {
		ms = append(ms, Measure{Name: "Login gates", InForce: true, Source: SourceAuthn, Detail: strings.Join(gates, "; ")})
	}
	return MeasureFunc(func(ctx context.Context, account gdprkit.AccountID) ([]Measure, error) {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%w: %w", gdprkit.ErrUnavailable, err)
		}
		return append([]Measure(nil), ms...), nil
	})
}
