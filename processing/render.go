package processing

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strings"
	"time"
)

// Markdown renders the record as a Markdown document: one section per
// paragraph of Art. 30, tables for kinds, recipients, time limits and
// measures. Every value from configuration or storage is escaped, so a
// name cannot add headings, links or HTML.
func (r Record) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Record of processing activities\n\n")
	w("Account %s · generated %s · GDPR Art. 30\n", code(string(r.Account)), r.GeneratedAt.UTC().Format("2006-01-02 15:04 MST"))

	w("\n## Controller (Art. 30(1)(a))\n\n")
	party(&b, r.Controller)
	if r.Processor != nil {
		w("\n## Processor (Art. 30(2)(a))\n\n")
		party(&b, *r.Processor)
	}

	w("\n## Purposes and legal bases (Art. 30(1)(b))\n\n")
	if len(r.Purposes) == 0 {
		w("None recorded.\n")
	}
	for _, p := range r.Purposes {
		w("- **%s** (%s): %s", md(p.Name), code(p.Key), md(p.LegalBasis))
		if p.Description != "" {
			w(". %s", md(upper(p.Description)))
		}
		if p.Consent != nil {
			w(". %s", consentTerms(*p.Consent))
		}
		if len(p.Categories) > 0 {
			w(". Data: %s", md(strings.Join(p.Categories, ", ")))
		}
		w("\n")
	}

	w("\n## Categories of data subjects (Art. 30(1)(c))\n\n")
	for _, s := range r.DataSubjects {
		w("- %s\n", md(s))
	}

	w("\n## Categories of personal data (Art. 30(1)(c))\n")
	for _, c := range r.DataCategories {
		w("\n### %s\n\n", md(c.Category))
		if c.Description != "" {
			w("%s.\n\n", md(upper(c.Description)))
		}
		w("| Kind | Under | Held in | On erasure | Exported on access |\n|---|---|---|---|---|\n")
		for _, k := range c.Kinds {
			w("| %s | %s | %s | %s | %s |\n", code(string(k.Kind)), orDash(code(string(k.Parent))), orDash(md(k.Description)), onErasure(k), yesNo(k.Exported))
		}
	}

	w("\n## Recipients (Art. 30(1)(d))\n\n")
	if len(r.Recipients) == 0 {
		w("None.\n")
	} else {
		w("| Recipient | Purpose | Data | Where | Agreement | Told of erasures (Art. 19) |\n|---|---|---|---|---|---|\n")
		for _, x := range r.Recipients {
			w("| %s | %s | %s | %s | %s | %s |\n", md(x.Name), orDash(md(x.Purpose)), orDash(md(strings.Join(x.Categories, ", "))),
				orDash(where(x.Region, x.Country)), orDash(agreement(x)), yesNo(x.NotifiedOfErasure))
		}
	}

	w("\n## Transfers to third countries (Art. 30(1)(e))\n\n")
	if len(r.Transfers) == 0 {
		w("None: every recipient processes the data in the EEA.\n")
	} else {
		w("| Recipient | Country | Safeguard |\n|---|---|---|\n")
		for _, t := range r.Transfers {
			w("| %s | %s | %s |\n", md(t.Recipient), where(t.Region, t.Country), md(t.Mechanism))
		}
	}

	w("\n## Time limits for erasure (Art. 30(1)(f))\n\n")
	w("| What | After | Then | Source |\n|---|---|---|---|\n")
	for _, p := range r.Retention {
		src := p.Source
		if p.Disabled {
			src += " (disabled)"
		}
		w("| %s | %s | %s | %s |\n", md(upper(p.What)), md(p.After), md(p.Then), md(src))
	}

	w("\n## Security measures (Art. 30(1)(g), Art. 32)\n\n")
	w("| Measure | How | In force | Source |\n|---|---|---|---|\n")
	for _, m := range r.Security {
		w("| %s | %s | %s | %s |\n", md(m.Name), md(m.Detail), yesNo(m.InForce), md(m.Source))
	}

	if len(r.Issues) > 0 {
		w("\n## Issues to resolve\n\n")
		for _, i := range r.Issues {
			w("- %s\n", md(i))
		}
	}
	return b.String()
}

func party(b *strings.Builder, p Party) {
	fmt.Fprintf(b, "- Name: %s\n", orDash(md(p.Name)))
	if p.Contact != "" {
		fmt.Fprintf(b, "- Contact: %s\n", md(p.Contact))
	}
	if p.DPO != "" {
		fmt.Fprintf(b, "- Data protection officer: %s\n", md(p.DPO))
	}
	if p.Representative != "" {
		fmt.Fprintf(b, "- Representative in the Union: %s\n", md(p.Representative))
	}
}

func consentTerms(t ConsentTerms) string {
	if t.PolicyVersion == 0 {
		return "No policy text published yet"
	}
	s := fmt.Sprintf("Policy version %d (material version %d), published %s, text SHA-256 %s",
		t.PolicyVersion, t.MaterialVersion, t.PublishedAt.UTC().Format(time.DateOnly), code(short(t.TextHash)))
	if t.Lifetime != "" {
		s += ", a grant lasts " + md(t.Lifetime)
	}
	return s
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

func onErasure(k Kind) string {
	s := string(k.OnErasure)
	if k.Ground != "" {
		s += ": " + k.Ground
	}
	return md(s)
}

func where(region, country string) string {
	switch {
	case region == "":
		return md(country)
	case country == "":
		return md(region)
	}
	return md(region + " (" + country + ")")
}

func agreement(x Recipient) string {
	s := x.Agreement
	if x.AgreementDate != "" {
		s += " of " + x.AgreementDate
	}
	if x.TransferMechanism != "" {
		s += "; " + x.TransferMechanism
	}
	return md(strings.TrimPrefix(s, " of "))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// mdEscaper escapes what Markdown (CommonMark and GFM tables) would read
// as markup; line breaks become spaces so a value stays in its cell.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`, `<`, `\<`, `>`, `\>`,
	`|`, `\|`, `#`, `\#`, "\r\n", " ", "\n", " ", "\r", " ")

// md escapes s for Markdown text, also a leading list or heading marker
// ("- ", "+ ", "1. ") that would start a nested block in a list item.
func md(s string) string {
	s = mdEscaper.Replace(s)
	if s != "" && (s[0] == '-' || s[0] == '+' || s[0] == '=') {
		return `\` + s
	}
	if m := orderedMarker.FindStringIndex(s); m != nil {
		return s[:m[1]-1] + `\` + s[m[1]-1:]
	}
	return s
}

var orderedMarker = regexp.MustCompile(`^[0-9]{1,9}[.)]`)

// code renders an identifier as a code span, or escaped text when it
// holds a backquote or a line break.
func code(s string) string {
	if s == "" {
		return ""
	}
	if strings.ContainsAny(s, "`\r\n|") {
		return md(s)
	}
	return "`" + s + "`"
}

//go:embed record.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("record").Funcs(template.FuncMap{
	"date":  func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	"stamp": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") },
	"upper": upper,
	"short": short,
	"join":  func(s []string) string { return strings.Join(s, ", ") },
}).Parse(htmlSource))

// HTML renders the record as an HTML fragment (one <article>) for a
// host's own page layout. html/template escapes every value.
func (r Record) HTML() (template.HTML, error) {
	var b bytes.Buffer
	if err := htmlTemplate.ExecuteTemplate(&b, "article", r); err != nil {
		return "", fmt.Errorf("processing: render HTML: %w", err)
	}
	return template.HTML(b.String()), nil // escaped by html/template above
}

// WriteHTML writes the record as a complete HTML page with its own small
// stylesheet, ready to save or print.
func (r Record) WriteHTML(w io.Writer) error {
	if err := htmlTemplate.ExecuteTemplate(w, "page", r); err != nil {
		return fmt.Errorf("processing: render HTML: %w", err)
	}
	return nil
}
