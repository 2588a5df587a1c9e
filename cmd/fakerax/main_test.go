package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-accounts", "2", "-servers", "5", "-change", "0"}, pw)
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
	for _, args := range [][]string{{"-nope"}, {"-servers", "-1"}, {"extra"}, {"-addr", "256.0.0.1:99999"}} {
		if err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
