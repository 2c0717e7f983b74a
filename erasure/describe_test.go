package erasure_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gdprkit/gdprkit/erasure"
)

// The read-only views report the configuration the service runs with:
// Config.Rules over the targets' defaults, recipients in notification
// order, the backup retention default; changing what they return changes
// nothing in the service.
func TestServiceDescribesItsConfiguration(t *testing.T) {
	keep := erasure.Rule{Action: erasure.Keep, Ground: "Art. 17(3)(e): a dispute", Fields: map[string]erasure.Action{"subject": erasure.Keep}}
	e := newEnv(t, envOpt{recipients: true, rules: map[erasure.Kind]erasure.Rule{erasure.KindTicket: keep}})

	assert.Same(t, e.svc.Graph(), e.svc.Graph())
	assert.Equal(t, e.svc.Graph().Order(), e.svc.Graph().Order())
	rules := e.svc.Rules()
	assert.Len(t, rules, len(e.svc.Graph().Order()), "one rule per kind")
	assert.Equal(t, keep, rules[erasure.KindTicket], "Config.Rules wins over the default")
	assert.Equal(t, erasure.Delete, rules[erasure.KindMessage].Action, "the target's default")
	assert.Equal(t, erasure.Anonymize, rules[erasure.KindConsent].Action)

	rules[erasure.KindTicket].Fields["subject"] = erasure.Delete
	rules[erasure.KindMessage] = erasure.Rule{Action: erasure.Keep, Ground: "x"}
	again := e.svc.Rules()
	assert.Equal(t, erasure.Keep, again[erasure.KindTicket].Fields["subject"], "a caller's edit does not reach the service")
	assert.Equal(t, erasure.Delete, again[erasure.KindMessage].Action)

	assert.Equal(t, []string{"crm"}, e.svc.Recipients())
	e.svc.Recipients()[0] = "changed"
	assert.Equal(t, []string{"crm"}, e.svc.Recipients())
	assert.Equal(t, 30*24*time.Hour, e.svc.BackupRetention(), "the documented default")

	bare := newEnv(t, envOpt{})
	assert.Empty(t, bare.svc.Recipients())
}
