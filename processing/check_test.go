package processing_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/erasure"
	"github.com/gdprkit/gdprkit/erasure/kitdata"
	"github.com/gdprkit/gdprkit/erasure/memhelpdesk"
	"github.com/gdprkit/gdprkit/processing"
	"github.com/gdprkit/gdprkit/sqldb"
	"github.com/gdprkit/gdprkit/store/memstore"
)

// A table bound without a data category fails the check, by name, and a
// generator cannot be built over it; declaring its categories in the spec
// (or in Config.Categories) passes. The blob kind needs neither: the blob
// target declares attachments itself.
func TestBoundKindWithoutCategoryFails(t *testing.T) {
	specs := hostSpecs()
	specs[2].Categories = nil // pr_messages
	w := newWorld(t, sqldb.SQLite, worldOpt{specs: specs})

	err := processing.Check(w.erasure.Graph(), nil)
	var un *processing.UncategorisedError
	require.ErrorAs(t, err, &un)
	assert.Equal(t, []erasure.Kind{erasure.KindMessage}, un.Kinds)
	assert.ErrorIs(t, err, gdprkit.ErrInvalid)
	assert.Contains(t, err.Error(), "1 kind(s) without a data category: message")

	_, err = processing.New(w.config())
	require.ErrorAs(t, err, &un, "New refuses the graph too")
	_, err = processing.Generate(ctx, acct, w.config())
	require.ErrorAs(t, err, &un)

	assert.NoError(t, processing.Check(w.erasure.Graph(), map[erasure.Kind][]string{erasure.KindMessage: {erasure.CategoryContent}}))
}

// Every kind of the full host binding, the kit targets and the blob kind
// included, declares a category: the record needs no help.
func TestHostBindingIsCategorised(t *testing.T) {
	w := newWorld(t, sqldb.SQLite, worldOpt{})
	assert.NoError(t, processing.Check(w.erasure.Graph(), nil))
	for _, info := range w.erasure.Graph().Targets() {
		if info.Kind == erasure.KindBlob {
			assert.Equal(t, []string{erasure.CategoryAttachments}, info.Categories, "sqltarget's BlobSpec default")
		}
	}
}

// The built-in kit targets (consent, credentials, spam lessons, actor
// references) declare their categories: next to the in-memory reference
// helpdesk, whose targets declare none, only the helpdesk's kinds fail.
func TestKitTargetsDeclareCategories(t *testing.T) {
	ms := memstore.New()
	ps, err := gdprkit.NewPseudonymizer([]byte("processing-test-key-0123456789abcdef"))
	require.NoError(t, err)
	cs, err := consent.New(consent.Config{Store: ms.Consent(), Pseudonymizer: ps})
	require.NoError(t, err)
	hd := memhelpdesk.New()
	kit := []erasure.Target{kitdata.ConsentTarget(cs), kitdata.CredentialsTarget(nil),
		kitdata.ActorRefsTarget("ip_rule_author", "IP entries", nil), kitdata.SpamLessonTarget(nil, erasure.KindMessage, nil)}
	for _, k := range kit {
		info := k.Info()
		assert.NotEmpty(t, info.Categories, "kit target %s", info.Kind)
		for _, c := range info.Categories {
			assert.NoError(t, processing.ValidCategory(c))
			assert.NotEmpty(t, processing.CategoryDescription(c), "%s uses the standard vocabulary", info.Kind)
		}
	}
	g, err := erasure.NewGraph(append(hd.Targets(), kit...)...)
	require.NoError(t, err)
	err = processing.Check(g, nil)
	var un *processing.UncategorisedError
	require.ErrorAs(t, err, &un)
	var hdKinds []erasure.Kind
	for _, t := range hd.Targets() {
		if t.Info().Kind != erasure.KindBlob { // the blob target declares attachments
			hdKinds = append(hdKinds, t.Info().Kind)
		}
	}
	assert.ElementsMatch(t, hdKinds, un.Kinds, "only the reference helpdesk's kinds lack categories")
}

// Malformed categories and categories for kinds the graph lacks are
// refused with the reason.
func TestCheckRefusesBadDeclarations(t *testing.T) {
	w := newWorld(t, sqldb.SQLite, worldOpt{})
	blob := []string{erasure.CategoryAttachments}
	for name, c := range map[string]struct {
		extra map[erasure.Kind][]string
		want  string
	}{
		"unknown kind":           {map[erasure.Kind][]string{erasure.KindBlob: blob, "tickets": {"content"}}, "kinds the graph does not have: tickets"},
		"upper case":             {map[erasure.Kind][]string{erasure.KindBlob: {"Attachments"}}, "may hold only"},
		"empty":                  {map[erasure.Kind][]string{erasure.KindBlob: {""}}, "1-64 bytes"},
		"leading space":          {map[erasure.Kind][]string{erasure.KindBlob: {" files"}}, "1-64 bytes"},
		"markup":                 {map[erasure.Kind][]string{erasure.KindBlob: {"<b>files</b>"}}, "may hold only"},
		"longer than 64 bytes":   {map[erasure.Kind][]string{erasure.KindBlob: {string(make([]byte, 65))}}, "1-64 bytes"},
		"spec with bad category": {nil, "may hold only"},
	} {
		t.Run(name, func(t *testing.T) {
			g := w.erasure.Graph()
			extra := c.extra
			if extra == nil {
				specs := hostSpecs()
				specs[0].Categories = []string{"E-Mail"}
				g = newWorld(t, sqldb.SQLite, worldOpt{specs: specs}).erasure.Graph()
				extra = map[erasure.Kind][]string{erasure.KindBlob: blob}
			}
			err := processing.Check(g, extra)
			require.ErrorIs(t, err, gdprkit.ErrInvalid)
			assert.Contains(t, err.Error(), c.want)
			var un *processing.UncategorisedError
			assert.False(t, errors.As(err, &un))
		})
	}
	assert.ErrorIs(t, processing.Check(nil, nil), gdprkit.ErrInvalid)
}
