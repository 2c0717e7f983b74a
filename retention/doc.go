// Package retention makes sure a hosted helpdesk never keeps an account's
// data after the customer has gone: an explicit lifecycle state machine
// (trial, active, billing failing, suspended, terminated, deleted, purged)
// driven by host events and policy timers, an access gate, a durable
// sweeper that runs the deletions, and per-account data retention rules.
//
// # Lifecycle
//
// Table is the transition table; Diagram renders it as Mermaid (the
// README's diagram is generated from it and a test keeps them equal).
// Service.Start opens an account, Service.Apply reports events (upgrade,
// billing failed/recovered, owner's requests), and the Sweeper takes the
// timer transitions and runs their steps through host hooks
// (ConfigRemover, DataEraser, BackupExpirer). Every transition is stored
// (Store.Transitions) with its scheduled time, cause, actor and policy, and
// sent to the audit sink.
//
// # Access gate
//
// Service.Check answers whether an account allows a kind of Access now;
// Service.AllowLogin is the form package authn calls at login. A denial is a
// *DeniedError wrapping gdprkit.ErrAccountSuspended or
// gdprkit.ErrAccountTerminated.
//
// # Retention rules
//
// Schedules stores per-account Rules ("tickets in trash for 30 days are
// deleted for good", "keep invoices at least 10 years", …) and runs them
// through host-supplied Targets; Preview shows the next run, Driver runs
// every account on schedule across processes. What an operator can rely
// on:
//
//   - A hold: a held record is never deleted. It is passed over and
//     counted as held (RuleReport.Held), and never uses up the run's cap:
//     a rule walks its records oldest first from a stored cursor, so the
//     records behind a held one still go, in the same run or the next.
//     When the hold is released, the record goes in the rule's next pass.
//   - A keep rule: a record a keep rule covers (younger than the keep
//     rule's age) is not deleted by any delete rule, whatever that rule
//     says; of several keep rules the longest wins. Kept records are
//     counted (RuleReport.Kept) and shown in the preview.
//   - A crash: each batch of deletions is written to a journal before it
//     is deleted and counted, audited (EventTypeBatch) and kept as proof
//     (Dispositions) right after. If the process dies or the run is
//     cancelled in between, the account's next run finishes that batch and
//     counts what is gone, once: totals, audit and proof always equal the
//     records actually removed (an audit event may arrive twice, with the
//     same ID, never not at all).
//   - A disabled, edited or removed rule: a run already going stops that
//     rule before its next batch (the batch in flight finishes and is
//     counted); other rules go on. Editing and disabling keep the rule's
//     counters; every change is audited with who made it.
//   - One failing rule is reported and recorded (LastError, an
//     EventTypeRuleFailed event); the account's other rules still run.
//     Rules share the cap (MaxPerRun) in round-robin batches, so no rule
//     starves another.
//   - Time: day and month boundaries are the account's time zone
//     (SetTimeZone); a cutoff never moves back while the clock moves
//     forward (see Condition.Cutoff). A run refuses to start after the
//     clock jumped more than MaxClockJump since the account's last run,
//     until an operator calls ConfirmClock.
//   - The preview (Preview, DryRun) is the run's own walk without its
//     writes: same holds (those the target reports), keep rules, cap and
//     rule order, so it shows exactly what the next run removes.
//
// # Choices made where the issue is silent
//
//   - Time: transitions follow the schedule, not the sweep. A timer
//     transition is stamped with its due time, and the next timer runs from
//     it, so an account nobody swept for 100 days walks through every due
//     state in order. The gate, State and Apply compute the same walk, so a
//     trial is refused at the instant it expires even before a sweep, and an
//     event meets the state the schedule gives at its time.
//   - Boundaries: "not upgraded within 14 days" fires at exactly start+14d;
//     "billing failed for more than 7 days" fires one microsecond (the
//     store's resolution) after failure+7d; the lift window, deletion delay
//     and backup retention fire at their end. Timers measure from entering
//     the state: a denied lift request starts the lift window anew.
//   - The owner's request to lift a suspension stops the termination timer
//     (StateLiftRequested) until the host reinstates the account or denies
//     the request; suspended and lift-requested accounts allow no access of
//     any kind, also for the owner (the host's billing page is outside the
//     gate).
//   - A deletion request is allowed in every state before deleted and leads
//     to deleted at once: the configuration removal (unless already
//     terminated) and both erasures are queued for the next sweep; backups
//     then expire after BackupRetention like any deleted account.
//   - Steps are queued in order and run in order, independent of later
//     timer transitions: if an erasure hook fails for days the state still
//     advances on schedule, and the backup expiry runs only after the
//     erasures succeeded. A failing step is retried with exponential backoff
//     (SweeperConfig.RetryDelay); a step with no hook configured is skipped
//     and reported as such.
//   - A sweeper renews its lease on an account while a hook runs
//     (SweeperConfig.Heartbeat), so a host erasure longer than LeaseFor is
//     never run by a second sweeper at the same time; a sweeper that lost
//     its lease anyway (a stalled process) has its hook's context cancelled
//     and records nothing.
//   - The lifecycle record and its transitions are kept after purge as the
//     proof of what happened; they hold the account ID, states, times and
//     actor IDs, so hosts should use non-personal actor IDs. The account's
//     retention rules are deleted with its data.
//   - Accounts the gate has no record of are refused (fail closed) unless
//     Config.AllowUnknown is set.
//   - One Policy per Service; every transition records Policy.String().
package retention
