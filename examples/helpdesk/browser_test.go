package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gdprkit/gdprkit/authn"
)

// The browser test drives real headless Chromium through ChromeDriver's W3C
// WebDriver HTTP API with plain net/http, so it adds no dependency.
//
//	apt-get update && apt-get install -y chromium chromium-driver
//	GDPRKIT_SCREENSHOTS=/tmp/shots go test -run Browser ./examples/helpdesk
//	GDPRKIT_DOCS_SCREENSHOTS=1 go test -run Browser ./examples/helpdesk   # refresh docs/*.png
//
// Without Chromium it skips with a message, except in CI (env CI set),
// where it fails.

const webElementKey = "element-6066-11e4-a52e-4f735466cecf"

// findBrowser returns the paths of chromedriver and Chromium, or why not.
func findBrowser() (driver, browser string, why string) {
	driver, err := exec.LookPath("chromedriver")
	if err != nil {
		return "", "", "chromedriver not found in PATH"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return driver, p, ""
		}
	}
	return "", "", "chromium not found in PATH"
}

type wd struct {
	t       *testing.T
	base    string // chromedriver URL
	session string
	shots   string
	n       int
}

func (d *wd) call(method, path string, in any) json.RawMessage {
	d.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, d.base+path, body)
	require.NoError(d.t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(d.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Value json.RawMessage `json:"value"`
	}
	require.NoError(d.t, json.Unmarshal(raw, &out), string(raw))
	require.Equal(d.t, http.StatusOK, resp.StatusCode, "%s %s: %s", method, path, raw)
	return out.Value
}

func (d *wd) s(path string) string { return "/session/" + d.session + path }

func (d *wd) open(url string) {
	d.t.Helper()
	d.call("POST", d.s("/url"), map[string]string{"url": url})
}

func (d *wd) find(css string) string {
	d.t.Helper()
	var el map[string]string
	require.NoError(d.t, json.Unmarshal(d.call("POST", d.s("/element"), map[string]string{"using": "css selector", "value": css}), &el))
	return el[webElementKey]
}

func (d *wd) typeInto(css, text string) {
	d.t.Helper()
	d.call("POST", d.s("/element/"+d.find(css)+"/value"), map[string]string{"text": text})
}

func (d *wd) click(css string) {
	d.t.Helper()
	d.call("POST", d.s("/element/"+d.find(css)+"/click"), map[string]any{})
}

func (d *wd) text(css string) string {
	d.t.Helper()
	var s string
	require.NoError(d.t, json.Unmarshal(d.call("GET", d.s("/element/"+d.find(css)+"/text"), nil), &s))
	return s
}

func (d *wd) source() string {
	d.t.Helper()
	var s string
	require.NoError(d.t, json.Unmarshal(d.call("GET", d.s("/source"), nil), &s))
	return s
}

// shot saves a screenshot of the current page as NN-name.png, and also
// to extra paths (the docs).
func (d *wd) shot(name string, extra ...string) {
	d.t.Helper()
	var b64 string
	require.NoError(d.t, json.Unmarshal(d.call("GET", d.s("/screenshot"), nil), &b64))
	png, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(d.t, err)
	d.n++
	for _, p := range append([]string{filepath.Join(d.shots, fmt.Sprintf("%02d-%s.png", d.n, name))}, extra...) {
		require.NoError(d.t, os.WriteFile(p, png, 0o644))
	}
}

// waitFor polls the page source until it contains s.
func (d *wd) waitFor(s string, timeout time.Duration) string {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		src := d.source()
		if strings.Contains(src, s) {
			return src
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("page never showed %q; last page:\n%s", s, src)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startBrowser starts chromedriver and a headless Chromium session.
func startBrowser(t *testing.T) *wd {
	driver, chromium, why := findBrowser()
	if why != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser test: %s; CI must install chromium and chromium-driver", why)
		}
		t.Skipf("browser test skipped: %s (install with: apt-get update && apt-get install -y chromium chromium-driver)", why)
	}
	port := freePort(t)
	cmd := exec.Command(driver, fmt.Sprintf("--port=%d", port), "--allowed-ips=127.0.0.1", "--log-level=WARNING")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	d := &wd{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(d.base + "/status")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		require.True(t, time.Now().Before(deadline), "chromedriver did not start")
		time.Sleep(100 * time.Millisecond)
	}
	profile := t.TempDir()
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{"binary": chromium, "args": []string{
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + profile,
			"--window-size=1280,1000", "--force-device-scale-factor=1",
		}},
	}}}
	var sess struct {
		SessionID string `json:"sessionId"`
	}
	require.NoError(t, json.Unmarshal(d.call("POST", "/session", caps), &sess))
	d.session = sess.SessionID
	t.Cleanup(func() { d.call("DELETE", d.s(""), nil) })
	d.shots = os.Getenv("GDPRKIT_SCREENSHOTS")
	if d.shots == "" {
		dir, err := os.MkdirTemp("", "gdprkit-screenshots-")
		require.NoError(t, err)
		d.shots = dir
	}
	require.NoError(t, os.MkdirAll(d.shots, 0o755))
	t.Logf("screenshots in %s", d.shots)
	return d
}

func TestBrowserEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	d := startBrowser(t)
	e := newEnv(t, false)
	// A real listener on localhost, with the workers running as main runs them.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.app.RunWorkers(ctx)
	srv := httptest.NewServer(e.app)
	t.Cleanup(srv.Close)
	base := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	var docs []string
	if os.Getenv("GDPRKIT_DOCS_SCREENSHOTS") != "" {
		require.NoError(t, os.MkdirAll("../../docs", 0o755))
		docs = []string{"../../docs/inbox.png", "../../docs/erasure-preview.png"}
	}
	docPath := func(i int) []string {
		if docs == nil {
			return nil
		}
		return []string{docs[i]}
	}

	// 1. An agent logs in with a password.
	d.open(base + "/login")
	d.typeInto("#username", agentUser)
	d.typeInto("#password", agentPass)
	d.click("#login")
	d.waitFor("<h1>Inbox</h1>", 10*time.Second)
	d.shot("logged-in")

	// 2. …enrols TOTP, computing the code from the secret on the page.
	d.open(base + "/security")
	d.click("#setup-totp")
	d.waitFor(`id="qr"`, 10*time.Second)
	d.shot("totp-qr")
	key, err := authn.DecodeSecret(d.text("#totp-secret"))
	require.NoError(t, err)
	d.typeInto("#code", authn.TOTP(key, e.clock.Now(), authn.TOTPParams{}))
	d.click("#confirm-totp")
	d.waitFor(`id="recovery-codes"`, 10*time.Second)
	d.shot("recovery-codes")

	// 3. …and logs in again, now with a code.
	e.clock.Advance(30 * time.Second)
	d.click("#relogin")
	d.typeInto("#username", agentUser)
	d.typeInto("#password", agentPass)
	d.click("#login")
	d.waitFor(`name="challenge"`, 10*time.Second)
	d.typeInto("#code", authn.TOTP(key, e.clock.Now(), authn.TOTPParams{}))
	d.shot("totp-code")
	d.click("#verify")
	d.waitFor("<h1>Inbox</h1>", 10*time.Second)

	// 4. A customer writes through the contact form with an attachment.
	file := filepath.Join(t.TempDir(), "order-4711.txt")
	require.NoError(t, os.WriteFile(file, []byte("Order 4711 for Zoe Zimmermann, Lindenstrasse 5"), 0o644))
	d.open(base + "/contact")
	d.typeInto("#name", "Zoe Zimmermann")
	d.typeInto("#email", "zoe@example.org")
	d.typeInto("#subject", "Where is order 4711?")
	d.typeInto("#message", "Hello, my order 4711 has not arrived yet. Could you check where it is? Thanks, Zoe")
	d.typeInto("#file", file)
	d.click(`input[name="consent.support"]`)
	d.shot("contact-form")
	d.click("#send")
	d.waitFor(`id="thanks"`, 10*time.Second)
	d.shot("contact-sent")
	var zoe string
	require.NoError(t, e.db.QueryRow("SELECT id FROM hd_users WHERE email = 'zoe@example.org'").Scan(&zoe))
	files := e.files()
	require.Len(t, files, 2, "Carla's invoice and Zoe's upload")

	// 5. The inbox shows verdicts and clues; the agent marks the prize
	// ticket as spam.
	d.open(base + "/inbox")
	src := d.waitFor("Where is order 4711?", 10*time.Second)
	assert.Contains(t, src, `class="clue"`)
	d.shot("inbox", docPath(0)...)
	d.click("#spam-3")
	d.waitFor("Marked as spam", 10*time.Second)
	d.shot("marked-spam")
	assert.Equal(t, 1, e.count("SELECT COUNT(*) FROM hd_tickets WHERE id = 3 AND status = 'spam'"))

	// 6. The privacy page: preview Zoe's erasure, run it, read the receipt.
	d.open(base + "/privacy")
	d.click("#erase-" + zoe)
	src = d.waitFor("Dry run for", 10*time.Second)
	assert.Contains(t, src, "<strong>blob</strong>")
	d.shot("erasure-preview", docPath(1)...)
	d.click("#erase-run")
	src = d.waitFor(`id="receipt"`, 20*time.Second)
	assert.Contains(t, src, `id="job-status">done`)
	d.shot("receipt")

	// 7. Zoe is gone from the pages and from the database.
	for _, page := range []string{"/inbox", "/privacy"} {
		d.open(base + page)
		src = d.source()
		assert.NotContains(t, src, "Zoe", page)
		assert.NotContains(t, src, "4711", page)
	}
	d.shot("after-erasure")
	d.open(base + "/account")
	d.waitFor(`id="state">trial`, 10*time.Second)
	d.shot("account")
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_users WHERE id = ? OR email LIKE '%zoe%' OR name LIKE '%Zoe%'", zoe))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_tickets WHERE subject LIKE '%4711%' OR requester_name LIKE '%Zoe%'"))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_messages WHERE body LIKE '%4711%'"))
	assert.Zero(t, e.count("SELECT COUNT(*) FROM hd_attachments WHERE filename LIKE '%4711%'"))
	assert.Equal(t, []string{files[0]}, e.files(), "only Carla's invoice is left on disk")
	if len(files) > 1 {
		_, err := os.Stat(files[1])
		assert.True(t, os.IsNotExist(err), "Zoe's upload is deleted")
	}
	assert.Regexp(t, regexp.MustCompile(`intact \(1 receipts\)`), func() string { d.open(base + "/privacy"); return d.source() }())
}
