package processing_test

import (
	"bytes"
	"context"
	"html/template"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/processing"
	"github.com/gdprkit/gdprkit/sqldb"
)

// hostile is what a careless or malicious admin might type as a name.
const hostile = "Evil <script>alert(1)</script> | ## heading [link](http://x) `tick` *bold*\n- item"

func hostileRecord(t *testing.T) processing.Record {
	t.Helper()
	w := newWorld(t, sqldb.SQLite, worldOpt{recipients: []string{"crm"}})
	w.seedAccount()
	cfg := w.config()
	cfg.Controller = func(context.Context, gdprkit.AccountID) (processing.Party, error) {
		return processing.Party{Name: hostile, Contact: "- 1. not a list"}, nil
	}
	rec, err := processing.Generate(ctx, acct, cfg)
	require.NoError(t, err)
	return rec
}

// Values from configuration and storage cannot add Markdown structure:
// no heading, link, code span, table cell or list item of their own.
func TestMarkdownEscapesValues(t *testing.T) {
	md := hostileRecord(t).Markdown()
	assert.Contains(t, md, `- Name: Evil \<script\>alert(1)\</script\> \| \#\# heading \[link\](http://x) \`+"`"+`tick\`+"`"+` \*bold\* - item`+"\n", "a line break is a space: the item stays on its line")
	assert.Contains(t, md, "- Contact: \\- 1. not a list\n")
	for _, line := range strings.Split(md, "\n") {
		assert.False(t, strings.HasPrefix(line, "## heading"), "no injected heading")
		assert.False(t, strings.HasPrefix(line, "- item"), "no injected list item")
	}
}

// The HTML fragment and page escape every value, and hold every section.
func TestHTMLEscapesValues(t *testing.T) {
	rec := hostileRecord(t)
	frag, err := rec.HTML()
	require.NoError(t, err)
	var page bytes.Buffer
	require.NoError(t, rec.WriteHTML(&page))
	for name, out := range map[string]string{"fragment": string(frag), "page": page.String()} {
		assert.NotContains(t, out, "<script>", name)
		assert.Contains(t, out, "Evil &lt;script&gt;alert(1)&lt;/script&gt;", name)
		for _, id := range []string{"controller", "processor", "purposes", "subjects", "data", "recipients", "transfers", "retention", "security"} {
			assert.Contains(t, out, `<section id="`+id+`">`, name)
		}
		assert.Contains(t, out, "<code>end_user</code>", name)
		assert.Contains(t, out, "SCCs 2021/914 module 3", name)
		assert.Contains(t, out, "told of erasures but not declared", name)
	}
	assert.True(t, strings.HasPrefix(page.String(), "<!doctype html>"))
	assert.Contains(t, page.String(), "<title>Record of processing activities · acme</title>")
	assert.False(t, strings.Contains(string(frag), "<html"), "the fragment fits a host's layout")
	var _ template.HTML = frag
}
