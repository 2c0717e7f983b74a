package processing

import (
	"time"

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/erasure"
)

// Record is the record of processing activities of one account (GDPR
// Art. 30(1) as the controller's record, 30(2) as the processor's), as
// Generate builds it. It holds no personal data of data subjects.
type Record struct {
	// Account is the account (tenant) the record describes.
	Account gdprkit.AccountID `json:"account"`
	// GeneratedAt is when the record was generated (Config.Clock).
	GeneratedAt time.Time `json:"generated_at"`
	// Controller is the account's controller, its DPO and representative
	// (Art. 30(1)(a)).
	Controller Party `json:"controller"`
	// Processor is the processor running the helpdesk for the controller
	// (Art. 30(2)(a)); nil when the controller runs it itself.
	Processor *Party `json:"processor,omitempty"`
	// Purposes are the purposes of the processing with their legal bases
	// (Art. 30(1)(b)).
	Purposes []Purpose `json:"purposes"`
	// DataSubjects are the categories of data subjects (Art. 30(1)(c)).
	DataSubjects []string `json:"data_subjects"`
	// DataCategories are the categories of personal data, each with the
	// kinds of records that hold it (Art. 30(1)(c)).
	DataCategories []DataCategory `json:"data_categories"`
	// Recipients are the recipients and sub-processors (Art. 30(1)(d),
	// 30(2)(a)).
	Recipients []Recipient `json:"recipients"`
	// Transfers are the transfers to third countries with their
	// safeguards (Art. 30(1)(e), 30(2)(c)).
	Transfers []Transfer `json:"transfers"`
	// Retention are the time limits for erasure (Art. 30(1)(f)).
	Retention []Period `json:"retention"`
	// Security are the technical and organisational measures (Art.
	// 30(1)(g), 30(2)(d), Art. 32(1)).
	Security []Measure `json:"security_measures"`
	// Issues are gaps and inconsistencies found while generating, to be
	// fixed by whoever keeps the configuration. Empty when none.
	Issues []string `json:"issues,omitempty"`
}

// Party is a controller or processor with its contact details.
type Party struct {
	// Name is the legal name.
	Name string `json:"name"`
	// Contact is how to reach the party: postal address, e-mail, phone.
	Contact string `json:"contact,omitempty"`
	// DPO is the data protection officer's name and contact, if one is
	// designated.
	DPO string `json:"dpo,omitempty"`
	// Representative is the representative in the Union (Art. 27), for a
	// party established outside it.
	Representative string `json:"representative,omitempty"`
}

// Purpose is one purpose of the processing.
type Purpose struct {
	// Key identifies the purpose: the consent purpose's key, or the
	// declared purpose's.
	Key string `json:"key"`
	// Name is the human name.
	Name string `json:"name"`
	// Description is optional longer text.
	Description string `json:"description,omitempty"`
	// LegalBasis is the ground of Art. 6(1) (and Art. 9(2) where it
	// applies): "Art. 6(1)(a) consent" for every consent purpose.
	LegalBasis string `json:"legal_basis"`
	// Categories are the data categories the purpose uses, when declared.
	Categories []string `json:"categories,omitempty"`
	// Consent describes the consent behind a consent purpose; nil for a
	// declared purpose.
	Consent *ConsentTerms `json:"consent,omitempty"`
	// Source is SourceConsent or SourceDeclared.
	Source string `json:"source"`
}

// ConsentTerms is what package consent knows of a consent purpose.
type ConsentTerms struct {
	// PolicyVersion is the current published policy version (0: none).
	PolicyVersion int `json:"policy_version"`
	// MaterialVersion is the latest version published as a material
	// change: grants under older versions need re-consent.
	MaterialVersion int `json:"material_version"`
	// PublishedAt is when the current version was published.
	PublishedAt time.Time `json:"published_at,omitzero"`
	// TextHash is the hex SHA-256 of the current policy text.
	TextHash string `json:"text_hash,omitempty"`
	// Lifetime is how long a grant lasts before it expires (0: until
	// withdrawn).
	Lifetime string `json:"lifetime,omitempty"`
}

// DataCategory is one category of personal data and where it is held.
type DataCategory struct {
	// Category is the category's token (erasure.CategoryContact, …, or a
	// host's own).
	Category string `json:"category"`
	// Description explains the category; empty for a host's own.
	Description string `json:"description,omitempty"`
	// Kinds are the kinds of records that hold it, in the graph's order.
	Kinds []Kind `json:"kinds"`
}

// Kind is one kind of the erasure graph as the record shows it.
type Kind struct {
	// Kind is the kind's name.
	Kind erasure.Kind `json:"kind"`
	// Parent is the kind it hangs under ("" for a root).
	Parent erasure.Kind `json:"parent,omitempty"`
	// Description is the target's description.
	Description string `json:"description,omitempty"`
	// OnErasure is what an erasure request does to the subject's records
	// of this kind: "delete", "anonymize" or "keep".
	OnErasure erasure.Action `json:"on_erasure"`
	// Ground is the legal ground of a kept (or pseudonymised) record.
	Ground string `json:"ground,omitempty"`
	// Exported says whether an access request (Art. 15/20) exports it.
	Exported bool `json:"exported"`
}

// Recipient is a recipient of personal data: a sub-processor, an
// integration, or both.
type Recipient struct {
	// Name identifies the recipient (as in erasure.Config.Recipients).
	Name string `json:"name"`
	// Purpose is what the recipient does with the data.
	Purpose string `json:"purpose,omitempty"`
	// Categories are the data categories it receives; empty when not
	// declared.
	Categories []string `json:"categories,omitempty"`
	// Region is where it processes the data, as declared.
	Region string `json:"region,omitempty"`
	// Country is the ISO 3166-1 alpha-2 code of that place ("EU" or "EEA"
	// for several member states).
	Country string `json:"country,omitempty"`
	// Agreement is the reference of the data processing agreement.
	Agreement string `json:"agreement,omitempty"`
	// AgreementDate is when the agreement was signed (YYYY-MM-DD).
	AgreementDate string `json:"agreement_date,omitempty"`
	// TransferMechanism is the safeguard of a transfer to a third country.
	TransferMechanism string `json:"transfer_mechanism,omitempty"`
	// SubProcessor says the recipient is declared in
	// Config.SubProcessors.
	SubProcessor bool `json:"sub_processor"`
	// NotifiedOfErasure says the erasure engine tells it of every
	// completed erasure (Art. 19).
	NotifiedOfErasure bool `json:"notified_of_erasure"`
}

// Transfer is a transfer of personal data to a third country.
type Transfer struct {
	// Recipient is who receives the data.
	Recipient string `json:"recipient"`
	// Country is the third country (ISO 3166-1 alpha-2).
	Country string `json:"country"`
	// Region is the declared place.
	Region string `json:"region,omitempty"`
	// Mechanism is the safeguard (Art. 45 adequacy decision, Art. 46
	// standard contractual clauses, …).
	Mechanism string `json:"mechanism"`
}

// Period is one time limit for erasure.
type Period struct {
	// What the limit applies to.
	What string `json:"what"`
	// After is the time, in words ("14 days", "6 months").
	After string `json:"after"`
	// Then is what happens when it has passed.
	Then string `json:"then"`
	// Source is SourceLifecycle, SourceSchedule or SourceErasure.
	Source string `json:"source"`
	// Disabled marks a retention rule that exists but does not run.
	Disabled bool `json:"disabled,omitempty"`
}

// Measure is one technical or organisational security measure.
type Measure struct {
	// Name is the measure's short name.
	Name string `json:"name"`
	// Detail says how it is done, with its parameters.
	Detail string `json:"detail"`
	// InForce says whether the measure is in force for the account: an
	// available but unused one (no IP allow list, second factor not
	// required) is listed as not in force.
	InForce bool `json:"in_force"`
	// Source is where the record learnt it: SourceAuthn, SourceIPFilter,
	// SourceErasure, SourceConsent or SourceDeclared.
	Source string `json:"source"`
}

// The sources a record's entries come from.
const (
	// SourceConsent: package consent's purposes and policies.
	SourceConsent = "consent"
	// SourceDeclared: the host's declarations in Config.
	SourceDeclared = "declared"
	// SourceLifecycle: package retention's account lifecycle policy.
	SourceLifecycle = "lifecycle"
	// SourceSchedule: package retention's per-account retention rules.
	SourceSchedule = "schedule"
	// SourceErasure: package erasure's graph, rules and recipients.
	SourceErasure = "erasure"
	// SourceAuthn: the authn.Config the host built its service with.
	SourceAuthn = "authn"
	// SourceIPFilter: package ipfilter's per-account rules.
	SourceIPFilter = "ipfilter"
)
