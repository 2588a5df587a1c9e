package handlers_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"cmdash/handlers"
	"cmdash/monitoring/fakerax"
)

type eventsAnswer struct {
	Response string           `json:"response"`
	Message  string           `json:"message"`
	Data     []map[string]any `json:"data"`
	More     bool             `json:"more"`
}

func TestAPIEvents(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{},
		fakerax.AccountSpec{Username: "prod", Servers: 4, Alarms: 2},
		fakerax.AccountSpec{Username: "stage", Servers: 3, Alarms: 2})
	c := a.signedIn()
	ctx := context.Background()
	// One forced change per account, each seen by a poll.
	change := func(username string, n int) (entity, alarm, from, to string) {
		t.Helper()
		e := a.fake.Entities(username)[n]
		for _, al := range e.Alarms {
			if al.State != "" && !al.Disabled {
				to = "CRITICAL"
				if al.State == to {
					to = "OK"
				}
				if err := a.fake.SetState(username, e.ID, al.ID, to); err != nil {
					t.Fatal(err)
				}
				acct, _ := a.store.AccountByUsername(ctx, username)
				if err := a.poller.Poll(ctx, acct.ID); err != nil {
					t.Fatal(err)
				}
				return e.ID, al.ID, al.State, to
			}
		}
		t.Fatalf("%s has no evaluated alarm on entity %d", username, n)
		return
	}
	ent, al, from, to := change("prod", 0)
	change("stage", 1)
	change("prod", 2)

	t.Run("since=0 lists every change oldest first in the success envelope", func(t *testing.T) {
		resp := a.do(c, "GET", "/api/v1/events?since=0", nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		env := decode[eventsAnswer](t, resp)
		if env.Response != "success" || len(env.Data) != 3 || env.More {
			t.Fatalf("answer %+v", env)
		}
		e := env.Data[0]
		want := map[string]any{"account": "prod", "kind": "state", "from": from, "to": to}
		for k, v := range want {
			if e[k] != v {
				t.Errorf("%s = %v, want %v", k, e[k], v)
			}
		}
		if srv, _ := e["server"].(map[string]any); srv["id"] != ent || srv["label"] == "" {
			t.Errorf("server = %v", e["server"])
		}
		if alarm, _ := e["alarm"].(map[string]any); alarm["id"] != al {
			t.Errorf("alarm = %v", e["alarm"])
		}
		for _, k := range []string{"id", "at", "recorded_at"} {
			if v, ok := e[k].(float64); !ok || v <= 0 {
				t.Errorf("%s = %v", k, e[k])
			}
		}
		if e["at"].(float64) < 1e12 {
			t.Errorf("at = %v, want milliseconds", e["at"])
		}
		if env.Data[1]["account"] != "stage" || env.Data[0]["id"].(float64) >= env.Data[2]["id"].(float64) {
			t.Errorf("not oldest first: %v", env.Data)
		}
	})

	t.Run("paging forward from the last recorded_at neither skips nor repeats", func(t *testing.T) {
		var ids []float64
		since := "0"
		for range 5 {
			env := decode[eventsAnswer](t, a.do(c, "GET", "/api/v1/events?limit=1&since="+since, nil, nil))
			for _, e := range env.Data {
				ids = append(ids, e["id"].(float64))
				since = strconv.FormatInt(int64(e["recorded_at"].(float64)), 10)
			}
			if !env.More {
				break
			}
		}
		if len(ids) != 3 || ids[0] >= ids[1] || ids[1] >= ids[2] {
			t.Errorf("paged through %v", ids)
		}
		env := decode[eventsAnswer](t, a.do(c, "GET", "/api/v1/events?since="+since, nil, nil))
		if len(env.Data) != 0 || env.More || env.Data == nil {
			t.Errorf("after the last: %+v, want an empty list", env)
		}
	})

	t.Run("without since: the newest, oldest first", func(t *testing.T) {
		env := decode[eventsAnswer](t, a.do(c, "GET", "/api/v1/events?limit=2", nil, nil))
		if len(env.Data) != 2 || env.Data[0]["account"] != "stage" || env.Data[1]["account"] != "prod" || env.More {
			t.Errorf("answer %+v", env)
		}
	})

	t.Run("account narrows to one account", func(t *testing.T) {
		env := decode[eventsAnswer](t, a.do(c, "GET", "/api/v1/events?since=0&account=stage", nil, nil))
		if len(env.Data) != 1 || env.Data[0]["account"] != "stage" {
			t.Errorf("answer %+v", env)
		}
	})

	errs := []struct {
		query  string
		status int
		says   string
	}{
		{"since=yesterday", 400, "'since' must be a time in Unix milliseconds"},
		{"since=-5", 400, "'since' must be a time in Unix milliseconds"},
		{"since=1700000000", 400, "looks like seconds"},
		{"since=1.7e12", 400, "'since' must be"},
		{"limit=0", 400, "'limit' must be a whole number from 1 to 1000"},
		{"limit=1001", 400, "from 1 to 1000"},
		{"limit=ten", 400, "'limit' must be"},
		{"since=0&account=nobody", 404, "No account with this username"},
	}
	for _, tt := range errs {
		t.Run(tt.query+" is refused in the error envelope", func(t *testing.T) {
			resp := a.do(c, "GET", "/api/v1/events?"+tt.query, nil, nil)
			env := decode[eventsAnswer](t, resp)
			if resp.StatusCode != tt.status || env.Response != "error" || !strings.Contains(env.Message, tt.says) {
				t.Errorf("%d %+v, want %d saying %q", resp.StatusCode, env, tt.status, tt.says)
			}
		})
	}

	t.Run("without a session or token it is 401, and POST is 405", func(t *testing.T) {
		resp := a.do(a.client(), "GET", "/api/v1/events?since=0", nil, nil)
		if env := decode[eventsAnswer](t, resp); resp.StatusCode != http.StatusUnauthorized || env.Response != "error" || len(env.Data) != 0 {
			t.Errorf("%d %+v", resp.StatusCode, env)
		}
		if resp := a.do(c, "POST", "/api/v1/events", nil, nil); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST: %d", resp.StatusCode)
		}
	})

	t.Run("the API index lists the route", func(t *testing.T) {
		if body := readBody(t, a.do(c, "GET", "/api/v1/", nil, nil)); !strings.Contains(body, "GET /api/v1/events") {
			t.Errorf("index: %s", body)
		}
	})
}
