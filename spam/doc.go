// Package spam is a Bayesian spam filter for helpdesk e-mail and chat that
// learns from every agent's "spam / not spam", one model per account.
//
// A Filter tokenizes a message, scores each token with Robinson's smoothed
// probability, combines the strongest with Fisher's chi-square method (as
// SpamBayes and bogofilter do) and returns ham, unsure or spam by two
// cutoffs. Train teaches it; training a message ID again as the other class
// moves the lesson instead of counting the message twice; Forget (and
// ForgetBatch, which erasure.SpamLessonTarget calls when a subject is
// erased) removes it.
// Explain lists the clues behind a verdict for the agent's UI.
//
// # Tokens
//
// E-mail is parsed tolerantly: RFC 5322 headers (RFC 2047 encoded words
// decoded), MIME multipart trees, quoted-printable and base64, text in any
// charset golang.org/x/text knows (unknown or mislabelled text is read as
// Windows-1252), HTML reduced to its text by a small tag scanner while tag
// names ("html:font"), comments and link targets still count. A malformed
// message is tokenized from whatever can be read, and reading is bounded
// (2 MiB of input, 512 KiB of text per part, 30,000 tokens, 8 levels of
// nesting), so any byte string is classified in bounded time and memory.
//
// Choices, after SpamBayes' and bogofilter's measured lessons: body words
// are split on white space only, so punctuation inside a word is signal
// ("$99", "free!!"); words are lower-cased and normalized to Unicode NFC,
// and a word written all in capitals also keeps its case ("caps:FREE");
// words shorter than 3 runes are dropped and longer than 12 become a
// length-class token ("skip:x:20"); consecutive body words also make a word
// pair ("bi:free money"; shorter words and URLs are skipped over, a long
// word breaks the chain); scripts written without spaces (Han, kana,
// Hangul, Thai) become overlapping character bigrams. Header tokens carry
// their header as a prefix ("subject:free", "from:domain:example.com");
// addresses give the whole address, local part and domains; Received fields
// give relay host names and IPv4 /8, /16, /24 networks; other fields count
// as their name, their whole value ("x-loop:=…") and their words
// ("x-loop:…"); Date and the verdict headers of other filters (X-Spam-*)
// are ignored. URLs give their scheme, host and
// each parent domain, port and path pieces. Chat and ticket text uses the
// same word rules, so e-mail and chat share one model per account. Each
// token counts once per message.
//
// # Scoring
//
// A token seen in h of H ham and s of S spam messages has probability
// p = (x·str + n·q) / (str + n) with q = (s/S) / (h/H + s/S) and n = h+s
// (Config.Strength str, Config.Prior x). Tokens within
// Config.MinDeviation of 0.5 are ignored; unknown tokens are therefore
// ignored. The rest are combined by Fisher's method: H' = 1 − χ²Q(−2 Σ ln p),
// S' = 1 − χ²Q(−2 Σ ln(1−p)), score = (1 + S' − H') / 2. Sums of logarithms
// replace products and χ²Q is evaluated with a scaled series, so nothing
// underflows on messages with thousands of tokens. Fisher's method assumes
// independent evidence and tokens are correlated, so each token counts as
// Config.EffectiveSize of an independent test (an effective size factor in
// the spirit of bogofilter's). Even so, a message with strong evidence both
// ways gets Fisher's score 0.5 whichever side is stronger, so the score is
// 0.3 × Fisher's plus 0.7 × ln qS / (ln qH + ln qS), where qH = 1 − H' and
// qS = 1 − S' are the two chi-square tail probabilities, computed as
// logarithms so they stay finite where H' and S' round to 1: 0.5 for
// balanced evidence, moving towards the stronger side however strong both
// are. It ranked as well as Fisher's score alone and left far fewer
// messages at 0.5.
//
// Strong evidence both ways is for a human to weigh: a message whose ham
// evidence alone is significant (Fisher's ham-side tail probability below
// Config.HamVeto, default 0.01; Result.HamSignificance reports it) is
// unsure, never spam, however spammy it scores (Result.HamVetoed). On the
// tuning splits 8,747 of 8,751 held-out ham carried such evidence
// (personal vocabulary, the headers of lists the account reads; the other
// four scored below 0.49) while 78 of the 2,216 spam that scored as spam
// (3.5%) did; they become unsure.
//
// The defaults (strength 0.01, minimum deviation 0.3, all clues, effective
// size 0.3, cutoffs 0.49 and 0.70, ham veto 0.01) were tuned on held-out
// parts of the training halves of the SpamAssassin-corpus benchmark (see
// examples/spameval and bench/spam), never on its test halves. A small
// strength keeps rare tokens decisive, which ranked far better than
// SpamBayes' 0.45. The cutoffs follow from an FP costing far more than an
// unsure verdict: the spam cutoff is the lowest step of 0.1 above every
// held-out ham's score, so that the cutoff and the veto each alone kept
// every held-out ham from being called spam, and the ham cutoff the lowest
// step of 0.01 that kept the unsure verdicts on every tuning split 10%
// below half of bogofilter's there; a message whose evidence is balanced
// (score 0.5) is unsure. Messages the filter cannot place are therefore
// more often called ham than unsure: hosts that want fewer missed spam and
// can afford more review can lower HamCutoff.
//
// # Learning
//
// Each lesson is stored as (keyed hash of the host's message ID, class,
// day), so corrections are exact and training is idempotent per ID. A batch
// of messages (TrainBatch) is one Store.Learn call: one transaction with
// multi-row statements in SQL, never a round trip per token. Learn is a
// compare-and-set on the lessons it changes, so two processes training the
// same message cannot count it twice. With Config.TrainOnError a new message
// is only learned when the model gets it wrong or is unsure.
//
// Each account's model is cached in memory for classification (at most
// Config.MaxCachedAccounts of them, the least recently used dropped first);
// training updates the store first (the source of truth) and then the
// cache, and a cache older than Config.Refresh is reloaded so that several
// processes converge. Classify runs concurrently with training; training,
// pruning, resets and reloads are serialised per account (by a lock kept
// outside the cache, so a model evicted and loaded again mid-batch still
// gets the batch).
//
// # Privacy and size
//
// The model holds no text: every token is stored as SipHash-2-4 under a
// 128-bit key derived per account from Config.Key (HMAC-SHA-256), so the
// model of one account cannot be matched against another's or against a
// dictionary of names and addresses without the key, and message IDs are
// hashed the same way. Token text exists only transiently while a message is
// read, and in Explain's result. Logs carry no message content.
//
// Size is bounded by the pruning rule documented on Filter.Prune: tokens seen
// in at most Config.PruneCount messages and not trained on for
// Config.PruneAge are dropped, and a model over Config.MaxTokens is cut to
// 90% of it, rarest and stalest first. Lessons expire after
// Config.LessonTTL: from then on they count as never recorded, and
// training deletes them from the store once a day per account (as Prune
// does), so hashed message IDs do not outlive it even where the host never
// calls Prune. Reset erases an account's model.
package spam
