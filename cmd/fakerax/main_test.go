package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"cmdash/monitoring/fakerax"
	"cmdash/monitoring/fakerax/fakeraxtest"
)

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-accounts", "2", "-servers", "5", "-change", "0", "-rate-limit", "1234"}, pw, io.Discard)
		pw.Close()
	}()

	sc := bufio.NewScanner(pr)
	var identity string
	accounts := map[string]string{}
	for len(accounts) < 2 && sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "identity":
			identity = f[1]
		case len(f) == 3 && f[0] == "account":
			accounts[f[1]] = f[2]
		default:
			t.Fatalf("unexpected line %q", sc.Text())
		}
	}
	go io.Copy(io.Discard, pr)
	if !strings.HasPrefix(identity, "http://127.0.0.1:") || strings.HasSuffix(identity, ":0/v2.0") || !strings.HasSuffix(identity, "/v2.0") {
		t.Fatalf("identity %q", identity)
	}
	if len(accounts) != 2 || len(accounts["account1"]) != 32 {
		t.Fatalf("accounts %v", accounts)
	}

	body := fmt.Sprintf(`{"auth":{"RAX-KSKEY:apiKeyCredentials":{"username":"account2","apiKey":%q}}}`, accounts["account2"])
	resp, err := http.Post(identity+"/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Access struct {
			Token struct {
				ID string `json:"id"`
			} `json:"token"`
			ServiceCatalog []struct {
				Name      string `json:"name"`
				Endpoints []struct {
					PublicURL string `json:"publicURL"`
				} `json:"endpoints"`
			} `json:"serviceCatalog"`
		} `json:"access"`
	}
	err = json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("login: %d %v", resp.StatusCode, err)
	}
	var base string
	for _, c := range v.Access.ServiceCatalog {
		if c.Name == "cloudMonitoring" {
			base = c.Endpoints[0].PublicURL
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/views/overview", nil)
	req.Header.Set("X-Auth-Token", v.Access.Token.ID)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Values []json.RawMessage `json:"values"`
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(page.Values) != 5 {
		t.Fatalf("overview: %d %v, %d values", resp.StatusCode, err, len(page.Values))
	}
	if got := resp.Header.Get("X-RateLimit-Limit"); got != "1234" {
		t.Errorf("-rate-limit 1234: X-RateLimit-Limit %q", got)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"-nope"}, 2},
		{[]string{"-servers", "-1"}, 2},
		{[]string{"-rate-limit", "0"}, 2},
		{[]string{"extra"}, 2},
		{[]string{"-addr", "256.0.0.1:99999"}, 1}, // a flag that parses but cannot serve
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		err := run(context.Background(), tt.args, io.Discard, &stderr)
		if err == nil {
			t.Errorf("%v: no error", tt.args)
			continue
		}
		if code := exitCode(err, &stderr); code != tt.code {
			t.Errorf("%v: exit status %d, want %d", tt.args, code, tt.code)
		}
		if !strings.Contains(stderr.String(), "fakerax: ") && !strings.Contains(stderr.String(), "Usage: fakerax") {
			t.Errorf("%v: stderr says nothing useful: %q", tt.args, stderr.String())
		}
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-h"}, &stdout, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run -h: %v, want flag.ErrHelp", err)
	}
	var reported bytes.Buffer
	if code := exitCode(err, &reported); code != 0 || reported.Len() != 0 {
		t.Errorf("-h exits %d and adds %q, want 0 and nothing", code, reported.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("-h wrote to stdout, where the credentials go: %q", stdout.String())
	}
	usage := stderr.String()

	t.Run("every flag", func(t *testing.T) {
		n := 0
		newFlagSet(new(options), io.Discard).VisitAll(func(f *flag.Flag) {
			n++
			if !regexp.MustCompile(`(?m)^  -` + regexp.QuoteMeta(f.Name) + `\b`).MatchString(usage) {
				t.Errorf("-h does not list -%s", f.Name)
			}
		})
		if n == 0 {
			t.Fatal("no flags defined")
		}
	})

	routeLine := regexp.MustCompile(`(?m)^  (GET|POST) +(/_fake/[a-z_]+)  +\S.*$`)
	listed := map[string]int{}
	for _, m := range routeLine.FindAllStringSubmatch(usage, -1) {
		listed[m[1]+" "+m[2]]++
	}

	t.Run("every admin route the fake serves, one line each", func(t *testing.T) {
		served := adminRoutes(t)
		if len(served) < 8 {
			t.Fatalf("found only %d admin routes in monitoring/fakerax: %v", len(served), served)
		}
		for _, r := range served {
			if listed[r] != 1 {
				t.Errorf("%s is listed on %d lines of -h, want 1", r, listed[r])
			}
		}
	})

	t.Run("no admin route the fake does not serve", func(t *testing.T) {
		fake, ts := fakeraxtest.NewServer(t, fakerax.Config{Accounts: 1, Servers: 1, Alarms: 1})
		user := fake.Accounts()[0].Username
		for r := range listed {
			method, path, _ := strings.Cut(r, " ")
			req, err := http.NewRequest(method, ts.URL+path+"?username="+user, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), "unknown admin route") {
				t.Errorf("-h lists %s, which the fake does not serve", r)
			}
		}
	})
}

// adminRoutes are the "METHOD /_fake/…" cases that monitoring/fakerax
// serves, read from its source.
func adminRoutes(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join("..", "..", "monitoring", "fakerax")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sources in %s: %v", dir, err)
	}
	route := regexp.MustCompile(`^(GET|POST|PUT|PATCH|DELETE) /_fake/`)
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			cc, ok := n.(*ast.CaseClause)
			if !ok {
				return true
			}
			for _, e := range cc.List {
				lit, ok := e.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				if s, err := strconv.Unquote(lit.Value); err == nil && route.MatchString(s) {
					out = append(out, s)
				}
			}
			return true
		})
	}
	return out
}

// TestMainExitStatus runs the command itself: -h exits 0, a bad command
// line 2.
func TestMainExitStatus(t *testing.T) {
	for _, tt := range []struct {
		args string
		code int
	}{{"-h", 0}, {"-help", 0}, {"-nope", 2}, {"-servers -1", 2}} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "FAKERAX_MAIN_ARGS="+tt.args)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.code {
			t.Errorf("fakerax %s: exit status %d, want %d; stderr:\n%s", tt.args, code, tt.code, stderr.String())
		}
		if stdout.Len() != 0 || stderr.Len() == 0 {
			t.Errorf("fakerax %s: stdout %q, stderr %d bytes; want the usage or the error on stderr only", tt.args, stdout.String(), stderr.Len())
		}
	}
}

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("FAKERAX_MAIN_ARGS"); ok {
		os.Args = append([]string{"fakerax"}, strings.Fields(args)...)
		main()
		os.Exit(0) // main exits by itself; serving is not tested this way
	}
	os.Exit(m.Run())
}
