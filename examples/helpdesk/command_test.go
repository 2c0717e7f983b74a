package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunServesTLSAndPrintsDemoLogins starts the command as a user would,
// with -tls, and checks what it prints and how it answers.
func TestRunServesTLSAndPrintsDemoLogins(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	db := filepath.Join(t.TempDir(), "hd.db")
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-tls", "-db", db}, pw); pw.Close() }()
	sc := bufio.NewScanner(pr)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if regexp.MustCompile(`contact form:`).MatchString(sc.Text()) {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	require.NotEmpty(t, lines)
	url := regexp.MustCompile(`on (https://localhost:\d+)`).FindStringSubmatch(lines[0])
	require.NotNil(t, url, lines[0])
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	assert.Contains(t, out, "username owner  password "+ownerPass)
	assert.Contains(t, out, "username agent  password "+agentPass)
	assert.Contains(t, out, "/portal/login?t=")
	assert.Contains(t, out, "/demo")

	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // self-signed
	resp, err := c.Get(url[1] + "/login")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Strict-Transport-Security"), "max-age=")
	require.NotEmpty(t, resp.Cookies())
	assert.True(t, resp.Cookies()[0].Secure)
	assert.Equal(t, "localhost", resp.TLS.PeerCertificates[0].DNSNames[0])

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}

// With -demo=false (the README's production-style invocation) an empty
// database is still seeded with the publicly known demo owner/agent logins.
func TestNonDemoModeDoesNotSeedKnownPasswords(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	db := filepath.Join(t.TempDir(), "prod.db")
	t.Chdir(t.TempDir())
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-demo=false", "-db", db}, pw); pw.Close() }()
	sc := bufio.NewScanner(pr)
	out := ""
	for sc.Scan() {
		out += sc.Text() + "\n"
		if strings.Contains(sc.Text(), "contact form:") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	cancel()
	<-done
	assert.NotContains(t, out, ownerPass, "a non-demo install must not get the hard-coded demo owner password")
	assert.NotContains(t, out, agentPass)
	assert.Regexp(t, `owner .* username owner  password [a-z2-7]{24}\n`, out)
}
