// Package erasure finds every copy of a person in a helpdesk and deletes,
// anonymises or keeps it as policy says, durably, with proof that holds no
// personal data (GDPR Art. 17), exports the same data on request
// (Art. 15/20), and carries out the other data-subject rights through the
// same requests (Art. 16, 18, 21).
//
// # The cascade
//
// A Graph is a set of Targets. Each target is one kind of data — a user
// profile, an identity, a ticket, a message, an attachment's file, a
// consent record — with an edge to its parent kind ("messages of these
// tickets"). A target finds a subject's records (roots by subject,
// children by parent IDs), deletes them, anonymises them, and exports
// them. The package ships the standard helpdesk kinds (KindEndUser …
// KindAuthoredMessage; erasure/memhelpdesk binds them all in memory), a
// BlobTarget over a small BlobStore interface (erasure/fsblob implements
// it on a directory; object storage fits the same methods), targets for
// gdprkit's own data in erasure/kitdata (consent records pseudonymised
// with the proof kept, credentials, spam lessons, authorship of IP
// rules), and, in erasure/sqltarget, declarative targets for the host's
// existing SQL tables, checked against the live schema when they are
// bound (docs/binding-an-existing-schema.md). This package imports none
// of gdprkit's other domain packages.
//
// # One target contract
//
// Target is one interface: Info, Find, Delete, Anonymize, Export, and the
// optional methods ParentsOf, Identifiers, EraseAccount, Predict, Residue,
// Check, Locate and Count. A target says which optional methods it implements in
// TargetInfo.Caps, and the engine calls only those; embedding Base gives
// the others (they return ErrUnsupported). Because the capabilities are
// declared, not discovered by type assertion, a wrapper that forwards
// every method (logging, metrics, a host's own transaction) keeps them:
// it returns the wrapped target's Info. Delete and Anonymize act on
// exactly the refs they are given and return a Change: how many of them
// changed (Records), the rows touched (Rows: a record may be a group of
// rows), the bytes of files, and what the database changed by itself
// (Effects: ON DELETE CASCADE / SET NULL). A target that reports more
// records than it was given fails the job with ErrDeviation: a receipt
// never counts what it cannot prove.
//
// # Order
//
// Children act before their parents. Beyond the parent edges, a kind acts
// after the kinds in its TargetInfo.After (sqltarget derives them from the
// schema's foreign keys: rows that reference a row are handled before it,
// restricting keys included). NewGraph sorts the kinds topologically,
// breaking ties by depth and then by name, reports a cycle as an error,
// and Graph.Order returns the order; a Plan lists its lines in it.
//
// # Requests, jobs and proof
//
// Submit records a request (erasure or access) with who asked, for whom,
// when it arrived, whether identity was verified, and its due date: one
// calendar month later (AddMonths: January 31 is due on February 28 or
// 29), extendable once by one or two months with a reason (Extend).
// Overdue and DueSoon list what needs attention. An erasure request's job
// is created in the same transaction and waits until VerifyIdentity.
//
// Plan is the dry run: per kind, in the order kinds will act, how many
// records (and rows, and bytes of files) would be deleted, anonymised or
// kept, and why, and what the database would cascade. Targets with
// Caps.Predict count exactly what they would change, leaving out what an
// earlier step would already have deleted, so plan = receipt = what
// changed; predictions are stored with the job, and a batch that changes
// differently ends the job with ErrDeviation, its counts recorded.
// Preview is the quick form for a screen: when every kind in scope
// declares Caps.Count and no hold is active, it counts each kind with one
// aggregate query instead of walking the records (files by their index
// entries, cascades not shown); otherwise it is Plan. A job measures its
// progress against the same counts where Preview could count, and against
// a walked dry run otherwise.
//
// Workers (RunOnce, Work) claim due jobs with a lease; the lease's token
// guards every write of the job, so a worker that lost its lease cannot
// write, and a job is finished exactly once. A crashed worker's job is
// claimed again when its lease ends. A failed run is given back with its
// error (retried while the store itself is unavailable, so a database
// restart frees the job within seconds of the database's return) and
// retried with exponential backoff. An error a retry cannot cure — a
// constraint violation, a trigger's refusal, an invalid binding
// (Permanent) — ends the job as failed after Config.MaxPermanentAttempts
// tries a minute apart; Job reads a job's status, attempts, last error
// (tables and constraints, never values) and progress per kind; Retry
// starts a failed job again where it stopped. erasure.run_failed,
// erasure.failed and erasure.retried are audit events.
//
// Execution walks the graph depth first, one batch (Config.BatchSize) at
// a time: it finds a batch of a kind, erases everything under exactly that
// batch, and only then deletes or anonymises the batch itself. So a
// subject with 100,000 messages never becomes one giant statement, and a
// parent is never removed while a child the engine has seen is left
// behind. The position of the walk is saved after every Find, before
// anything changes; a resumed job re-applies at most the batch it was
// acting on (targets must be idempotent) and counts every record once.
// When a pass is done, another pass finds everything again; the job
// completes only after a pass that found nothing left to delete or
// anonymise, followed by a verify pass: the subject's identifiers (the
// subject ID and what targets with Caps.Identifiers report — e-mail
// addresses, phone numbers, names) are searched for in every target with
// Caps.Residue (sqltarget searches text and JSON columns as whole words,
// tenant-scoped). Anything found that no keep rule or hold explains fails
// the run with ErrResidue and the findings (kind, record, field; never the
// value); it is never reported done. FindResidue runs the same search on
// demand ("is anything of this person left?"). A finished job's state is
// scrubbed of the subject's identifiers. Work takes jobs in batches
// (RunBatch, Config.VerifyBatch): the erasures of a batch wait at their
// verify pass and are verified with one search for all their identifiers;
// if it finds nothing, none of them left anything, and if it finds
// anything, each is verified alone. So a burst of 700 requests costs one
// scan of each table and one walk of the blob store per batch, not per
// person.
//
// Legal holds (PlaceHold) cover a subject or one record (a ticket) and
// everything under it, however a record is reached: a held ticket is kept
// when it is found as the erased agent's assigned ticket (kinds with the
// same Records are the same records), and a message the erased user wrote
// in someone else's held ticket is kept (targets with Caps.Parents let the
// engine climb from a record to its ancestors). A record is kept, too,
// while records under it are kept (pinning), so no database cascade takes
// a kept record with its parent. Held records are kept and the receipt
// says the request was partly fulfilled under Art. 17(3); the job then
// waits for the holds (a follow-up), and releasing the last hold
// (ReleaseHold) finishes the erasure it held back, with a receipt of its
// own. DeleteRecord refuses to delete anything a hold covers, above, at
// or below the record, and while any hold is active it also refuses a
// record whose ancestry a target cannot tell (blob indexes tell it
// through BlobIndex.BlobParents). Registered Recipients
// (processors, integrations) are notified after the cascade (Art. 19) and
// each notification is recorded. The Receipt names the subject only by a
// keyed pseudonym and lists, per kind, the counts deleted, anonymised and
// kept with their grounds, the holds applied, the recipients notified and
// the date by which backups will have expired too; receipts are
// hash-chained per account (VerifyReceipts). Tombstones keep a keyed
// pseudonym of every erased identifier (the subject, and the e-mail
// addresses and phone numbers targets report with Caps.Identifiers);
// after a backup is restored, ReErase files a new erasure for every user
// erased since the backup was taken, in the scope they were erased in.
//
// Holders is the reverse query: the people whose records of a kind were
// created in a period ("who had attachments stored between these dates",
// a breach's affected subjects). Targets that can find records by time
// declare Caps.Locate (sqltarget specs with a TimeColumn; memhelpdesk's
// tickets, messages and attachments); Holders climbs from those records
// through ParentsOf to the root record and maps it to the subject through
// the Directory.
//
// Export answers an access request with one JSON document built by the
// same graph. EraseAccount is the account-wide cascade package retention
// calls when a terminated account's live data must go: every subject the
// Directory lists, then an account-wide pass over targets with
// Caps.EraseAccount (files included: BlobStore.DeleteAccount) for what
// belongs to nobody in particular. While holds are active it sweeps the
// kinds a hold may reach record by record, keeps what is held, deletes
// the rest, and returns ErrHeld; retention does not call the account
// purged until a later call succeeds. Last it looks again for one record
// of every deleted kind: anything found is ErrResidue.
//
// # Subjects
//
// The Directory resolves a subject ID to a Subject: role, class (a
// customer, an agent: which root kinds apply, TargetInfo.Classes) and the
// keys the host's tables know the person by (sqltarget.NewDirectory
// builds one from tables of people, each with its own key type and an ID
// prefix). Config.ReassignTo and a request's ReassignTo must name an
// agent.
//
// Deleted rows stay readable in database files, write-ahead logs and
// backups until the database rewrites or expires them; Config.Physical
// runs optional steps after each erasure (erasure/sqltarget's
// Binding.Compact checkpoints SQLite, VACUUMs PostgreSQL, OPTIMIZEs MySQL)
// and the receipt records them: docs/physical-erasure.md says exactly what
// remains where, for how long, and what those steps do about it.
//
// # The other rights: one request model
//
// Rectification (Art. 16), restriction (Art. 18), objection (Art. 21)
// and portability (Art. 20) are request types of the same intake as
// erasure and access: Submit records who asked, for whom, when, whether
// identity was verified and the due date; VerifyIdentity, Extend, Reject,
// Requests, Overdue and DueSoon work on every type, and each completed
// request has a receipt in the account's hash-chained receipt log
// (Receipt.Type and Receipt.Rights say what it did, by keyed pseudonym,
// never by value). Rectification, restriction and objection run as jobs
// on the same workers as erasures (RunOnce, Work), once the identity is
// verified; portability, like access, is answered by Export.
//
//   - Rectification carries Corrections: a kind, field and new value (a
//     record ID narrows it to one record), or a free-text statement. The
//     engine finds the subject's records of the kind through the graph,
//     declines a correction naming a record that is not the subject's,
//     and hands the rest to Config.Rectifier (targets cannot update).
//     The receipt lists each correction's kind, field, outcome and the
//     pseudonyms of the records it touched; the new values are dropped
//     from the job when it finishes.
//   - Restriction marks the subject (a subject-level mark) and every
//     record the graph finds for them, by keyed record pseudonym
//     (RecordPseudonym, shared by kinds with the same Records). The host
//     asks Restricted or RestrictedRecords before using a record, and
//     SubjectRestricted before processing a person. LiftRestriction
//     records who lifted it, when and why; the marks stay as the record.
//   - Objection names consent purposes; Config.Objector stops the
//     processing (kitdata.Objector withdraws the consent with the request
//     as evidence) and answers per purpose: withdrawn, already withdrawn,
//     or overridden on a stated ground.
//   - Portability exports, in the access layout under PortabilityFormat,
//     only the kinds whose TargetInfo.Provided is set (what the subject
//     supplied: profile, messages, files; not tokens, sessions or agents'
//     records), and closes the request with a receipt that counts them.
//
// Every request records its intake: the Channel it came through
// (Submission.Channel, a small set plus a note for ChannelOther) and the
// identity Evidence — the method ("logged_in_session", "email_link",
// "id_document_checked", …), who checked, and a short note — given at
// Submit for a verified submission or by VerifyIdentityWith. A note says
// how, never what: CheckNote refuses one with an '@' or more than three
// digits, so no document, phone number or address is stored. Request and
// Requests return them; a receipt's Intake shows the channel, the method,
// the verification time and the due date (extension included), never a
// note or who checked.
//
// Choices: anyone may file these for themself; others file as Authorize
// allows. Records created after a restriction was carried out are not
// marked one by one: the subject-level mark covers them, so a host asks
// SubjectRestricted when it knows the person (a new message of a
// restricted customer is stored, Art. 18(2), but not otherwise used). A
// restriction does not stop an erasure the subject asks for, and
// retention and DeleteRecord do not consult it: place a legal hold when
// the subject needs the data kept for a legal claim (Art. 18(1)(c)).
// Config.Recipients are told of erasures only; telling recipients of a
// rectification or restriction (Art. 19) is left to the Rectifier and the
// host.
//
// # Choices made where the issue is silent
//
//   - Authorisation follows the role hierarchy strictly: an actor must be
//     an agent or above and outrank the subject (so admins erase agents
//     and end users, the owner also admins, nobody the owner while the
//     account lives); an end user may erase only their own portal profile
//     (ScopePortal). A subject the Directory does not know (an anonymous
//     chat visitor named by e-mail) is treated as an end user. Anyone may
//     file an access request for themself.
//   - Due dates keep the time of day of receipt; an extension counts from
//     the date of receipt (one month plus one or two).
//   - Anonymising a record must cut its link to the subject (Find no
//     longer returns it); sqltarget refuses a root spec that anonymises
//     without changing the subject column.
//   - Deleted and anonymised counts add up over passes; Kept is the
//     largest count any single pass saw (kept records under an erased
//     parent are not reachable again).
//   - The root records erased in the first pass are remembered in the
//     job, so later passes still find children that appeared under them.
//   - Closed requests forget the subject's identifier; receipts do not
//     name the requesting actor; hold reasons never reach a receipt.
//   - Export lists a message under every kind that reaches it (message
//     and authored_message); secrets (tokens, credentials) are never
//     exported (sqltarget leaves out the columns in Spec.NoExport); files
//     are included base64 up to MaxExportBlob.
//   - DeleteRecord deletes only records with a parent kind; profiles are
//     erased through Submit. An agent being erased who is also the
//     request's (or Config's) ReassignTo passes their open tickets to the
//     unassigned queue.
//   - Subject holds above a record reached another way are matched by the
//     ID of the root record at the top of its chain, which the built-in
//     end-user targets (memhelpdesk, sqltarget roots keyed by the subject
//     column) use as the subject ID.
//   - Store.ClaimJob is the one query that spans accounts: the queue.
//   - Each state machine stays in one file that reads top to bottom:
//     requests.go the request intake (Submit, VerifyIdentity, Extend,
//     Reject), jobs.go the job lifecycle (RunOnce, Work, a job's run and
//     hand-back, the Plan and JobInfo types, the job views and Retry),
//     engine.go the walk one job makes through the graph (a little over
//     600 lines, kept whole so the passes read in the order they run).
//     service.go holds the Config and the shared helpers, plan.go the dry
//     run (Service.Plan), legalholds.go the hold API, reerase.go
//     re-erasure after a restore.
package erasure
