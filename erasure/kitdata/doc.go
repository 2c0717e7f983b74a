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
// Each target declares the categories of personal data its records hold
// (erasure.TargetInfo.Categories), for the record of processing
// activities package processing generates.
//
// Every target also erases a whole account (erasure.Caps.EraseAccount),
// so that deleting an account goes through the same graph as erasing one
// person: erasure.Service.EraseAccount reaches gdprkit's own data and the
// host's tables alike.
package kitdata
