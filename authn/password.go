package authn

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"

	"github.com/gdprkit/gdprkit"
)

// Argon2Params are the argon2id cost parameters.
type Argon2Params struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
}

// DefaultArgon2 is the OWASP-recommended minimum for argon2id:
// m=19456 KiB (19 MiB), t=2, p=1.
var DefaultArgon2 = Argon2Params{Memory: 19456, Time: 2, Threads: 1}

// Limits cap the parameters a stored hash may ask for. A hash above any limit
// is refused with an error before any work is done, so a tampered row cannot
// make a login allocate gigabytes or spin for minutes.
type Limits struct {
	// MaxMemory is the largest argon2 memory accepted, in KiB.
	// Default: 4 × the configured Argon2 memory, at least 64 MiB.
	MaxMemory uint32
	// MaxTime is the largest argon2 pass count accepted. Default: 10.
	MaxTime uint32
	// MaxThreads is the largest argon2 parallelism accepted. Default: 8.
	MaxThreads uint8
	// MaxBcryptCost is the largest bcrypt cost accepted. Default: 14.
	MaxBcryptCost int
}

// PHC string layout constants.
const (
	saltLen = 16
	keyLen  = 32
	// bcryptMaxBytes is bcrypt's input limit; longer passwords are refused
	// rather than silently truncated.
	bcryptMaxBytes = 72
)

// ErrHashFormat is wrapped by errors about a stored hash that cannot be
// parsed or asks for more than the Limits allow. It wraps gdprkit.ErrInvalid.
var ErrHashFormat = fmt.Errorf("%w: password hash", gdprkit.ErrInvalid)

// phc is a parsed argon2id PHC string.
type phc struct {
	params Argon2Params
	salt   []byte
	key    []byte
}

var b64 = base64.RawStdEncoding

// encodePHC formats an argon2id hash in PHC string form:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
func encodePHC(h phc) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.params.Memory, h.params.Time, h.params.Threads,
		b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// parsePHC parses an argon2id PHC string strictly: the version must be 19,
// the parameters appear once each in the order m, t, p, the salt holds 8 to
// 64 bytes and the hash 16 to 64 bytes.
func parsePHC(s string) (phc, error) {
	var h phc
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return h, fmt.Errorf("%w: not an argon2id PHC string", ErrHashFormat)
	}
	if parts[2] != "v=19" {
		return h, fmt.Errorf("%w: unsupported argon2 version", ErrHashFormat)
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return h, fmt.Errorf("%w: want parameters m,t,p", ErrHashFormat)
	}
	var vals [3]uint64
	for i, name := range [3]string{"m", "t", "p"} {
		k, v, ok := strings.Cut(kv[i], "=")
		if !ok || k != name || v == "" || (len(v) > 1 && v[0] == '0') {
			return h, fmt.Errorf("%w: bad parameter %q", ErrHashFormat, kv[i])
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return h, fmt.Errorf("%w: bad parameter %q", ErrHashFormat, kv[i])
		}
		vals[i] = n
	}
	if vals[2] > 255 {
		return h, fmt.Errorf("%w: parallelism out of range", ErrHashFormat)
	}
	h.params = Argon2Params{Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2])}
	var err error
	if h.salt, err = b64.Strict().DecodeString(parts[4]); err != nil || len(h.salt) < 8 || len(h.salt) > 64 {
		return h, fmt.Errorf("%w: bad salt", ErrHashFormat)
	}
	if h.key, err = b64.Strict().DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return h, fmt.Errorf("%w: bad hash", ErrHashFormat)
	}
	if h.params.Memory < 8*uint32(h.params.Threads) {
		return h, fmt.Errorf("%w: memory below 8 KiB per lane", ErrHashFormat)
	}
	return h, nil
}

// hasher hashes and verifies passwords with bounded concurrency.
type hasher struct {
	params Argon2Params
	limits Limits
	sem    chan struct{}

	// bcryptCost is the cost of the bcrypt work every password check does
	// (a real hash or a dummy), so that users still on a bcrypt hash take
	// as long as everyone else; 0 while no bcrypt hash was seen, -1 never.
	bcryptCost atomic.Int32
	dummyMu    sync.Mutex
	dummies    map[int]string // cost -> dummy bcrypt hash; 0 -> argon2id
	// runs counts KDF runs by scheme and cost, so tests can compare the
	// work of two paths without timing them.
	runs sync.Map // string -> *atomic.Int64
}

func newHasher(p Argon2Params, l Limits, slots int) *hasher {
	return &hasher{params: p, limits: l, sem: make(chan struct{}, slots), dummies: map[int]string{}}
}

// ran counts one KDF run.
func (h *hasher) ran(what string) {
	v, _ := h.runs.LoadOrStore(what, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// acquire takes one KDF slot, waiting for ctx.
// An ended context is reported as gdprkit.ErrUnavailable (wrapping the
// context's error): the check was not made, which says nothing about the
// password.
func (h *hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: authn: waiting for a password hashing slot: %w", gdprkit.ErrUnavailable, err)
	}
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: authn: waiting for a password hashing slot: %w", gdprkit.ErrUnavailable, ctx.Err())
	}
}

func (h *hasher) release() { <-h.sem }

// normalizePassword applies NFKC, the normalisation every argon2id hash in
// this package is computed over.
func normalizePassword(pw string) string { return norm.NFKC.String(pw) }

// hash returns the argon2id PHC string of the (NFKC-normalised) password.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	enc, err := h.derive(ctx, password)
	if err == nil {
		h.ran(argonRun(h.params))
	}
	return enc, err
}

// derive is hash without counting the run (dummies are derived once).
func (h *hasher) derive(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("authn: salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	key := argon2.IDKey([]byte(normalizePassword(password)), salt, h.params.Time, h.params.Memory, h.params.Threads, keyLen)
	return encodePHC(phc{params: h.params, salt: salt, key: key}), nil
}

// verify checks password against an argon2id PHC string or a bcrypt hash.
// It returns (true, needsRehash, nil) on a match, (false, false, nil) on a
// mismatch, and an error wrapping ErrHashFormat for an unusable or
// over-limit hash, or gdprkit.ErrInvalid for a password bcrypt cannot
// represent (over 72 bytes).
func (h *hasher) verify(ctx context.Context, encoded, password string) (ok, rehash bool, err error) {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		p, err := parsePHC(encoded)
		if err != nil {
			return false, false, err
		}
		if p.params.Memory > h.limits.MaxMemory || p.params.Time > h.limits.MaxTime || p.params.Threads > h.limits.MaxThreads {
			return false, false, fmt.Errorf("%w: parameters m=%d,t=%d,p=%d exceed the configured limits",
				ErrHashFormat, p.params.Memory, p.params.Time, p.params.Threads)
		}
		if err := h.acquire(ctx); err != nil {
			return false, false, err
		}
		got := argon2.IDKey([]byte(normalizePassword(password)), p.salt, p.params.Time, p.params.Memory, p.params.Threads, uint32(len(p.key)))
		h.release()
		h.ran(argonRun(p.params))
		if subtle.ConstantTimeCompare(got, p.key) != 1 {
			return false, false, nil
		}
		weaker := p.params.Memory < h.params.Memory || p.params.Time < h.params.Time ||
			p.params.Threads < h.params.Threads || len(p.key) < keyLen || len(p.salt) < saltLen
		return true, weaker, nil
	case isBcrypt(encoded):
		cost, err := h.parseBcrypt(encoded)
		if err != nil {
			return false, false, err
		}
		// Legacy bcrypt hashes were made from the password as typed; bcrypt
		// would silently ignore everything past 72 bytes, so refuse instead.
		if len(password) > bcryptMaxBytes {
			return false, false, fmt.Errorf("%w: password longer than bcrypt's %d-byte limit", gdprkit.ErrInvalid, bcryptMaxBytes)
		}
		if err := h.acquire(ctx); err != nil {
			return false, false, err
		}
		err = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
		h.release()
		h.ran(bcryptRun(cost))
		switch {
		case err == nil:
			return true, true, nil // any bcrypt hash is weaker than argon2id policy
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, false, nil
		default:
			return false, false, fmt.Errorf("%w: bcrypt: %v", ErrHashFormat, err)
		}
	}
	return false, false, fmt.Errorf("%w: unknown hash scheme", ErrHashFormat)
}

//go:embed blocklist.txt
var blocklistText string

// blocklist is the set of common passwords (lower case, 8 characters or
// more) shipped with the package.
type blocklist map[string]struct{}

func loadBlocklist() blocklist {
	b := make(blocklist, 1024)
	for _, l := range strings.Split(blocklistText, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			b[l] = struct{}{}
		}
	}
	return b
}

// PolicyError is returned when a new password breaks the password policy. It
// wraps gdprkit.ErrInvalid; Reason is a stable machine-readable code and
// Error() a sentence a user can act on.
type PolicyError struct {
	// Reason is one of "too_short", "too_long", "blocklisted",
	// "context_word", "invalid_utf8".
	Reason string
	msg    string
}

// Error says why the password was refused, in a sentence for the user.
func (e *PolicyError) Error() string { return "authn: " + e.msg }

// Unwrap returns gdprkit.ErrInvalid.
func (e *PolicyError) Unwrap() error { return gdprkit.ErrInvalid }

// PasswordPolicy decides whether a new password is acceptable, after NIST SP
// 800-63B rev 4 and ASVS 5 §6.2: a length floor and ceiling counted in
// characters after NFKC normalisation, no composition rules, and a refusal of
// common and context-specific passwords. It never truncates.
type PasswordPolicy struct {
	// MinLength in characters (code points after NFKC).
	MinLength int
	// MaxLength in characters; at least 64.
	MaxLength int
	blocked   blocklist
	context   []string
}

// Check returns nil when password is acceptable for a user named username,
// or a *PolicyError saying why not.
func (p *PasswordPolicy) Check(password, username string) error {
	if !utf8.ValidString(password) {
		return &PolicyError{Reason: "invalid_utf8", msg: "password is not valid UTF-8 text"}
	}
	n := normalizePassword(password)
	l := utf8.RuneCountInString(n)
	if l < p.MinLength {
		return &PolicyError{Reason: "too_short", msg: fmt.Sprintf("password must have at least %d characters (it has %d)", p.MinLength, l)}
	}
	if l > p.MaxLength {
		return &PolicyError{Reason: "too_long", msg: fmt.Sprintf("password must have at most %d characters (it has %d)", p.MaxLength, l)}
	}
	lower := strings.ToLower(n)
	if _, bad := p.blocked[lower]; bad {
		return &PolicyError{Reason: "blocklisted", msg: "password is on the list of commonly used passwords; choose another"}
	}
	// The username and context words are compared under the folding
	// usernames get (NFKC, then Unicode case folding), applied to both
	// sides: strings.ToLower keeps "ß" where folding writes "ss".
	folded := foldUsername(n)
	if username != "" && strings.Contains(folded, foldUsername(username)) && utf8.RuneCountInString(username) >= 3 {
		return &PolicyError{Reason: "context_word", msg: "password must not contain the username"}
	}
	for _, w := range p.context {
		if strings.Contains(folded, w) {
			return &PolicyError{Reason: "context_word", msg: "password must not contain the name of this service"}
		}
	}
	return nil
}

// checkHash reports whether encoded is a hash verify would accept to work
// on: a well-formed argon2id PHC string or bcrypt hash within the limits.
func (h *hasher) checkHash(encoded string) error {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		p, err := parsePHC(encoded)
		if err != nil {
			return err
		}
		if p.params.Memory > h.limits.MaxMemory || p.params.Time > h.limits.MaxTime || p.params.Threads > h.limits.MaxThreads {
			return fmt.Errorf("%w: parameters exceed the configured limits", ErrHashFormat)
		}
		return nil
	case isBcrypt(encoded):
		_, err := h.parseBcrypt(encoded)
		return err
	}
	return fmt.Errorf("%w: unknown hash scheme", ErrHashFormat)
}

func isBcrypt(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

// bcryptAlphabet is bcrypt's base64 alphabet.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// parseBcrypt checks a bcrypt hash strictly — "$2a$", "$2b$" or "$2y$", a
// two-digit cost from 4 to 31 (and within Limits), "$", then 53 characters
// of bcrypt's base64 (a 22-character salt and a 31-character hash) — and
// returns its cost. bcrypt.Cost alone reads only the prefix, so a hash with
// a garbage body passed and could never match (issue #15 finding 5).
func (h *hasher) parseBcrypt(s string) (int, error) {
	if len(s) != 60 || !isBcrypt(s) || s[6] != '$' {
		return 0, fmt.Errorf("%w: malformed bcrypt hash", ErrHashFormat)
	}
	cost, err := strconv.Atoi(s[4:6])
	if err != nil || s[4] < '0' || s[4] > '9' || cost < bcrypt.MinCost || cost > 31 {
		return 0, fmt.Errorf("%w: malformed bcrypt cost", ErrHashFormat)
	}
	for i := 7; i < len(s); i++ {
		if strings.IndexByte(bcryptAlphabet, s[i]) < 0 {
			return 0, fmt.Errorf("%w: malformed bcrypt hash", ErrHashFormat)
		}
	}
	if cost > h.limits.MaxBcryptCost {
		return 0, fmt.Errorf("%w: bcrypt cost %d exceeds the configured limit", ErrHashFormat, cost)
	}
	return cost, nil
}

func argonRun(p Argon2Params) string {
	return fmt.Sprintf("argon2id m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads)
}

func bcryptRun(cost int) string { return "bcrypt " + strconv.Itoa(cost) }

// sawBcrypt raises the bcrypt cost every check pads to, unless padding is
// off (-1).
func (h *hasher) sawBcrypt(cost int) {
	for {
		cur := h.bcryptCost.Load()
		if cur < 0 || int(cur) >= cost || h.bcryptCost.CompareAndSwap(cur, int32(cost)) {
			return
		}
	}
}

// dummy returns a hash of a random password: argon2id at the current
// parameters for cost 0, else bcrypt at cost. It is computed once per cost.
func (h *hasher) dummy(ctx context.Context, cost int) (string, error) {
	h.dummyMu.Lock()
	defer h.dummyMu.Unlock()
	if d, ok := h.dummies[cost]; ok {
		return d, nil
	}
	var pw [16]byte
	_, _ = rand.Read(pw[:])
	var d string
	var err error
	if cost == 0 {
		d, err = h.derive(context.WithoutCancel(ctx), hex.EncodeToString(pw[:]))
	} else {
		var b []byte
		b, err = bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(pw[:])), cost)
		d = string(b)
	}
	if err != nil {
		return "", fmt.Errorf("authn: dummy hash: %w", err)
	}
	h.dummies[cost] = d
	return d, nil
}

// check verifies password against encoded ("" for no user, or a user whose
// password must not be checked) and pads the work so that every check
// costs the same, whoever is asked about: one argon2id run at the current
// parameters and, once a bcrypt hash has been seen (or Config.LegacyBcryptCost
// is set), one bcrypt run at the highest such cost. A user on argon2id gets
// a dummy bcrypt run, a user on bcrypt a dummy argon2id run, an unknown
// user both; a hash that does not parse (tampered) is replaced by the
// dummies, and its error returned after the work. ok is true only for a
// match against encoded. Errors wrapping gdprkit.ErrUnavailable mean the
// check was not made (the context ended).
func (h *hasher) check(ctx context.Context, encoded, password string) (ok, rehash bool, err error) {
	argonDone, bcryptDone := false, false
	if encoded != "" {
		ok, rehash, err = h.verify(ctx, encoded, password)
		if errors.Is(err, gdprkit.ErrUnavailable) {
			return false, false, err
		}
		if err == nil {
			if isBcrypt(encoded) {
				// One bcrypt run is done; a user at a lower cost than the
				// pad is faster by the difference (see Config.LegacyBcryptCost).
				cost, _ := h.parseBcrypt(encoded)
				h.sawBcrypt(cost)
				bcryptDone = true
			} else {
				argonDone = true
			}
		}
	}
	if !argonDone {
		if perr := h.pad(ctx, 0, password); perr != nil {
			return false, false, perr
		}
	}
	if c := int(h.bcryptCost.Load()); c > 0 && !bcryptDone {
		if perr := h.pad(ctx, c, password); perr != nil {
			return false, false, perr
		}
	}
	return ok, rehash, err
}

// pad verifies password against the dummy hash of cost (0: argon2id).
func (h *hasher) pad(ctx context.Context, cost int, password string) error {
	d, err := h.dummy(ctx, cost)
	if err != nil {
		return err
	}
	if cost > 0 && len(password) > bcryptMaxBytes {
		password = password[:bcryptMaxBytes]
	}
	_, _, err = h.verify(ctx, d, password)
	if errors.Is(err, gdprkit.ErrUnavailable) {
		return err
	}
	return nil
}
