// Package kitdata binds gdprkit's own data to the erasure graph: consent
// records (pseudonymised, proof kept), credentials (passwords, second
// factors, API tokens, sessions: deleted), what the spam filter learned
// from a subject's messages (untrained), and records that name a user as
// their author, such as IP rules (authorship anonymised). Objector
// carries out objections (Art. 21) by withdrawing consent.
// AffectedFinder answers a breach register's "whose data was reached"
// (package breach) through the graph (erasure.Service.Holders).
//
// These targets live apart from package erasure so that the engine stands
// alone: erasure knows nothing of consent, authn, spam or ipfilter, and a
// host that keeps any of them in its own tables binds its own target
// instead. Each target takes a small interface that the matching gdprkit
// service satisfies (*consent.Service, authn.Service.Credentials(),
// *spam.Filter, *ipfilter.Filter), so the packages meet only here.
//
// Receipts count what changed (issue #25): each target's Find returns one
// ref per stored record — a consent record, a login, session, TOTP
// enrolment, recovery code, API token or failure counter, an IP rule, a
// spam lesson — paging with Query.After and Query.Limit in a stable order,
// and Delete and Anonymize act on exactly the refs they are given and
// report how many records they changed. A plan therefore counts what the
// erasure will change, the receipt what it did, and both equal the
// records that went, however many batches a subject's data spans. The
// targets do not implement erasure.Caps.Predict: with one ref per record
// and no database cascade, the refs a dry run finds are already the exact
// count. A host's own Credentials or ActorRefs that cannot act record by
// record still works, erased whole, and is then counted at most one batch
// per subject (see CredentialsTarget and ActorRefsTarget).
//
// Each target declares the categories of personal data its records hold
// (erasure.TargetInfo.Categories), for the record of processing
// activities package processing generates.
//
// Every target also erases a whole account (erasure.Caps.EraseAccount),
// so that deleting an account goes through the same graph as erasing one
// person: erasure.Service.EraseAccount reaches gdprkit's own data and the
// host's tables alike.
package kitdata
