package processing_test

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/authn"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/processing"
	"github.com/gdprkit/gdprkit/sqldb"
)

// New refuses declarations a record cannot honestly carry, naming the
// field, and never builds a generator from them.
func TestNewRefusesBadDeclarations(t *testing.T) {
	w := newWorld(t, sqldb.SQLite, worldOpt{})
	good := w.config()
	require.NotNil(t, must(processing.New(good)))
	sub := func(f func(*processing.SubProcessor)) func(*processing.Config) {
		return func(c *processing.Config) {
			c.SubProcessors = append([]processing.SubProcessor(nil), c.SubProcessors...)
			f(&c.SubProcessors[1])
		}
	}
	for name, c := range map[string]struct {
		change func(*processing.Config)
		want   string
	}{
		"no erasure source":                      {func(c *processing.Config) { c.Erasure = nil }, "Config.Erasure"},
		"transfer outside the EEA unsafeguarded": {sub(func(s *processing.SubProcessor) { s.TransferMechanism = " " }), `"mailer" processes data in US, outside the EEA, without a transfer mechanism`},
		"country not a code":                     {sub(func(s *processing.SubProcessor) { s.Country = "Germany" }), "not an ISO 3166-1 alpha-2 code"},
		"country lower case":                     {sub(func(s *processing.SubProcessor) { s.Country = "de" }), "not an ISO 3166-1 alpha-2 code"},
		"agreement date not a date":              {sub(func(s *processing.SubProcessor) { s.AgreementDate = "July 2025" }), "not YYYY-MM-DD"},
		"agreement missing":                      {sub(func(s *processing.SubProcessor) { s.Agreement = "" }), "sub-processor agreement is required"},
		"region missing":                         {sub(func(s *processing.SubProcessor) { s.Region = "" }), "sub-processor region is required"},
		"purpose missing":                        {sub(func(s *processing.SubProcessor) { s.Purpose = "" }), "sub-processor purpose is required"},
		"sub-processor category malformed":       {sub(func(s *processing.SubProcessor) { s.Categories = []string{"E-mail"} }), "may hold only"},
		"control character":                      {sub(func(s *processing.SubProcessor) { s.Region = "EU\x1b[2J" }), "control character"},
		"two sub-processors of one name": {func(c *processing.Config) {
			c.SubProcessors = append(c.SubProcessors, c.SubProcessors[0])
		}, `two sub-processors named "hosting"`},
		"purpose without legal basis": {func(c *processing.Config) {
			c.Purposes = []processing.DeclaredPurpose{{Key: "x", Name: "X"}}
		}, "purpose legal basis is required"},
		"two purposes of one key": {func(c *processing.Config) { c.Purposes = append(c.Purposes, c.Purposes[0]) }, `two purposes with key "helpdesk"`},
		"measure without detail":  {func(c *processing.Config) { c.Measures = []processing.Measure{{Name: "Backups"}} }, "measure detail is required"},
		"processor details without a name": {func(c *processing.Config) {
			c.Processor = processing.Party{Contact: "somewhere"}
		}, "processor has details but no name"},
		"blank data subject category": {func(c *processing.Config) { c.DataSubjects = []string{" "} }, "data subject category is required"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := w.config()
			c.change(&cfg)
			g, err := processing.New(cfg)
			require.ErrorIs(t, err, gdprkit.ErrInvalid)
			assert.Nil(t, g)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	// Within the EEA no mechanism is needed; "EU" stands for several
	// member states.
	cfg := w.config()
	cfg.SubProcessors[1].Country, cfg.SubProcessors[1].TransferMechanism = "EU", ""
	rec, err := processing.Generate(ctx, acct, cfg)
	require.NoError(t, err)
	assert.Empty(t, rec.Transfers)
}

// A generator keeps its own copy of the declarations.
func TestNewCopiesTheDeclarations(t *testing.T) {
	w := newWorld(t, sqldb.SQLite, worldOpt{})
	cfg := w.config()
	g := must(processing.New(cfg))
	cfg.SubProcessors[0].Name = "changed"
	cfg.Purposes[0].Categories[0] = "changed"
	cfg.Measures[0].Name = "changed"
	rec, err := g.Generate(ctx, acct)
	require.NoError(t, err)
	assert.Equal(t, "hosting", rec.Recipients[0].Name)
	assert.Equal(t, erasure.CategoryContact, rec.Purposes[0].Categories[0])
	assert.Equal(t, "Audit log", rec.Security[len(rec.Security)-1].Name)
}

// What the record can show but not fix is listed as an issue: an
// account without controller or purposes, a consent purpose without a
// policy text, a purpose both declared and consented to, no retention
// source, no IP allow list.
func TestIssuesAreListed(t *testing.T) {
	w := newWorld(t, sqldb.SQLite, worldOpt{})
	bare := processing.Config{Erasure: w.erasure, Categories: map[erasure.Kind][]string{erasure.KindBlob: {erasure.CategoryAttachments}}, Clock: w.clock}
	rec, err := processing.Generate(ctx, acct, bare)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"the controller is not named (Config.Controller): Art. 30(1)(a) needs its name and contact details",
		"no purpose is recorded: declare Config.Purposes or pass Config.Consent (Art. 30(1)(b))",
		"no account lifecycle or retention rules are configured (Config.Lifecycle, Config.Schedules): time limits for erasure are unknown (Art. 30(1)(f))",
	}, rec.Issues)
	assert.Nil(t, rec.Processor)
	assert.Equal(t, processing.DefaultDataSubjects, rec.DataSubjects)
	assert.Len(t, rec.Retention, 1, "only the backups of erased data")

	_, err = w.consent.DefinePurpose(ctx, acct, consent.Purpose{Key: "helpdesk", Name: "Support chat"})
	require.NoError(t, err)
	rec, err = processing.Generate(ctx, acct, w.config())
	require.NoError(t, err)
	assert.Equal(t, []string{
		`consent purpose "helpdesk" has no published policy text: no consent to it can be informed`,
		`purpose "helpdesk" is both declared and a consent purpose: give it one legal basis`,
	}, rec.Issues)
	var ip processing.Measure
	for _, m := range rec.Security {
		if m.Source == processing.SourceIPFilter {
			ip = m
		}
	}
	assert.Equal(t, processing.Measure{Name: "IP allow lists", InForce: false, Source: processing.SourceIPFilter,
		Detail: "available per surface (agent panel, API, customer portal); none is set for this account, so any address may reach them"}, ip)

	// Another account's purposes and rules never appear.
	w.seedAccount()
	other, err := processing.Generate(ctx, "globex", w.config())
	require.NoError(t, err)
	for _, p := range other.Purposes {
		assert.Equal(t, processing.SourceDeclared, p.Source)
	}
	for _, p := range other.Retention {
		assert.NotEqual(t, processing.SourceSchedule, p.Source)
	}
}

// A source that fails fails the generation with what was being read; an
// invalid account or an ended context is refused before any source is
// asked.
func TestSourceErrorsAreReturned(t *testing.T) {
	w := newWorld(t, sqldb.SQLite, worldOpt{})
	cfg := w.config()
	cfg.Controller = func(context.Context, gdprkit.AccountID) (processing.Party, error) {
		return processing.Party{}, fmt.Errorf("accounts db: %w", gdprkit.ErrUnavailable)
	}
	_, err := processing.Generate(ctx, acct, cfg)
	require.ErrorIs(t, err, gdprkit.ErrUnavailable)
	assert.Contains(t, err.Error(), "read the controller")

	cfg = w.config()
	cfg.Security = append(cfg.Security, processing.MeasureFunc(func(context.Context, gdprkit.AccountID) ([]processing.Measure, error) {
		return []processing.Measure{{Name: "Backups"}}, nil
	}))
	_, err = processing.Generate(ctx, acct, cfg)
	require.ErrorIs(t, err, gdprkit.ErrInvalid)
	assert.Contains(t, err.Error(), "measure detail is required")

	g := must(processing.New(w.config()))
	_, err = g.Generate(ctx, "")
	assert.ErrorIs(t, err, gdprkit.ErrInvalid)
	ended, cancel := context.WithCancel(ctx)
	cancel()
	_, err = g.Generate(ended, acct)
	assert.ErrorIs(t, err, gdprkit.ErrUnavailable)
}

// What AuthnMeasures claims is what authn does: the TOTP parameters an
// enrolment hands out, the argon2id parameters of a stored hash, the
// session lifetime; and requiring a second factor shows as in force.
func TestAuthnMeasuresMatchAuthn(t *testing.T) {
	w := newWorld(t, sqldb.SQLite, worldOpt{})
	w.seedAccount() // a live trial behind an IP allow list
	for _, c := range []struct {
		name string
		cfg  func(authn.Config) authn.Config
	}{
		{"defaults", func(c authn.Config) authn.Config { return c }},
		{"tuned", func(c authn.Config) authn.Config {
			c.RequireTwoFactor = true
			c.Argon2 = authn.Argon2Params{Memory: 64, Time: 1, Threads: 1}
			c.TOTP = authn.TOTPParams{Algorithm: authn.SHA256, Digits: 8, Period: 60}
			c.SessionLifetime, c.SessionIdle = 8*time.Hour, 30*time.Minute
			c.AccountGate, c.IPGate = nil, nil
			return c
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg(w.authnCfg)
			svc, err := authn.New(cfg)
			require.NoError(t, err)
			ms, err := processing.AuthnMeasures(svc).Measures(ctx, acct)
			require.NoError(t, err)
			by := map[string]processing.Measure{}
			for _, m := range ms {
				by[m.Name] = m
				assert.Equal(t, processing.SourceAuthn, m.Source)
			}

			hash, err := svc.HashPassword(ctx, "a long enough passphrase for tests")
			require.NoError(t, err)
			params := strings.Split(hash, "$")[3] // $argon2id$v=19$m=…,t=…,p=…$salt$hash
			m, tt, p := 0, 0, 0
			_, err = fmt.Sscanf(params, "m=%d,t=%d,p=%d", &m, &tt, &p)
			require.NoError(t, err)
			assert.Contains(t, by["Password hashing"].Detail, fmt.Sprintf("argon2id (m=%d KiB, t=%d, p=%d)", m, tt, p))

			require.NoError(t, svc.CreateUser(ctx, acct, "u-"+c.name, c.name, "a long enough passphrase for tests"))
			ip := netip.MustParseAddr("192.0.2.10")
			res, err := svc.Login(ctx, authn.LoginRequest{Account: acct, Username: c.name, Password: "a long enough passphrase for tests", IP: ip, Surface: gdprkit.SurfaceAgentPanel})
			require.NoError(t, err)
			assert.Equal(t, cfg.RequireTwoFactor, res.EnrolmentRequired, "second factor required")
			assert.Equal(t, cfg.RequireTwoFactor, by["Second factor required"].InForce)
			life := res.Session.ExpiresAt.Sub(res.Session.CreatedAt)
			assert.Contains(t, by["Session timeouts"].Detail, "and "+durationWords(life)+" in all")

			pr, err := svc.AuthenticateSession(ctx, authn.SessionRequest{Account: acct, Token: res.SessionToken, IP: ip, Surface: gdprkit.SurfaceAgentPanel})
			require.NoError(t, err)
			en, err := svc.BeginTOTP(ctx, pr, "ada")
			require.NoError(t, err)
			u, err := url.Parse(en.URI)
			require.NoError(t, err)
			q := u.Query()
			assert.Contains(t, by["Two-factor authentication (TOTP)"].Detail,
				fmt.Sprintf("RFC 6238 TOTP (%s, %s digits, %s s)", q.Get("algorithm"), q.Get("digits"), q.Get("period")))
			assert.True(t, by["TOTP secrets encrypted at rest"].InForce)
			_, gates := by["Login gates"]
			assert.Equal(t, cfg.AccountGate != nil, gates)
		})
	}
}

func durationWords(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprint(n, " days")
	}
	return fmt.Sprint(int(d/time.Hour), " hours")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
