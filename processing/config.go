package processing

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/ipfilter"
	"github.com/gdprkit/gdprkit/retention"
)

// ErasureSource is what the record reads from the erasure engine.
// *erasure.Service implements it.
type ErasureSource interface {
	// Graph is the cascade graph: the kinds of data and their categories.
	Graph() *erasure.Graph
	// Rules is the rule each kind gets when a request names none.
	Rules() map[erasure.Kind]erasure.Rule
	// Recipients names the recipients notified of every erasure (Art. 19).
	Recipients() []string
	// BackupRetention is how long erased data survives in backups.
	BackupRetention() time.Duration
}

// ConsentSource is what the record reads from package consent.
// *consent.Service implements it.
type ConsentSource interface {
	// Purposes lists the account's consent purposes.
	Purposes(ctx context.Context, account gdprkit.AccountID) ([]consent.Purpose, error)
	// Policy returns one published version of a purpose's text.
	Policy(ctx context.Context, account gdprkit.AccountID, purpose string, version int) (consent.Policy, error)
}

// LifecycleSource is what the record reads from the account lifecycle.
// *retention.Service implements it.
type LifecycleSource interface {
	// Policy returns the durations of the lifecycle's timers.
	Policy() retention.Policy
}

// ScheduleSource is what the record reads from the retention schedules.
// *retention.Schedules implements it.
type ScheduleSource interface {
	// Rules lists the account's retention rules.
	Rules(ctx context.Context, account gdprkit.AccountID) ([]retention.Rule, error)
}

// IPRuleSource is what the record reads from the IP filter.
// *ipfilter.Filter implements it.
type IPRuleSource interface {
	// Rules returns the account's allow and deny lists.
	Rules(ctx context.Context, account gdprkit.AccountID) (ipfilter.RuleSet, error)
}

// MeasureSource reports security measures in force for an account.
// AuthnMeasures builds one from an authn service's settings; MeasureFunc adapts a
// function.
type MeasureSource interface {
	// Measures returns the measures in force for account.
	Measures(ctx context.Context, account gdprkit.AccountID) ([]Measure, error)
}

// MeasureFunc adapts a function to MeasureSource.
type MeasureFunc func(ctx context.Context, account gdprkit.AccountID) ([]Measure, error)

// Measures calls f.
func (f MeasureFunc) Measures(ctx context.Context, account gdprkit.AccountID) ([]Measure, error) {
	return f(ctx, account)
}

// ControllerFunc returns the controller of an account: the customer who
// owns it, with its contact and DPO, from the host's account settings.
type ControllerFunc func(ctx context.Context, account gdprkit.AccountID) (Party, error)

// SubProcessor is a processor the host engages (hosting, e-mail delivery,
// storage) and declares in Config.SubProcessors.
type SubProcessor struct {
	// Name identifies it; a recipient of erasure.Config.Recipients with
	// the same name is the same party. Required.
	Name string
	// Purpose is what it does with the data. Required.
	Purpose string
	// Categories are the data categories it receives (empty: not stated).
	Categories []string
	// Region is where it processes the data, in words ("EU
	// (Frankfurt)"). Required.
	Region string
	// Country is the ISO 3166-1 alpha-2 code of that place, or "EU" /
	// "EEA" for several member states. Outside the EEA it is a transfer
	// and needs TransferMechanism. Required.
	Country string
	// Agreement is the reference of the data processing agreement (Art.
	// 28(3)). Required.
	Agreement string
	// AgreementDate is the date it was signed, YYYY-MM-DD. Required.
	AgreementDate string
	// TransferMechanism is the safeguard of a transfer outside the EEA
	// ("adequacy decision", "SCCs 2021/914 module 3"). Required outside
	// the EEA.
	TransferMechanism string
}

// DeclaredPurpose is a purpose that does not rest on consent (the
// helpdesk service itself under contract, legal obligations, legitimate
// interests), declared in Config.Purposes.
type DeclaredPurpose struct {
	// Key identifies the purpose. Required, unique among purposes.
	Key string
	// Name is the human name. Required.
	Name string
	// Description is optional longer text.
	Description string
	// LegalBasis is the ground ("Art. 6(1)(b) contract"). Required.
	LegalBasis string
	// Categories are the data categories it uses.
	Categories []string
}

// Config is what a Generator needs. Erasure is required; every other
// source may be nil, and the record then says the part is unknown (an
// Issue) instead of guessing.
type Config struct {
	// Erasure is the erasure engine: kinds, categories, rules,
	// recipients. Required.
	Erasure ErasureSource
	// Consent provides the consent purposes and policies.
	Consent ConsentSource
	// Lifecycle provides the account lifecycle's timers.
	Lifecycle LifecycleSource
	// Schedules provides the account's retention rules.
	Schedules ScheduleSource
	// IPRules provides the account's IP allow and deny lists.
	IPRules IPRuleSource
	// Security are further sources of measures (AuthnMeasures, a host's
	// own MeasureFunc).
	Security []MeasureSource
	// Controller returns the account's controller.
	Controller ControllerFunc

	// Processor is the processor running the helpdesk for its customers
	// (the vendor). Zero: the controller runs it itself.
	Processor Party
	// Purposes are the purposes that do not rest on consent.
	Purposes []DeclaredPurpose
	// SubProcessors are the processors the host engages.
	SubProcessors []SubProcessor
	// Measures are the measures gdprkit cannot see (audit log storage,
	// backups, staff training, physical security), all in force.
	Measures []Measure
	// DataSubjects are the categories of data subjects. Default: the
	// account's end users (customers, contacts, visitors, portal users),
	// its agents and admins, and its owner.
	DataSubjects []string
	// Categories declares the data categories of kinds whose target
	// cannot (a host's own code); they are added to what the target
	// declares.
	Categories map[erasure.Kind][]string
	// Clock stamps the record. Default: gdprkit.SystemClock.
	Clock gdprkit.Clock
}

// DefaultDataSubjects are the categories of data subjects of a helpdesk
// account, used when Config.DataSubjects is empty.
var DefaultDataSubjects = []string{
	"end users: customers, contacts, chat visitors and customer-portal users",
	"agents and admins of the account",
	"the account owner",
}

// eea lists the member states of the European Economic Area.
var eea = map[string]bool{
	"AT": true, "BE": true, "BG": true, "HR": true, "CY": true, "CZ": true, "DK": true, "EE": true, "FI": true,
	"FR": true, "DE": true, "GR": true, "HU": true, "IE": true, "IT": true, "LV": true, "LT": true, "LU": true,
	"MT": true, "NL": true, "PL": true, "PT": true, "RO": true, "SK": true, "SI": true, "ES": true, "SE": true,
	"IS": true, "LI": true, "NO": true, "EU": true, "EEA": true,
}

// InEEA reports whether country (ISO 3166-1 alpha-2, or "EU" / "EEA") is
// in the European Economic Area: processing there is no transfer.
func InEEA(country string) bool { return eea[country] }

func validCountry(c string) bool {
	if c == "EU" || c == "EEA" {
		return true
	}
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

// text checks a declared text field: required or not, at most max bytes
// of valid UTF-8 without control characters.
func text(what, v string, required bool, max int) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return fmt.Errorf("%w: processing: %s is required", gdprkit.ErrInvalid, what)
	case len(v) > max:
		return fmt.Errorf("%w: processing: %s is longer than %d bytes", gdprkit.ErrInvalid, what, max)
	case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\n' || r == 0x7f }):
		return fmt.Errorf("%w: processing: %s holds invalid UTF-8 or a control character", gdprkit.ErrInvalid, what)
	}
	return nil
}

// ValidCategory reports whether c is usable as a data category: 1 to 64
// bytes of lower-case letters, digits, spaces, '-' and '_', neither
// starting nor ending with a space.
func ValidCategory(c string) error {
	if c == "" || len(c) > 64 || c[0] == ' ' || c[len(c)-1] == ' ' {
		return fmt.Errorf("%w: data category %q must be 1-64 bytes without leading or trailing spaces", gdprkit.ErrInvalid, shorten(c))
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == ' ' || b == '-' || b == '_') {
			return fmt.Errorf("%w: data category %q may hold only a-z, 0-9, space, '-' and '_'", gdprkit.ErrInvalid, shorten(c))
		}
	}
	return nil
}

func shorten(s string) string {
	if len(s) <= 40 {
		return s
	}
	return strings.ToValidUTF8(s[:40], "") + "…"
}

func (p Party) validate(what string) error {
	for _, f := range []struct {
		n, v string
	}{{"name", p.Name}, {"contact", p.Contact}, {"DPO", p.DPO}, {"representative", p.Representative}} {
		if err := text(what+" "+f.n, f.v, false, 500); err != nil {
			return err
		}
	}
	if p.Name == "" && (p.Contact != "" || p.DPO != "" || p.Representative != "") {
		return fmt.Errorf("%w: processing: %s has details but no name", gdprkit.ErrInvalid, what)
	}
	return nil
}

func (s SubProcessor) validate() error {
	for _, f := range []struct {
		n, v string
		req  bool
	}{{"name", s.Name, true}, {"purpose", s.Purpose, true}, {"region", s.Region, true}, {"agreement", s.Agreement, true},
		{"transfer mechanism", s.TransferMechanism, false}} {
		if err := text("sub-processor "+f.n, f.v, f.req, 500); err != nil {
			return err
		}
	}
	if !validCountry(s.Country) {
		return fmt.Errorf("%w: processing: sub-processor %q: country %q is not an ISO 3166-1 alpha-2 code (or EU, EEA)", gdprkit.ErrInvalid, s.Name, shorten(s.Country))
	}
	if _, err := time.Parse(time.DateOnly, s.AgreementDate); err != nil {
		return fmt.Errorf("%w: processing: sub-processor %q: agreement date %q is not YYYY-MM-DD", gdprkit.ErrInvalid, s.Name, shorten(s.AgreementDate))
	}
	if !InEEA(s.Country) && strings.TrimSpace(s.TransferMechanism) == "" {
		return fmt.Errorf("%w: processing: sub-processor %q processes data in %s, outside the EEA, without a transfer mechanism (Art. 44-49)",
			gdprkit.ErrInvalid, s.Name, s.Country)
	}
	for _, c := range s.Categories {
		if err := ValidCategory(c); err != nil {
			return fmt.Errorf("sub-processor %q: %w", s.Name, err)
		}
	}
	return nil
}

func (p DeclaredPurpose) validate() error {
	for _, f := range []struct {
		n, v string
		req  bool
	}{{"key", p.Key, true}, {"name", p.Name, true}, {"description", p.Description, false}, {"legal basis", p.LegalBasis, true}} {
		if err := text("purpose "+f.n, f.v, f.req, 1000); err != nil {
			return err
		}
	}
	for _, c := range p.Categories {
		if err := ValidCategory(c); err != nil {
			return fmt.Errorf("purpose %q: %w", p.Key, err)
		}
	}
	return nil
}

func (m Measure) validate() error {
	if err := text("measure name", m.Name, true, 200); err != nil {
		return err
	}
	return text("measure detail", m.Detail, true, 2000)
}
