// Package breach keeps each account's register of personal data breaches
// (GDPR Art. 33(5)) and notifies the supervisory authority, the account's
// DPO and the affected people through the host, on a 72-hour clock, with a
// history nobody can edit unseen.
//
// # Recording
//
// Service.Record adds a breach to an account's register: what happened
// (Nature, Types), when it began and ended, when the controller became
// aware of it (the 72 hours of Art. 33(1) run from AwareAt), the kinds and
// categories of data and of people, approximate numbers, likely
// consequences, measures taken and proposed, and whether it is likely to
// result in a high risk, so the subjects must be told (Art. 34).
// RecordIncident records one incident that reached several accounts: the
// register is per account (every storage call is tenant-scoped, and
// subject pseudonyms are per account too), so each account gets its own
// breach with the shared Incident reference, its own subjects,
// notifications and history.
//
// # Affected subjects
//
// FindSubjects asks a host-supplied AffectedFinder "whose records of these
// kinds, in this place, between these dates" — "who had attachments in
// this bucket between these dates" — and stores the answer as keyed
// pseudonyms (gdprkit.Pseudonymizer), never as raw IDs: the register
// needs to count and tell apart the subjects, not to know them. The host
// answers from its own tables (the example helpdesk queries its
// attachments table), or through its erasure graph: kitdata.AffectedFinder
// (package erasure/kitdata) adapts erasure.Service.Holders, which finds
// the records of a kind created in the period (targets with
// erasure.Caps.Locate, such as sqltarget specs with a TimeColumn) and
// climbs the graph to the people they belong to. The adapter lives there
// so that this package never imports erasure.
//
// Reaching a subject needs the identity the register does not keep. The
// choice made here: a subject notice carries only the pseudonym, and the
// host's Notifier resolves it to a person at send time (Resolve does it
// over any SubjectLister, such as an erasure.Directory). A subject erased
// since the breach no longer resolves; the notifier returns an error
// wrapping gdprkit.ErrNotFound and the notice is recorded as failed, so
// the register holds no identifier an erasure could not reach.
//
// # Notifications
//
// Notify puts notices in a durable outbox — one for the authority, one for
// the account's DPO, one per affected subject — in the same atomic step as
// its history entry. Notifying the authority after the deadline is refused
// unless a reason for the delay is given (Art. 33(1)). Workers (RunOnce,
// RunUntilIdle, Work; several processes may run them) claim due notices
// with a lease, call the host's Notifier with the notice ID as idempotency
// key, and settle the notice under the lease token: sent (with the
// notifier's reference), retried with exponential backoff, or failed after
// Config.MaxAttempts or a permanent error. A worker that crashes after
// sending leaves the notice to be claimed again when its lease ends; it is
// sent again with the same idempotency key, so a notifier that keys on it
// delivers it once. When the authority's notice is sent the breach moves
// from open to notified, with the time it was sent. Close ends a breach;
// closing one whose authority was never notified needs the reason.
//
// # Evidence
//
// Every change — recorded, updated, subjects found, notifications
// requested, each notice sent or failed, closed — is one entry of the
// account's append-only history, holding a JSON snapshot of what changed.
// Each entry's hash is SHA-256 over the previous entry's hash and the
// entry's canonical fields (length-prefixed), so Verify detects an entry
// edited, removed or reordered, and also checks that the stored breaches,
// their subject counts and their settled notices are exactly what the
// history last says. Register answers "show me your breach register and
// when you notified" in one call, with that verification included. Form
// and FormJSON export the fields an authority's notification form asks
// for.
//
// # Account deletion
//
// When the account is deleted, its register goes with it (DeleteAccount,
// wired into the one account-deletion path by kitdata's
// BreachRegisterTarget on the erasure graph): the register is the
// account's own documentation, naming its people by actor ID and its data
// subjects by pseudonyms only the account's data could resolve, so once
// that data is gone it identifies nobody and keeping it would keep actor
// IDs without a purpose. A controller that must keep its record longer
// exports it (Register, Form) before the account ends; the vendor's own
// processor records (when it told the controller, Art. 33(2)) live
// outside the customer's register.
package breach
