package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/processing"
)

// Every kind the helpdesk binds declares its data categories (the blob
// kind through its BlobSpec's default): the check a host keeps beside its
// binding, and NewApp refuses to start without it.
func TestHelpdeskBindingIsCategorised(t *testing.T) {
	e := newEnv(t, false)
	assert.NoError(t, processing.Check(e.app.kit.Erasure.Graph(), nil))
}

// Staff read the record of processing as a page, as JSON and as
// Markdown; it is generated from the app's own services (the demo's
// consent purposes, the lifecycle, the IP lists, authn) and holds no
// customer's data. Anyone else is sent to the login page.
func TestRecordOfProcessingOverHTTP(t *testing.T) {
	e := newEnv(t, false)
	anon := e.browser()
	_, body := anon.get("/privacy/record.json")
	assert.NotContains(t, body, "data_categories", "not without a login")
	assert.Contains(t, body, `name="password"`)

	b := e.browser()
	b.login(agentUser, agentPass)
	status, body := b.get("/privacy")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `href="/privacy/record"`)

	status, page := b.get("/privacy/record")
	require.Equal(t, http.StatusOK, status)
	for _, want := range []string{"<h1>Record of processing activities</h1>", `<section id="security">`, "<code>authored_message</code>",
		"Art. 6(1)(a) consent", "Answering your message", "Trial account not upgraded", "14 days", "Olivia Owner (owner)",
		"Second factor required", "None: every recipient processes the data in the EEA."} {
		assert.Contains(t, page, want)
	}
	assert.Equal(t, 1, strings.Count(page, "<html"), "the record sits inside the app's layout")

	resp, err := b.c.Get(e.srv.URL + "/privacy/record.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var rec processing.Record
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rec))
	assert.Equal(t, e.app.acct, rec.Account)
	assert.Equal(t, e.clock.Now(), rec.GeneratedAt)
	kinds := map[erasure.Kind]bool{}
	for _, c := range rec.DataCategories {
		for _, k := range c.Kinds {
			kinds[k.Kind] = true
		}
	}
	for _, k := range e.app.kit.Erasure.Graph().Order() {
		assert.True(t, kinds[k], "kind %s is in the record", k)
	}
	var keys []string
	for _, p := range rec.Purposes {
		keys = append(keys, p.Key)
	}
	assert.Equal(t, []string{"service", purposeNewsletter, purposeSupport}, keys)
	assert.Equal(t, "14 days", rec.Retention[0].After)
	assert.Empty(t, rec.Issues)
	raw, _ := json.Marshal(rec)
	for _, personal := range []string{"carla@example.com", "Carla", "Ben Baker", "Invoice 2291"} {
		assert.NotContains(t, string(raw), personal)
	}

	status, md := b.get("/privacy/record.md")
	assert.Equal(t, http.StatusOK, status)
	assert.True(t, strings.HasPrefix(md, "# Record of processing activities\n"))
	assert.Contains(t, md, "| `authored_message` | — | messages the person wrote in other people's tickets: author removed | anonymize | yes |")
}
