// Command quickstart is gdprkit in one page: it opens an embedded SQLite
// database in a temporary file, migrates it, defines a consent purpose,
// serves a pre-chat form on a local test server, submits it like a visitor
// would, checks the consent, withdraws it, verifies the hash chain and
// prints the proof of consent. Run it with:
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // embedded, pure-Go SQLite driver

	"github.com/gdprkit/gdprkit"
	"github.com/gdprkit/gdprkit/consent"
	"github.com/gdprkit/gdprkit/store/sqlstore"
)

const account = gdprkit.AccountID("acme-helpdesk")

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer) error {
	step := func(format string, args ...any) { fmt.Fprintf(out, "==> "+format+"\n", args...) }

	dir, err := os.MkdirTemp("", "gdprkit-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dbPath := filepath.Join(dir, "gdprkit.db")
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(dbPath))
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	step("opened SQLite at %s and applied the gdpr_ migrations", dbPath)

	// A real host keeps this key in its secret store; it must stay stable.
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	ps, err := gdprkit.NewPseudonymizer(key)
	if err != nil {
		return err
	}
	audit := &gdprkit.MemoryAudit{}
	svc, err := consent.New(consent.Config{Store: st.Consent(), Pseudonymizer: ps, Audit: audit})
	if err != nil {
		return err
	}

	if _, err := svc.DefinePurpose(ctx, account, consent.Purpose{Key: "live-chat", Name: "Live-chat support",
		Label: "I agree that my chat is stored so an agent can answer me."}); err != nil {
		return err
	}
	pol, err := svc.PublishPolicy(ctx, account, "live-chat", "We keep chat transcripts for 12 months, then delete them. You can withdraw at any time.", false, "owner")
	if err != nil {
		return err
	}
	step("defined purpose %q and published policy version %d (sha256 %s…)", "live-chat", pol.Version, pol.TextHash[:12])

	// The host's pre-chat form, with gdprkit rendering the consent box and
	// recording the grant.
	pc := &consent.PreChat{Consent: svc, Purposes: []string{"live-chat"}, Required: []string{"live-chat"}}
	page := template.Must(template.New("form").Parse(`<form method="post">
<input name="email" type="email" required>
{{.}}
<button>Start chat</button>
</form>`))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /chat", func(w http.ResponseWriter, r *http.Request) {
		fields, err := pc.Fields(r.Context(), account)
		if err != nil {
			http.Error(w, "unavailable", http.StatusInternalServerError)
			return
		}
		_ = page.Execute(w, fields)
	})
	mux.HandleFunc("POST /chat", func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		ip, _ := netip.ParseAddr(host)
		rs, err := pc.Record(r.Context(), account, r, consent.Submission{Subject: gdprkit.SubjectID(r.PostFormValue("email")), IP: ip})
		if err != nil {
			http.Error(w, "please tick the consent box", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "chat started; consent record #%d", rs[0].Seq)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/chat")
	if err != nil {
		return err
	}
	form, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	step("GET /chat rendered the pre-chat form:\n%s", indent(string(form)))

	resp, err = http.PostForm(srv.URL+"/chat", url.Values{"email": {"ana@example.com"}, "consent.live-chat": {"yes"}, "consent.live-chat.version": {"1"}})
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	step("POST /chat as a visitor who ticked the box: %s %q", resp.Status, body)

	status, err := svc.Check(ctx, account, "ana@example.com", "live-chat")
	if err != nil {
		return err
	}
	step("Check(ana@example.com, live-chat) = %s", status)

	if _, err := svc.Withdraw(ctx, account, consent.Decision{Subject: "ana@example.com", Purpose: "live-chat", Source: consent.SourcePortal}); err != nil {
		return err
	}
	status, _ = svc.Check(ctx, account, "ana@example.com", "live-chat")
	step("withdrew consent with one call; Check = %s", status)

	res, err := svc.Verify(ctx, account)
	if err != nil {
		return err
	}
	step("verified the account's hash chain: %d records, head %s…", res.Records, res.Head.Hash[:12])

	proof, err := svc.ExportProof(ctx, account, "ana@example.com")
	if err != nil {
		return err
	}
	if err := consent.VerifyProof(proof); err != nil {
		return err
	}
	js, _ := json.MarshalIndent(proof, "    ", "  ")
	step("proof of consent (Art. 7(1)), verified on its own:\n    %s", js)
	step("%d audit events recorded (no e-mail address in any of them)", len(audit.Events()))
	return nil
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}
