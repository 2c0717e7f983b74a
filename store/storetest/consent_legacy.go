package storetest

import (
	"context"
	_ "embed" // the version-1 chain fixture
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
)

//go:embed testdata/consent_chain_v1.json
var consentChainV1 []byte

// LegacyConsentChain is a consent chain as gdprkit stored it before chain
// version 2, written by that code with TestKey as pseudonymizer key: seven
// records of subjects c-carla and c-ben (who recorded their own consent,
// RecordedBy = their ID, with IP and user agent) and c-dora (recorded by
// agent a-agent1), where c-ben was then pseudonymised under the old rule.
// Proofs holds the version-1 proofs that code exported: "carla_before",
// "ben_before" (before c-ben was pseudonymised) and "ben_after".
type LegacyConsentChain struct {
	// Account is the account the chain belongs to; its hashes bind it.
	Account gdprkit.AccountID `json:"account"`
	// Purposes and Policies are the account's purposes and policy texts.
	Purposes []consent.Purpose `json:"purposes"`
	Policies []consent.Policy  `json:"policies"`
	// Records are the stored records in chain order, and Head the chain head.
	Records []consent.Record  `json:"records"`
	Head    consent.ChainHead `json:"head"`
	// Proofs are the proofs exported by the old code, by name.
	Proofs map[string]*consent.Proof `json:"proofs"`
}

// LoadLegacyConsentChain decodes the version-1 fixture. Every record gets
// Version 1, as a migrated SQL row has.
func LoadLegacyConsentChain(t testing.TB) *LegacyConsentChain {
	t.Helper()
	var lc LegacyConsentChain
	require.NoError(t, json.Unmarshal(consentChainV1, &lc))
	require.Len(t, lc.Records, 7)
	for i := range lc.Records {
		lc.Records[i].Version = 1
	}
	return &lc
}

// StoreLegacyConsentChain writes lc into st through the consent.Store
// contract, as the old code had stored it: purposes, policies in order,
// and the records appended as they are (the seal function replays their
// chain data and refuses a record that does not link to the head).
func StoreLegacyConsentChain(t testing.TB, st consent.Store, lc *LegacyConsentChain) {
	t.Helper()
	ctx := context.Background()
	for _, p := range lc.Purposes {
		require.NoError(t, st.CreatePurpose(ctx, lc.Account, p))
	}
	for _, p := range lc.Policies {
		got, err := st.PublishPolicy(ctx, lc.Account, p)
		require.NoError(t, err)
		require.Equal(t, p.Version, got.Version)
	}
	_, err := st.Append(ctx, lc.Account, lc.Records, func(head consent.ChainHead, r *consent.Record) error {
		if r.Seq != head.Seq+1 || r.PrevHash != head.Hash {
			return fmt.Errorf("fixture record %d does not follow head %d", r.Seq, head.Seq)
		}
		return nil
	})
	require.NoError(t, err)
}
