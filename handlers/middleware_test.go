package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cmdash/handlers"
	"cmdash/monitoring"
	"cmdash/monitoring/fakerax"
)

func TestEveryRouteNeedsASignIn(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{}, fakerax.AccountSpec{Username: "acct", Servers: 3, Alarms: 2})
	acct, _ := a.store.AccountByUsername(context.Background(), "acct")
	srvID := a.fake.Entities("acct")[0].ID
	id := "/accounts/" + itoa(acct.ID)
	routes := []struct{ method, path string }{
		{"GET", "/"}, {"GET", id}, {"GET", id + "/servers/" + srvID}, {"POST", id + "/refresh"},
		{"GET", "/settings"}, {"POST", "/settings/accounts"}, {"POST", "/settings/accounts/" + itoa(acct.ID)},
		{"GET", "/settings/accounts/" + itoa(acct.ID) + "/delete"}, {"POST", "/settings/accounts/" + itoa(acct.ID) + "/delete"},
		{"POST", "/filters"}, {"POST", "/filters/1/delete"}, {"GET", "/settings/access"}, {"POST", "/settings/users"},
		{"POST", "/settings/tokens"}, {"POST", "/settings/password"},
		{"GET", "/api/v1/"}, {"GET", "/api/v1/accounts"}, {"POST", "/api/v1/accounts"}, {"DELETE", "/api/v1/accounts"},
		{"GET", "/api/v1/monitors"}, {"GET", "/api/v1/monitors/acct"}, {"GET", "/api/v1/monitors/acct/" + srvID},
		{"GET", "/api/v1/filters"}, {"POST", "/api/v1/filters"}, {"DELETE", "/api/v1/filters"}, {"GET", "/api/v1/events"}, {"GET", "/metrics"},
		{"POST", id + "/servers/" + srvID + "/acks"}, {"POST", "/acks/1/delete"},
		{"GET", "/api/v1/acks"}, {"POST", "/api/v1/acks"}, {"DELETE", "/api/v1/acks"},
		{"GET", "/no/such/page"},
	}
	for _, public := range []bool{false, true} {
		a := a
		if public {
			a = newApp(t, handlers.Options{PublicDashboard: true}, fakerax.AccountSpec{Username: "acct", Servers: 3, Alarms: 2})
		}
		for _, rt := range routes {
			name := rt.method + " " + rt.path
			if public {
				name = "public dashboard: " + name
			}
			t.Run(name, func(t *testing.T) {
				resp := a.do(a.client(), rt.method, rt.path, url.Values{}, nil)
				readOnlyView := rt.method == "GET" && (rt.path == "/" || strings.HasPrefix(rt.path, "/accounts/") || rt.path == "/no/such/page")
				if public && readOnlyView {
					if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
						t.Errorf("read-only view with PUBLIC_DASHBOARD: %d", resp.StatusCode)
					}
					return
				}
				switch {
				case strings.HasPrefix(rt.path, "/api/") || rt.path == "/metrics":
					if resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("status %d, want 401", resp.StatusCode)
					}
					var env map[string]string
					if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env["response"] != "error" {
						t.Errorf("API 401 body is not the error envelope: %v %v", env, err)
					}
				case rt.method == "GET":
					if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
						t.Errorf("status %d location %q, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
					}
				default:
					if resp.StatusCode != http.StatusUnauthorized {
						t.Errorf("status %d, want 401", resp.StatusCode)
					}
				}
			})
		}
	}
}

func TestAnExpiredSessionSendsHtmxToTheLoginPage(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{})
	resp := a.do(a.client(), "GET", "/?q=web", nil, http.Header{"Hx-Request": {"true"}, "Hx-Current-Url": {a.srv.URL + "/?q=web"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d", resp.StatusCode)
	}
	if got := resp.Header.Get("HX-Redirect"); got != "/login?next=%2F%3Fq%3Dweb" {
		t.Errorf("HX-Redirect = %q", got)
	}
	if body := readBody(t, resp); strings.Contains(body, "<form") {
		t.Error("a login form was sent to be pasted into the grid")
	}
}

func TestRemovedUsersAndChangedPasswordsEndSessions(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{})
	ctx := context.Background()
	if _, err := a.store.CreateUser(ctx, "mallory", "mallory's password", monitoring.Admin); err != nil {
		t.Fatal(err)
	}
	mallory := a.client()
	if resp := a.do(mallory, "POST", "/login", url.Values{"username": {"mallory"}, "password": {"mallory's password"}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("mallory cannot sign in")
	}
	admin := a.signedIn()
	other := a.signedIn() // the admin on a second screen

	u, _ := a.store.UserByName(ctx, "mallory")
	if resp := a.do(admin, "POST", "/settings/users/"+itoa(u.ID)+"/delete", url.Values{}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove mallory: %d", resp.StatusCode)
	}
	if resp := a.do(mallory, "GET", "/settings", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a removed user's session still opens settings: %d", resp.StatusCode)
	}

	resp := a.do(admin, "POST", "/settings/password", url.Values{"current": {adminPass}, "password": {"a brand new password"}, "confirm": {"a brand new password"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change password: %d %s", resp.StatusCode, readBody(t, resp))
	}
	if resp := a.do(admin, "GET", "/settings", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the session that changed the password was signed out: %d", resp.StatusCode)
	}
	if resp := a.do(other, "GET", "/settings", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another session survived the password change: %d", resp.StatusCode)
	}
}
