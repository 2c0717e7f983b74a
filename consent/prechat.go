package consent

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/gdprkit/gdprkit"
)

// PreChat renders consent checkboxes for a pre-chat (or contact) form and
// records the grants a submitted form carries. Each checkbox shows the
// purpose's label and the current policy text, and the form carries the
// policy version shown, so the grant records exactly what the visitor saw
// even if a new version is published while the form is open.
//
// Field names: "consent.<purpose>" is the checkbox (value "yes") and
// "consent.<purpose>.version" the version shown. A purpose key may contain
// '.', so purpose "<k>.version" would have the checkbox name of purpose
// "<k>"'s version field: Fields and Record refuse a Purposes list holding
// both (or one key twice) with an error wrapping gdprkit.ErrInvalid, rather
// than render a form whose ticked boxes would be read as unticked.
type PreChat struct {
	// Consent is the service grants are recorded with. Required.
	Consent *Service
	// Purposes are the purpose keys offered, in display order.
	Purposes []string
	// Required are the purposes without which the form is refused
	// (for example the purpose of answering the chat at all).
	Required []string
}

var preChatTmpl = template.Must(template.New("prechat").Parse(`{{range .}}<fieldset class="gdprkit-consent">
<legend>{{.Purpose.Name}}</legend>
<div class="gdprkit-consent-text">{{.Policy.Text}}</div>
<input type="hidden" name="consent.{{.Purpose.Key}}.version" value="{{.Policy.Version}}">
<label><input type="checkbox" name="consent.{{.Purpose.Key}}" value="yes"{{if .Required}} required{{end}}> {{.Purpose.Label}}</label>
</fieldset>
{{end}}`))

type preChatItem struct {
	Purpose  Purpose
	Policy   Policy
	Required bool
}

// Fields returns the HTML of the checkboxes for account, escaped by
// html/template. A purpose without a published policy is an error.
func (p *PreChat) Fields(ctx context.Context, account gdprkit.AccountID) (template.HTML, error) {
	if err := p.checkNames(); err != nil {
		return "", err
	}
	items := make([]preChatItem, 0, len(p.Purposes))
	for _, key := range p.Purposes {
		pu, err := p.Consent.Purpose(ctx, account, key)
		if err != nil {
			return "", err
		}
		pol, err := p.Consent.Policy(ctx, account, key, 0)
		if err != nil {
			return "", err
		}
		items = append(items, preChatItem{Purpose: pu, Policy: pol, Required: p.required(key)})
	}
	var b bytes.Buffer
	if err := preChatTmpl.Execute(&b, items); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // #nosec: produced by html/template
}

// checkNames reports purposes whose form fields would share a name.
func (p *PreChat) checkNames() error {
	keys := make(map[string]bool, len(p.Purposes))
	for _, k := range p.Purposes {
		if keys[k] {
			return fmt.Errorf("%w: consent form: purpose %q is offered twice", gdprkit.ErrInvalid, truncate(k, 80))
		}
		keys[k] = true
	}
	for _, k := range p.Purposes {
		if keys[k+".version"] {
			return fmt.Errorf("%w: consent form: the checkbox of purpose %q would share the name of purpose %q's version field",
				gdprkit.ErrInvalid, truncate(k+".version", 80), truncate(k, 80))
		}
	}
	return nil
}

func (p *PreChat) required(key string) bool {
	for _, k := range p.Required {
		if k == key {
			return true
		}
	}
	return false
}

// Submission is what the host knows about a submitted form besides its fields.
type Submission struct {
	Subject    gdprkit.SubjectID
	IP         netip.Addr
	RecordedBy gdprkit.ActorID
}

// Record parses r's form and records a grant for every ticked purpose, with
// the version shown, the label as wording, and r's User-Agent, in one atomic
// step. It returns the records (none when no box was ticked). A required
// purpose left unticked, a missing or malformed version, or any other bad
// input (including a Purposes list with colliding field names) returns an
// error wrapping gdprkit.ErrInvalid or ErrNotFound and records nothing.
func (p *PreChat) Record(ctx context.Context, account gdprkit.AccountID, r *http.Request, sub Submission) ([]Record, error) {
	if err := p.checkNames(); err != nil {
		return nil, err
	}
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("%w: consent form: %v", gdprkit.ErrInvalid, err)
	}
	var ds []Decision
	for _, key := range p.Purposes {
		if r.PostForm.Get("consent."+key) != "yes" {
			if p.required(key) {
				return nil, fmt.Errorf("%w: consent to %q is required", gdprkit.ErrInvalid, key)
			}
			continue
		}
		v, err := strconv.Atoi(r.PostForm.Get("consent." + key + ".version"))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%w: consent form: bad policy version for %q", gdprkit.ErrInvalid, key)
		}
		// Wording is left empty: the decision then records the purpose's
		// label, the text the checkbox showed, read once while drafting.
		ds = append(ds, Decision{Subject: sub.Subject, Purpose: key, PolicyVersion: v, Source: SourcePreChat,
			IP: sub.IP, UserAgent: truncate(r.UserAgent(), MaxUserAgent-4), RecordedBy: sub.RecordedBy})
	}
	if len(ds) == 0 {
		return nil, nil
	}
	return p.Consent.Record(ctx, account, ds, Grant)
}
