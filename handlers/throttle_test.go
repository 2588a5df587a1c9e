package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"cmdash/handlers"
)

func TestRepeatedFailedSignInsAreSlowedDown(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{})
	c := a.client()
	var last *http.Response
	for range 6 {
		last = a.do(c, "POST", "/login", url.Values{"username": {adminUser}, "password": {"guess"}}, nil)
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth failure: %d", last.StatusCode)
	}
	if !strings.Contains(readBody(t, last), "Too many failed sign-ins") {
		t.Error("no clear message")
	}
	// Even the right password waits out the lock.
	if resp := a.do(c, "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}}, nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right password during the lock: %d", resp.StatusCode)
	}
}

func TestParallelGuessesAreThrottledToo(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{})
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", a.srv.URL+"/login", strings.NewReader(url.Values{"username": {adminUser}, "password": {"guess"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := a.client().Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	checked := 0
	for c := range codes {
		if c == http.StatusUnauthorized {
			checked++
		}
	}
	if checked > 5 {
		t.Errorf("%d of 20 parallel guesses reached the password check, want at most 5", checked)
	}
}

func TestFailedSignInsAreCountedPerAddress(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{})
	c := a.client()
	// An address may fail 20 times (people behind one office address mistype
	// too); one spraying usernames is slowed down after that, and signing in
	// to an account of its own on the way does not clear its count.
	for i := range 19 {
		a.do(c, "POST", "/login", url.Values{"username": {"nobody" + strconv.Itoa(i)}, "password": {"guess"}}, nil)
	}
	if resp := a.do(c, "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the right password after 19 failures from the address: %d, want 303", resp.StatusCode)
	}
	a.do(c, "POST", "/login", url.Values{"username": {"nobody19"}, "password": {"guess"}}, nil)
	resp := a.do(c, "POST", "/login", url.Values{"username": {adminUser}, "password": {adminPass}}, nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after 20 failures from one address with 20 usernames: %d, want 429", resp.StatusCode)
	}
	if body := readBody(t, resp); !strings.Contains(body, "Too many failed sign-ins from your address") {
		t.Errorf("the message does not say the address is what is throttled:\n%s", body)
	}
}

// from is a request header naming the client's address, as Fly's proxy does.
func from(ip string) http.Header { return http.Header{"Fly-Client-Ip": {ip}} }

func TestGuessingAPasswordDoesNotLockOutItsUser(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{TrustProxy: true})
	login := func(ip, password string) *http.Response {
		t.Helper()
		return a.do(a.client(), "POST", "/login", url.Values{"username": {adminUser}, "password": {password}}, from(ip))
	}
	// One address guesses the admin's password until it is held back, and
	// three more make five guesses each.
	var last *http.Response
	for range 6 {
		last = login("203.0.113.7", "guess")
	}
	if last.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the sixth guess from one address: %d, want 429", last.StatusCode)
	}
	if body := readBody(t, last); !strings.Contains(body, "Too many failed sign-ins for this user from your address") {
		t.Errorf("the message does not say what is throttled:\n%s", body)
	}
	for _, ip := range []string{"203.0.113.8", "203.0.113.9", "203.0.113.10"} {
		for range 5 {
			login(ip, "guess")
		}
	}

	t.Run("the right password from an address that is not guessing signs in", func(t *testing.T) {
		if resp := login("198.51.100.2", adminPass); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("the admin from a clean address: %d, want 303", resp.StatusCode)
		}
	})
	t.Run("a typo from that address is an ordinary failure", func(t *testing.T) {
		if resp := login("198.51.100.3", "typo"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("one wrong password from a clean address: %d, want 401", resp.StatusCode)
		}
	})
	t.Run("the guessing address still waits, the right password included", func(t *testing.T) {
		if resp := login("203.0.113.7", adminPass); resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("the right password from the guessing address: %d, want 429", resp.StatusCode)
		}
	})
}

func TestAnIPv6HostIsCountedByItsSlash64(t *testing.T) {
	t.Parallel()
	a := newApp(t, handlers.Options{TrustProxy: true})
	login := func(ip, password string) *http.Response {
		t.Helper()
		return a.do(a.client(), "POST", "/login", url.Values{"username": {adminUser}, "password": {password}}, from(ip))
	}
	// A host holding 2001:db8:1:2::/64 guesses from a new address each time.
	for i := range 5 {
		login("2001:db8:1:2::"+strconv.Itoa(i+1), "guess")
	}
	if resp := login("2001:db8:1:2:ffff::6", "guess"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the sixth guess from one /64: %d, want 429", resp.StatusCode)
	}
	if resp := login("2001:db8:1:3::1", adminPass); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the right password from the next /64: %d, want 303", resp.StatusCode)
	}
}
